// nslab's command line (command_line.hpp): the subcommands, their options and checks.

#include "command_line.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string_view>
#include <utility>

#include "nslab/diff.hpp"    // default_masks_text
#include "nslab/matrix.hpp"  // kTcgTimeScale
#include "nslab/suggest.hpp"

namespace nslab::cli {

namespace {

constexpr int kOk = 0;
constexpr int kSetup = 2;

// --time-scale: a finite number in [0.1, 100] (CLI::Range lets NaN through: every comparison
// with it is false).
CLI::Validator time_scale_range() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        double v = 0;
        try {
          std::size_t used = 0;
          v = std::stod(text, &used);
          if (used != text.size()) return "not a number: " + text;
        } catch (const std::exception&) {
          return "not a number: " + text;
        }
        if (!std::isfinite(v) || v < 0.1 || v > 100.0)
          return fmt::format("{} is not a number in [0.1, 100]", text);
        return {};
      },
      "FLOAT in [0.1, 100]");
}

// An option given once per value: `--label ipv6 PATH` must leave PATH a path.
void repeatable(CLI::Option* option) {
  option->expected(1)->allow_extra_args(false)->multi_option_policy(
      CLI::MultiOptionPolicy::TakeAll);
}

// The subcommands' options, each into the arguments its body gets.
void add_validate(CLI::App& app, std::vector<std::string>& files) {
  CLI::App* sub = app.add_subcommand(
      "validate",
      "Parse and validate topology and scenario files without touching the kernel (no "
      "privileges).");
  sub->add_option("PATH", files, "topology or scenario files, or folders (every *.yaml below)")
      ->required();
}

// `graph` and `up`: a subcommand of one topology file.
void add_topology_command(CLI::App& app, const char* name, const char* description,
                          std::string& file) {
  app.add_subcommand(name, description)->add_option("TOPOLOGY", file, "topology file")->required();
}

void add_exec(CLI::App& app, ExecArgs& a) {
  CLI::App* sub = app.add_subcommand(
      "exec",
      "Build a topology, run one command inside NODE with stdio passed through, tear down, and "
      "exit with the command's status (128+N if it died of signal N; 127 if not found).");
  sub->add_option("TOPOLOGY", a.topology, "topology file")->required();
  sub->add_option("NODE", a.node, "node to run in")->required();
  sub->add_option("CMD", a.command, "command and its arguments, after --")->required();
  sub->add_flag("-v,--verbose", a.verbose, "report build time and stragglers on stderr");
  sub->footer("Example: nslab exec topologies/router-lowmtu.yaml client -- ping -c1 10.0.2.1");
}

void add_run(CLI::App& app, RunArgs& a) {
  CLI::App* sub = app.add_subcommand(
      "run",
      "Run scenarios: each in a fresh lab, steps in order, expectations checked. PATH is a "
      "scenario file or a folder (searched recursively); none: the bundled scenarios.");
  sub->add_option("PATH", a.paths, "scenario files or folders");
  sub->add_option("--junit", a.junit, "write JUnit XML here (one testcase per scenario)");
  sub->add_option("--json", a.json, "write every scenario, step, record and verdict as JSON");
  sub->add_option("--filter", a.filter, "run scenarios whose path or name matches this regex");
  repeatable(
      sub->add_option("--label", a.labels, "run scenarios carrying this label (repeatable)"));
  repeatable(
      sub->add_option("--probes", a.probes,
                      "a folder of probes, searched before the bundled ones (repeatable; the "
                      "bundled ones: $NSLAB_PROBES, or those installed or built beside nslab)"));
  sub->add_option("--capture", a.capture, "write a pcap per interface here; kept for failures");
  sub->add_flag("--capture-all", a.capture_all, "keep the pcaps of passing scenarios too");
  sub->add_flag("--keep", a.keep, "hold a failed scenario's lab until SIGINT/SIGTERM");
  sub->add_flag("-v,--verbose", a.verbose, "one line per step");
  sub->add_flag("--tap", a.tap, "TAP 14 on stdout, as the kernel's selftests print it");
  sub->add_option("--shard", a.shard,
                  "run part I of N (I/N, I from 0): scenario k in path order is in part k mod N; "
                  "else GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS or TEST_SHARD_INDEX/"
                  "TEST_TOTAL_SHARDS");
  sub->add_option("-j,--jobs", a.jobs,
                  "run N scenarios at a time, each in its own lab; the report keeps the input "
                  "order (scenarios labelled sigio still run one at a time)")
      ->check(CLI::Range(1, 256));
  sub->add_option("--time-scale", a.time_scale,
                  "multiply every bound (scenario and step timeouts, the lab's readiness wait) "
                  "by this: for slow machines, such as a kernel under emulation")
      ->check(time_scale_range());
  sub->add_flag("--progress", a.progress,
                "the [n/N] counter on every line even when stdout is no terminal");
  sub->add_flag("--list", a.list,
                "list the scenarios that would run (path, name, labels, requires), run nothing; "
                "with --json FILE also as JSON");
  sub->footer(
      "Exit status: 0 all passed, 1 a scenario failed or a file is invalid, 2 setup, "
      "77 everything was skipped.");
}

