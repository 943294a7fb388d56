// nslab: build network-namespace labs from YAML and run things in them.

#include <fmt/format.h>

#include <exception>

#include "command_line.hpp"
#include "commands.hpp"

// Whatever still escapes a command is a bug of nslab's: say so and exit 2, never abort.
int main(int argc, char** argv) {
  try {
    using namespace nslab::cli;
    return run_command_line(argc, argv,
                            {.validate = run_validate,
                             .graph = run_graph,
                             .exec = run_exec,
                             .up = run_up,
                             .run = run_scenarios,
                             .version = run_version,
                             .kinds = run_kinds,
                             .diff = run_diff,
                             .matrix = run_matrix,
                             .version_text = version_text});
  } catch (const std::exception& e) {
    fmt::print(stderr, "nslab: internal error: {}\n", e.what());
  } catch (...) {
    fmt::print(stderr, "nslab: internal error: an unknown exception\n");
  }
  return nslab::cli::kSetup;
}
