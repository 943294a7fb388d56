#include <fmt/format.h>

#include <memory>

#include "commands.hpp"
#include "nslab/graph.hpp"

namespace nslab::cli {

Command add_graph(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("graph", "Print a topology as Graphviz DOT (dot -Tsvg to draw).");
  sub->add_option("TOPOLOGY", *file, "topology file")->required();
  return [file] {
    auto t = load_topology_or_report(*file);
    if (!t) return kFailed;
    fmt::print("{}", topology_dot(*t));
    return kOk;
  };
}

}  // namespace nslab::cli