void add_version(CLI::App& app) {
  app.add_subcommand("version", "Print nslab's version, the kernel's and the libraries'.");
}

void add_kinds(CLI::App& app, std::vector<std::string>& kinds) {
  CLI::App* sub = app.add_subcommand(
      "kinds",
      "Print the key reference of the interfaces a node creates and of the root qdiscs, from "
      "the kinds' own tables: how each kind is written, its keys with their values and which "
      "are required, whether a bridge takes it and whether the kernel deletes it with its lower "
      "device.");
  sub->add_option("KIND", kinds, "only these kinds (vxlan, gretap, netem, ...)");
  sub->footer("Exit status: 0, or 2 for a kind nslab does not know.");
}

void add_diff(CLI::App& app, DiffArgs& a) {
  CLI::App* sub = app.add_subcommand(
      "diff",
      "Compare two --json reports of the same scenarios (two kernels, two commits, two "
      "machines): verdicts that changed, and per step the record fields that changed. Exit 0 "
      "when nothing changed, 1 otherwise, 2 when a report cannot be read or is not one of "
      "nslab's (the message says which field). Masked by default: " +
          default_masks_text() + "; and each scenario's own `volatile` fields and records.");
  sub->add_option("A", a.a, "the first report (FILE, or FILE@LABEL of a matrix report)")
      ->required();
  sub->add_option("B", a.b, "the second report")->required();
  sub->add_option("--ignore", a.ignore, "mask this field too (repeatable)");
  sub->add_option("--json", a.json,
                  "also write the differences as JSON to FILE, every one of them (the printed "
                  "list shows at most 8 per step)");
}

void add_matrix(CLI::App& app, MatrixArgs& a) {
  CLI::App* sub = app.add_subcommand(
      "matrix",
      "Run the same scenarios on several Linux kernels, each booted in QEMU with this machine's "
      "root file system shared read-only (so the same nslab, probes and libraries run inside), "
      "and show a scenario x kernel table of verdicts, then the diff of the observations against "
      "the first kernel (or --baseline). Kernels come from Debian's linux-image packages, "
      "downloaded on first use and unpacked into $XDG_CACHE_HOME/nslab/kernels "
      "(~/.cache/nslab/kernels; about 110 MB for 6.12 and 400 MB for 6.1 unpacked), never "
      "installed.");
  repeatable(
      sub->add_option("--kernel", a.kernels,
                      "a kernel: a short version (6.1, 6.12: the newest linux-image-V*-amd64 apt "
                      "knows), a package name, a path to an unpacked kernel, or host (this one, "
                      "without QEMU); repeatable, in the table's order")
          ->required());
  sub->add_option("PATH", a.paths, "scenario files or folders (none: the bundled scenarios)");
  sub->add_option("--filter", a.filter, "as for run");
  repeatable(sub->add_option("--label", a.labels, "as for run (repeatable)"));
  repeatable(sub->add_option("--probes", a.probes, "as for run (repeatable)"));
  sub->add_option("-j,--jobs", a.jobs, "as for run, inside each kernel")->check(CLI::Range(1, 256));
  sub->add_flag("-v,--verbose", a.verbose, "one line per step");
  sub->add_option("--time-scale", a.time_scale,
                  fmt::format("multiply every bound in the guests by this (default: {} under "
                              "software emulation, 1 under KVM and on the host)",
                              matrix::kTcgTimeScale))
      ->check(time_scale_range());
  sub->add_option("--boot-timeout", a.boot_bound,
                  "seconds a kernel may take to boot to its userland (default 60)")
      ->check(CLI::Range(5, 3600));
  sub->add_option("--ignore", a.ignore, "mask this field in the diff too (repeatable)");
  sub->add_option("--baseline", a.baseline,
                  "diff every other kernel against this one, named as in --kernel (default: "
                  "the first)");
  sub->add_option("--json", a.json, "write every kernel's facts and report as one JSON file");
  sub->add_option("--junit", a.junit, "write JUnit XML, one testsuite per kernel");
  sub->footer(
      "Exit status: 0 all passed or skipped on every kernel, 1 a scenario failed, 2 setup (a "
      "kernel could not be fetched or booted). Nothing is left behind: QEMU dies with nslab, "
      "and the result shares live in a private tmpfs.");
}

