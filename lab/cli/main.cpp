// nslab: build network-namespace labs from YAML and run things in them.

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "nslab/suggest.hpp"

namespace {

int run_main(int argc, char** argv) {
  using namespace nslab::cli;
  CLI::App app{
      "nslab: a network-namespace integration test lab for Linux.\n"
      "Builds YAML topologies in fresh network namespaces and runs programs inside."};
  app.set_version_flag("--version", [] { return version_text(); });
  app.require_subcommand(1);
  app.fallthrough(false);
  Command validate = add_validate(app);
  Command graph = add_graph(app);
  Command exec = add_exec(app);
  Command up = add_up(app);
  Command run = add_run(app);
  Command version = add_version(app);
  Command diff = add_diff(app);
  Command matrix = add_matrix(app);
  // A first word that is no subcommand: the closest one, when it is close.
  if (argc > 1 && argv[1][0] != '-') {
    std::string word = argv[1];
    std::string best;
    std::size_t best_d = 3;  // at most two edits away
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) {
      if (sub->get_name() == word) known = true;
      if (std::size_t d = nslab::edit_distance(word, sub->get_name()); d < best_d) {
        best_d = d;
        best = sub->get_name();
      }
    }
    if (!known) {
      fmt::print(stderr, "nslab: '{}' is not a command{}; see nslab --help\n", word,
                 best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best));
      return kSetup;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // `nslab exec t n ping -c 1 x`: the command's options were taken for nslab's.
    bool has_separator =
        std::any_of(argv, argv + argc, [](const char* a) { return std::string_view(a) == "--"; });
    if (rc != 0 && argc > 1 && std::string_view(argv[1]) == "exec" && !has_separator)
      fmt::print(stderr,
                 "nslab: put -- before the command, so that its options stay its own: "
                 "nslab exec TOPOLOGY NODE -- COMMAND...\n");
    return rc == 0 ? kOk : kSetup;
  }
  for (auto [name, command] : {std::pair{"run", &run},
                               {"validate", &validate},
                               {"graph", &graph},
                               {"exec", &exec},
                               {"up", &up},
                               {"version", &version},
                               {"diff", &diff},
                               {"matrix", &matrix}}) {
    if (app.got_subcommand(name)) return (*command)();
  }
  return kSetup;
}

}  // namespace

// Whatever still escapes a command is a bug of nslab's: say so and exit 2, never abort.
int main(int argc, char** argv) {
  try {
    return run_main(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(stderr, "nslab: internal error: {}\n", e.what());
  } catch (...) {
    fmt::print(stderr, "nslab: internal error: an unknown exception\n");
  }
  return nslab::cli::kSetup;
}
