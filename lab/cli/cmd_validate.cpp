#include <fmt/format.h>

#include <memory>
#include <vector>

#include "commands.hpp"
#include "nslab/load.hpp"
#include "nslab/scenario.hpp"

namespace nslab::cli {

Command add_validate(CLI::App& app) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto* sub = app.add_subcommand(
      "validate",
      "Parse and validate topology and scenario files without touching the kernel (no "
      "privileges).");
  sub->add_option("PATH", *files, "topology or scenario files, or folders (every *.yaml below)")
      ->required();
  return [files] {
    bool bad = false;
    auto found = yaml_files(*files, bad);
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
  };
}

}  // namespace nslab::cli
