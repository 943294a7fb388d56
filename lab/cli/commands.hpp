#pragma once
// What the subcommands of `nslab` do: their bodies (cmd_*.cpp), given the arguments their
// command line (command_line.hpp) parsed, and the helpers they share (common.cpp).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "nslab/topology.hpp"
#include "nslab/unique_fd.hpp"

namespace nslab {
class Lab;
}

namespace nslab::cli {

// Exit codes of SPEC section 1.
inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;  // a scenario failed, or an input file is invalid
inline constexpr int kSetup = 2;   // usage, or the lab could not be set up
inline constexpr int kSkipped = 77;

int run_validate(const std::vector<std::string>& paths);
int run_graph(const std::string& topology);
int run_exec(const ExecArgs& a);
int run_up(const std::string& topology);
int run_scenarios(const RunArgs& a);
int run_version();
int run_kinds(const std::vector<std::string>& kinds);
int run_diff(const DiffArgs& a);
int run_matrix(const MatrixArgs& a);
// "nslab 0.1.0" and one line per component (kernel, libraries): `version` and `--version`.
std::string version_text();

// A report file the user asked for: checked before anything runs, then written whole at the end
// into an unnamed file in its folder and renamed into place, so a run never ends with a
// half-written report, a killed one leaves no temporary file, and one that cannot be written is
// an error, not silence. Only a regular file (or nothing) at the path is replaced.
class ReportFile {
 public:
  ReportFile(const char* option, std::string path) : option_(option), path_(std::move(path)) {}
  bool wanted() const { return !path_.empty(); }
  // Opens the unnamed file; false (after saying why) when the report could not be written.
  bool prepare();
  bool write(const std::string& text);

 private:
  bool fail(const std::string& why);
  const char* option_;
  std::string path_;
  std::string name_;  // the file's name in its folder
  UniqueFd dir_fd_;   // the folder, held from prepare() on
  UniqueFd fd_;       // the unnamed file (O_TMPFILE); none where the filesystem has none
};

// Shared helpers (common.cpp).
// The files named, and every *.yaml under the folders named (recursively, sorted); a path that
// does not exist is reported on stderr and sets `bad`.
std::vector<std::string> yaml_files(const std::vector<std::string>& paths, bool& bad);
// After a file failed to load as a scenario (`wanted_scenario`) or a topology: when it is plainly
// the other kind (its top-level keys say so), says so on stderr.
void hint_if_other_kind(const std::string& path, bool wanted_scenario);
// Loads and validates a topology; prints every diagnostic to stderr and returns nullopt if invalid.
std::optional<Topology> load_topology_or_report(const std::string& path);
// Runs `body`, turning exceptions into a message on stderr and an exit code: an error that points
// into a YAML file is the user's input (1), anything else is setup (2).
int guarded(const std::function<int()>& body);
// Prints, for every node of `lab`, an nsenter command that opens a shell inside it.
void print_shell_commands(Lab& lab, bool own_userns);
// Enters a user namespace when not root; must run before any thread starts.
bool acquire_privileges_or_report();

}  // namespace nslab::cli
