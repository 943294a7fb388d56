// nslab kinds [KIND...]: the key reference of the interfaces a node creates, from the kinds'
// own tables (nslab/interface_kinds.hpp), so that it is never other than what the loader reads.

#include <fmt/format.h>

#include "commands.hpp"
#include "nslab/interface_kinds.hpp"
#include "nslab/suggest.hpp"

namespace nslab::cli {

int run_kinds(const std::vector<std::string>& kinds) {
  std::vector<const InterfaceKind*> shown;
  for (const auto& name : kinds) {
    const InterfaceKind* found = nullptr;
    std::string closest;
    std::size_t best = 3;  // at most two edits away
    for (const auto* k : interface_kinds()) {
      if (name == k->name()) found = k;
      if (std::size_t d = edit_distance(name, k->name()); d < best) best = d, closest = k->name();
    }
    if (!found) {
      fmt::print(stderr, "nslab: kinds: no interface kind '{}'{}\n", name,
                 closest.empty() ? "" : fmt::format(" (did you mean '{}'?)", closest));
      return kSetup;
    }
    shown.push_back(found);
  }
  if (kinds.empty()) shown = interface_kinds();
  for (std::size_t i = 0; i < shown.size(); ++i)
    fmt::print("{}{}", i ? "\n" : "", interface_kind_reference(*shown[i]));
  return kOk;
}

}  // namespace nslab::cli
