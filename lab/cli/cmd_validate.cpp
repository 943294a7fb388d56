#include <fmt/format.h>

#include <vector>

#include "commands.hpp"
#include "nslab/load.hpp"
#include "nslab/scenario.hpp"

namespace nslab::cli {

int run_validate(const std::vector<std::string>& paths) {
  bool bad = false;
  auto found = yaml_files(paths, bad);
  int rc = bad ? kFailed : kOk;
  for (const auto& f : found) {
    if (is_scenario_file(f)) {
      try {
        Scenario s = load_scenario_file(f);
        fmt::print("{}: ok (scenario {}: {} steps on topology {})\n", f, s.name, s.steps.size(),
                   s.topology.name);
      } catch (const InputError& e) {
        for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", d.str());
        rc = kFailed;
      }
      continue;
    }
    auto t = load_topology_or_report(f);
    if (!t) {
      rc = kFailed;
      continue;
    }
    fmt::print("{}: ok (topology {}: {} nodes, {} links)\n", f, t->name, t->nodes.size(),
               t->links.size());
  }
  return rc;
}

}  // namespace nslab::cli
