#pragma once
// A process in a node whose output is collected: stdout lines that are JSON objects become
// records, everything is kept as text too. The owner drives it from its own poll loop (fds()),
// or waits for it alone (run_in_node).

#include <poll.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nslab/process.hpp"

namespace nslab {

class Lab;

// What nslab keeps of one process's stdout, and of its stderr. A process that writes more is
// killed (with its group) and its step fails saying so: output never exhausts nslab's memory.
inline constexpr std::size_t kMaxOutputBytes = 16u << 20;

class CapturedProcess {
 public:
  // Spawns argv in `node` of `lab` with stdin from /dev/null, stdout/stderr captured, own process
  // group, in the lab's PID namespace.
  CapturedProcess(const Lab& lab, const std::string& node, const std::vector<std::string>& argv);

  // The fds to poll now (stdout, stderr while open; the pidfd until reaped).
  std::vector<pollfd> fds() const;
  // Handles poll results for the fds() it returned.
  void handle(const std::vector<pollfd>& polled);
  // Kills the whole group with `sig` and, for SIGKILL, reaps it.
  void kill_group(int sig);

  bool exited() const { return exited_; }
  std::optional<int> exit_status() const { return exit_status_; }  // code, or 128 + signal
  // The signal that ended it, when one did (exit_status() is then 128 + it).
  std::optional<int> term_signal() const { return term_signal_; }
  // Whether the owner signalled its group (kill_group) before it ended: a SIGTERM or SIGKILL
  // that ended it was then the owner's, not a crash.
  bool signalled() const { return signalled_; }
  const std::vector<nlohmann::ordered_json>& records() const { return records_; }
  const std::string& stdout_text() const { return out_; }
  const std::string& stderr_text() const { return err_; }
  // "stdout" or "stderr" when that stream passed kMaxOutputBytes (the process was then killed).
  std::optional<std::string> overflowed() const { return overflowed_; }

 private:
  bool read_from(bool is_stdout);
  void take_line(std::string line);
  void reap();

  NodeProcess proc_;
  std::string partial_, out_, err_;
  std::vector<nlohmann::ordered_json> records_;
  bool exited_ = false;
  std::optional<int> exit_status_;
  std::optional<int> term_signal_;
  bool signalled_ = false;
  std::size_t kept_[2] = {0, 0};  // bytes read from stdout, stderr
  std::optional<std::string> overflowed_;
};

// What one program run in a node reported.
struct ProbeResult {
  std::optional<int> exit_status;  // none when it timed out (and was killed)
  bool timed_out = false;
  std::optional<std::string> overflowed;  // "stdout"/"stderr": more than kMaxOutputBytes
  std::vector<nlohmann::ordered_json> records;
  std::string stdout_text, stderr_text;
  // Records with this "event", in order.
  std::vector<nlohmann::ordered_json> events(const std::string& event) const;
};

// What `p` has reported so far; `timed_out`: it was killed at its deadline (no exit status).
ProbeResult result_of(const CapturedProcess& p, bool timed_out);

// Runs argv inside `node` until it exits or `timeout` passes (then its group is killed).
ProbeResult run_in_node(Lab& lab, const std::string& node, const std::vector<std::string>& argv,
                        std::chrono::milliseconds timeout);

}  // namespace nslab
