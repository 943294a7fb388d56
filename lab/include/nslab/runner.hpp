#pragma once
// Runs a scenario in a fresh lab: steps in order, background processes alongside, every wait
// bounded by the step's and the scenario's timeout. Reporters format its outcome.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nslab/scenario.hpp"

namespace nslab {

class SignalWatch;
class Lab;
struct ScenarioOutcome;

struct RunOptions {
  std::vector<std::string> probe_dirs;  // where probe short names are found, in this order
  bool verbose = false;
  std::string capture_dir;   // a pcap per interface when set
  bool capture_all = false;  // keep captures of passing scenarios too
  // Every bound (scenario and step timeouts, the lab's readiness wait) times this: a machine
  // that runs slower, such as a kernel under software emulation (`nslab matrix`), gets longer.
  double time_scale = 1.0;
  // Called with a failed scenario's lab before it is torn down (`--keep` holds it there).
  std::function<void(Lab&, const ScenarioOutcome&)> on_failed_lab;
};

struct StepOutcome {
  std::string name;
  std::string kind;  // run, background, change, wait
  std::string node;
  std::string command;  // expanded
  bool ran = false;
  bool passed = true;
  bool skipped = false;              // a probe that cannot run here (exit 77); `reason` says why
  std::string reason;                // why it failed: "timed out after 5000 ms", ...
  std::vector<std::string> details;  // expected / closest records / stderr tail
  std::vector<Json> records;
  std::string stdout_text, stderr_text;
  std::optional<int> exit_status;  // exit code, or 128 + signal
  std::optional<int> signal;       // the signal that ended it, when one did
  bool signal_ours = false;        // nslab sent it (the end of a background step)
  bool probe = false;              // the program is one of the probes (exit 77 = cannot run here)
  std::string expect_kernel;       // the kernel range of the alternative of expect that applied
  double ms = 0;
};

// invalid: the file could not be loaded (its errors are in ScenarioOutcome::diagnostics).
enum class Verdict { passed, failed, skipped, invalid };
inline const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::passed:
      return "passed";
    case Verdict::failed:
      return "failed";
    case Verdict::skipped:
      return "skipped";
    case Verdict::invalid:
      return "invalid";
  }
  return "?";
}
// The verdict as the console and the matrix's table show it: PASS, FAIL, SKIP, INVALID.
inline const char* verdict_tag(Verdict v) {
  switch (v) {
    case Verdict::passed:
      return "PASS";
    case Verdict::failed:
      return "FAIL";
    case Verdict::skipped:
      return "SKIP";
    case Verdict::invalid:
      return "INVALID";
  }
  return "?";
}

struct ScenarioOutcome {
  std::string file;
  std::string name;
  std::vector<std::string> labels;
  std::vector<Json> volatile_;  // the scenario's `volatile`, for `nslab diff`
  Verdict verdict = Verdict::passed;
  std::string reason;  // skip reason, or the first failure
  // Failed because this machine could not set the lab up (no position in the file, or a kind
  // of interface the kernel lacks and the scenario did not require): exit 2, not 1.
  bool setup_failed = false;
  std::vector<StepOutcome> steps;
  std::vector<std::string> captures;     // pcap files kept
  std::vector<std::string> diagnostics;  // an invalid file's errors, FILE:LINE:COL: message
  double build_ms = 0;
  double ms = 0;
};

// Why `scenario` cannot run here (an unmet `requires`), or nullopt.
std::optional<std::string> unmet_requirement(const Scenario& scenario);

// Runs scenarios, one lab each. Several threads may call run() at once (`nslab run -j N`): each
// scenario has its own lab and its own state; what they share (the capture folders made, the
// interruption) is guarded here. With several threads, give it a latching SignalWatch, so that
// one termination signal stops every scenario, not only the one whose thread read it.
class Runner {
 public:
  Runner(RunOptions options, SignalWatch& signals)
      : options_(std::move(options)), signals_(signals) {}
  ScenarioOutcome run(const Scenario& scenario);
  bool interrupted() const { return interrupted_; }

  // The capture folders this runner made (a name is never reused), shared by its threads.
  struct Captures {
    std::mutex mutex;
    std::set<std::string> made;
  };

 private:
  RunOptions options_;
  SignalWatch& signals_;
  std::atomic<bool> interrupted_{false};
  Captures captures_;
};

}  // namespace nslab
