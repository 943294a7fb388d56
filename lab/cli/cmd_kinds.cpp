// nslab kinds [KIND...]: the key reference of the interfaces a node creates and of the root
// qdiscs, from the kinds' own tables (nslab/interface_kinds.hpp, nslab/qdisc_kinds.hpp), so that
// it is never other than what the loader reads.

#include <fmt/format.h>

#include "commands.hpp"
#include "nslab/interface_kinds.hpp"
#include "nslab/qdisc_kinds.hpp"
#include "nslab/suggest.hpp"

namespace nslab::cli {

int run_kinds(const std::vector<std::string>& kinds) {
  // Every kind's reference, by name, in the registries' order: the interfaces, then the qdiscs.
  std::vector<std::pair<std::string, std::string>> all;
  for (const auto* k : interface_kinds()) all.emplace_back(k->name(), interface_kind_reference(*k));
  for (const auto* k : qdisc_kinds()) all.emplace_back(k->name(), qdisc_kind_reference(*k));
  std::vector<std::string_view> names;
  for (const auto& [kind, text] : all) names.push_back(kind);
  std::vector<const std::string*> shown;
  for (const auto& name : kinds) {
    const std::string* found = nullptr;
    for (const auto& [kind, text] : all)
      if (name == kind) found = &text;
    if (!found) {
      const std::string closest = closest_word(name, names);
      fmt::print(stderr, "nslab: kinds: no kind '{}'{}\n", name,
                 closest.empty() ? "" : fmt::format(" (did you mean '{}'?)", closest));
      return kSetup;
    }
    shown.push_back(found);
  }
  if (kinds.empty())
    for (const auto& [kind, text] : all) shown.push_back(&text);
  for (std::size_t i = 0; i < shown.size(); ++i) fmt::print("{}{}", i ? "\n" : "", *shown[i]);
  return kOk;
}

}  // namespace nslab::cli