// A first word that is no subcommand: says so, with the closest one when it is close.
bool is_known_subcommand(CLI::App& app, const std::string& word) {
  std::vector<std::string_view> names;
  for (const auto* sub : app.get_subcommands({})) {
    if (sub->get_name() == word) return true;
    names.push_back(sub->get_name());
  }
  const std::string best = nslab::closest_word(word, names);
  fmt::print(stderr, "nslab: '{}' is not a command{}; see nslab --help\n", word,
             best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best));
  return false;
}

}  // namespace

int run_command_line(int argc, char** argv, const CommandBodies& bodies) {
  CLI::App app{
      "nslab: a network-namespace integration test lab for Linux.\n"
      "Builds YAML topologies in fresh network namespaces and runs programs inside."};
  app.set_version_flag("--version", bodies.version_text);
  app.require_subcommand(1);
  app.fallthrough(false);
  std::vector<std::string> validate_paths;
  std::string graph_file, up_file;
  ExecArgs exec;
  RunArgs run;
  DiffArgs diff;
  MatrixArgs matrix;
  add_validate(app, validate_paths);
  add_topology_command(app, "graph", "Print a topology as Graphviz DOT (dot -Tsvg to draw).",
                       graph_file);
  add_exec(app, exec);
  add_topology_command(
      app, "up",
      "Build a topology and hold it until SIGINT/SIGTERM, printing a command per node that opens "
      "a shell inside it. Tears everything down on exit.",
      up_file);
  add_run(app, run);
  add_version(app);
  std::vector<std::string> kinds;
  add_kinds(app, kinds);
  add_diff(app, diff);
  add_matrix(app, matrix);
  if (argc > 1 && argv[1][0] != '-' && !is_known_subcommand(app, argv[1])) return kSetup;
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
  if (app.got_subcommand("validate")) return bodies.validate(validate_paths);
  if (app.got_subcommand("graph")) return bodies.graph(graph_file);
  if (app.got_subcommand("exec")) return bodies.exec(exec);
  if (app.got_subcommand("up")) return bodies.up(up_file);
  if (app.got_subcommand("run")) return bodies.run(run);
  if (app.got_subcommand("version")) return bodies.version();
  if (app.got_subcommand("kinds")) return bodies.kinds(kinds);
  if (app.got_subcommand("diff")) return bodies.diff(diff);
  if (app.got_subcommand("matrix")) return bodies.matrix(matrix);
  return kSetup;
}

std::optional<Shard> parse_shard(const std::string& flag, std::string& error) {
  auto number = [](const std::string& text, long& out) {
    if (text.empty() || text.size() > 6 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    out = std::stol(text);
    return true;
  };
  Shard sh;
  std::string index, total;
  if (!flag.empty()) {
    auto slash = flag.find('/');
    index = flag.substr(0, slash);
    total = slash == std::string::npos ? "" : flag.substr(slash + 1);
  } else {
    for (auto [i, t] : {std::pair{"GTEST_SHARD_INDEX", "GTEST_TOTAL_SHARDS"},
                        {"TEST_SHARD_INDEX", "TEST_TOTAL_SHARDS"}}) {
      const char* iv = std::getenv(i);
      const char* tv = std::getenv(t);
      if (iv && tv) {
        index = iv;
        total = tv;
        break;
      }
    }
    if (index.empty()) return sh;
  }
  if (!number(index, sh.index) || !number(total, sh.total) || sh.total < 1 ||
      sh.index >= sh.total) {
    error = fmt::format("shard '{}/{}': want I/N with 0 <= I < N", index, total);
    return std::nullopt;
  }
  return sh;
}

}  // namespace nslab::cli
