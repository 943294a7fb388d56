#include <fmt/format.h>

#include "commands.hpp"
#include "nslab/graph.hpp"

namespace nslab::cli {

int run_graph(const std::string& file) {
  auto t = load_topology_or_report(file);
  if (!t) return kFailed;
  fmt::print("{}", topology_dot(*t));
  return kOk;
}

}  // namespace nslab::cli
