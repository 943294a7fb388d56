#include "nslab/captured.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "nslab/error.hpp"
#include "nslab/lab.hpp"
#include "nslab/match.hpp"

namespace nslab {

CapturedProcess::CapturedProcess(const Lab& lab, const std::string& node,
                                 const std::vector<std::string>& argv)
    : proc_(NodeProcess::spawn(lab.node(node).netns(), argv,
                               {.inherit_stdio = false,
                                .capture = true,
                                .own_process_group = true,
                                .pids = lab.pids()})) {}

std::vector<pollfd> CapturedProcess::fds() const {
  std::vector<pollfd> out;
  if (proc_.stdout_fd() >= 0) out.push_back({proc_.stdout_fd(), POLLIN, 0});
  if (proc_.stderr_fd() >= 0) out.push_back({proc_.stderr_fd(), POLLIN, 0});
  if (!exited_) out.push_back({proc_.pidfd(), POLLIN, 0});
  return out;
}

void CapturedProcess::handle(const std::vector<pollfd>& polled) {
  for (const auto& p : polled) {
    if (!p.revents) continue;
    if (p.fd == proc_.pidfd() && !exited_)
      reap();
    else if (p.fd == proc_.stdout_fd())
      read_from(true);
    else if (p.fd == proc_.stderr_fd())
      read_from(false);
  }
}

void CapturedProcess::kill_group(int sig) {
  if (exited_) return;
  signalled_ = true;
  proc_.signal_group(sig);
  if (sig == SIGKILL) reap();
}

void CapturedProcess::take_line(std::string line) {
  out_ += line + "\n";
  if (!line.empty() && line.front() == '{') {
    // A line nested deeper than a record may be stays text (see kMaxRecordDepth).
    auto j = parse_json_bounded(line, kMaxRecordDepth);
    if (j.is_object()) records_.push_back(std::move(j));
  }
}

bool CapturedProcess::read_from(bool is_stdout) {
  int fd = is_stdout ? proc_.stdout_fd() : proc_.stderr_fd();
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      std::size_t& kept = kept_[is_stdout ? 0 : 1];
      kept += static_cast<std::size_t>(n);
      if (kept > kMaxOutputBytes) {
        if (!overflowed_) overflowed_ = is_stdout ? "stdout" : "stderr";
        if (!exited_) proc_.signal_group(SIGKILL);  // reaped through its pidfd as usual
        if (is_stdout) {
          partial_.clear();
          proc_.close_stdout();
        } else {
          proc_.close_stderr();
        }
        return false;
      }
      if (!is_stdout) {
        err_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      partial_.append(buf, static_cast<std::size_t>(n));
      for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n')) {
        take_line(partial_.substr(0, nl));
        partial_.erase(0, nl + 1);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (is_stdout) {
      if (!partial_.empty()) take_line(std::move(partial_));
      partial_.clear();
      proc_.close_stdout();
    } else {
      proc_.close_stderr();
    }
    return false;
  }
}

void CapturedProcess::reap() {
  int st = proc_.wait();
  exit_status_ = exit_status_of(st);
  if (WIFSIGNALED(st)) term_signal_ = WTERMSIG(st);
  exited_ = true;
  // What it wrote before exiting is in the pipes; a child of its own may keep them open, so take
  // what is there now rather than waiting for end of file.
  if (proc_.stdout_fd() >= 0) read_from(true);
  if (proc_.stderr_fd() >= 0) read_from(false);
  if (!partial_.empty()) take_line(std::move(partial_));
  partial_.clear();
  proc_.close_stdout();
  proc_.close_stderr();
}

std::vector<nlohmann::ordered_json> ProbeResult::events(const std::string& event) const {
  std::vector<nlohmann::ordered_json> out;
  for (const auto& r : records)
    if (r.value("event", "") == event) out.push_back(r);
  return out;
}

ProbeResult run_in_node(Lab& lab, const std::string& node, const std::vector<std::string>& argv,
                        std::chrono::milliseconds timeout) {
  CapturedProcess p(lab, node, argv);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (!p.exited()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      p.kill_group(SIGKILL);
      timed_out = true;
      break;
    }
    auto fds = p.fds();
    int n = poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) throw_errno("poll", errno);
    if (n > 0) p.handle(fds);
  }
  return result_of(p, timed_out);
}

ProbeResult result_of(const CapturedProcess& p, bool timed_out) {
  ProbeResult r;
  r.timed_out = timed_out;
  r.exit_status = timed_out ? std::nullopt : p.exit_status();
  r.overflowed = p.overflowed();
  r.records = p.records();
  r.stdout_text = p.stdout_text();
  r.stderr_text = p.stderr_text();
  return r;
}

}  // namespace nslab
