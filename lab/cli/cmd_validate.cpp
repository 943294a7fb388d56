#include <fmt/format.h>

#include <memory>
#include <vector>

#include "commands.hpp"

namespace nslab::cli {

Runner add_validate(CLI::App& app) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto* sub = app.add_subcommand(
      "validate", "Parse and validate topology files without touching the kernel (no privileges).");
  sub->add_option("FILE", *files, "topology files")->required();
  return [files] {
    int rc = kOk;
    for (const auto& f : *files) {
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
