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
  std::vector<const std::string*> shown;
  for (const auto& name : kinds) {
    const std::string* found = nullptr;
    std::string closest;
    std::size_t best = 3;  // at most two edits away
    for (const auto& [kind, text] : all) {
      if (name == kind) found = &text;
      if (std::size_t d = edit_distance(name, kind); d < best) best = d, closest = kind;
    }
    if (!found) {
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
