// nslab: build network-namespace labs from YAML and run things in them.

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "commands.hpp"

namespace {

// The edit distance between two words (for "did you mean").
std::size_t distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

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
  // A first word that is no subcommand: the closest one, when it is close.
  if (argc > 1 && argv[1][0] != '-') {
    std::string word = argv[1];
    std::string best;
    std::size_t best_d = 3;  // at most two edits away
    bool known = false;
    for (const auto* sub : app.get_subcommands({})) {
      if (sub->get_name() == word) known = true;
      if (std::size_t d = distance(word, sub->get_name()); d < best_d) {
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
    return rc == 0 ? kOk : kSetup;
  }
  for (auto [name, command] : {std::pair{"run", &run},
                               {"validate", &validate},
                               {"graph", &graph},
                               {"exec", &exec},
                               {"up", &up},
                               {"version", &version}}) {
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
