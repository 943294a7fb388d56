#pragma once
// nslab's command line: every subcommand, its options and their checks, and nothing that runs a
// command. What each subcommand does is a body the caller hands in (CommandBodies): main() gives
// the real ones (cmd_*.cpp), the command-line fuzz target (lab/fuzz/cli_fuzz.cpp) gives bodies
// that check what the parse let through. So the whole grammar is parsed, checked and fuzzed
// without the layers that build labs.

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nslab::cli {

struct ExecArgs {
  std::string topology;
  std::string node;
  std::vector<std::string> command;
  bool verbose = false;
};

struct RunArgs {
  std::vector<std::string> paths;
  std::string junit, json, filter, capture, shard;
  std::vector<std::string> labels, probes;
  bool verbose = false, capture_all = false, keep = false, list = false, tap = false;
  bool progress = false;
  int jobs = 1;             // [1, 256]
  double time_scale = 1.0;  // finite, [0.1, 100]
};

struct MatrixArgs {
  std::vector<std::string> kernels, paths, labels, probes, ignore;
  std::string filter, json, junit;
  std::string baseline;  // the kernel the others are diffed against (default: the first)
  int jobs = 1;
  bool verbose = false;
  double time_scale = 0;  // 0: 1 under KVM and on the host, kTcgTimeScale under emulation
  int boot_bound = 60;    // seconds, [5, 3600]
};

struct DiffArgs {
  std::string a, b, json;
  std::vector<std::string> ignore;
};

// What each subcommand does, given what its command line said; each returns the exit status.
struct CommandBodies {
  std::function<int(const std::vector<std::string>& paths)> validate;
  std::function<int(const std::string& topology)> graph;
  std::function<int(const ExecArgs&)> exec;
  std::function<int(const std::string& topology)> up;
  std::function<int(const RunArgs&)> run;
  std::function<int()> version;
  std::function<int(const std::vector<std::string>& kinds)> kinds;
  std::function<int(const DiffArgs&)> diff;
  std::function<int(const MatrixArgs&)> matrix;
  // `--version` and `version`: nslab's version and the components' (cmd_version.cpp).
  std::function<std::string()> version_text;
};

// Parses argv and runs the body of the subcommand it names. A command line that ends before any
// body runs (--help, --version, a usage error, an unknown subcommand) prints what CLI11 prints
// and returns 0 (help, version) or 2 (usage). Throws only what a body throws.
int run_command_line(int argc, char** argv, const CommandBodies& bodies);

// --shard I/N (I from 0), else GTEST_SHARD_INDEX/GTEST_TOTAL_SHARDS or
// TEST_SHARD_INDEX/TEST_TOTAL_SHARDS from the environment: which part of the scenarios this
// process runs (scenario k in path order is in part k mod N). nullopt, with `error` set, when
// the flag or the variables are not I/N with 0 <= I < N.
struct Shard {
  long index = 0, total = 1;
};
std::optional<Shard> parse_shard(const std::string& flag, std::string& error);

}  // namespace nslab::cli
