// The event loop and the reporting helpers every step kind shares (see execution.hpp).

#include "execution.hpp"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>

#include "nslab/error.hpp"

namespace nslab::exec {

namespace {

int ms_until(Clock::time_point t) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

std::string tail(const std::string& text, int lines) {
  std::size_t pos = text.size();
  if (pos && text[pos - 1] == '\n') --pos;
  for (int n = 0; n < lines && pos != std::string::npos && pos > 0; ++n)
    pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

}  // namespace

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::chrono::milliseconds scaled(std::chrono::milliseconds d, double scale) {
  return std::chrono::milliseconds(
      static_cast<std::int64_t>(static_cast<double>(d.count()) * scale));
}

Clock::time_point ScenarioState::step_deadline(const StepSpec& st) const {
  auto d = Clock::now() +
           scaled(st.timeout ? st.timeout->value : kDefaultStepTimeout, options.time_scale);
  return std::min(d, deadline);
}

std::string ScenarioState::timeout_reason(const StepSpec& st, Clock::time_point at) const {
  if (at == deadline)
    return fmt::format("scenario timed out after {} ms",
                       scaled(scenario.timeout, options.time_scale).count());
  return fmt::format(
      "timed out after {} ms",
      scaled(st.timeout ? st.timeout->value : kDefaultStepTimeout, options.time_scale).count());
}

void ScenarioState::sync(const Live& l) {
  StepOutcome& o = out.steps[l.index];
  o.records = l.proc.records();
  o.stdout_text = l.proc.stdout_text();
  o.stderr_text = l.proc.stderr_text();
  o.exit_status = l.proc.exit_status();
  o.signal = l.proc.term_signal();
  o.signal_ours = o.signal && l.proc.signalled() && (*o.signal == SIGTERM || *o.signal == SIGKILL);
  if (auto stream = l.proc.overflowed(); stream && o.passed) {
    o.passed = false;
    o.reason = fmt::format(
        "{} exceeds {} bytes (nslab keeps at most that much of a step's output); the step was "
        "killed",
        *stream, kMaxOutputBytes);
  }
}

bool ScenarioState::serve_once(int timeout_ms) {
  std::vector<std::vector<pollfd>> per(live.size());
  std::vector<pollfd> fds;
  for (std::size_t i = 0; i < live.size(); ++i) {
    per[i] = live[i]->proc.fds();
    fds.insert(fds.end(), per[i].begin(), per[i].end());
  }
  fds.push_back({signals.fd(), POLLIN, 0});
  int n = poll(fds.data(), fds.size(), timeout_ms);
  if (n < 0 && errno == EINTR) return true;
  if (n < 0) throw_errno("poll", errno);
  if ((fds.back().revents & POLLIN) && signals.take()) {
    interrupted = true;
    return false;
  }
  std::size_t at = 0;
  for (std::size_t i = 0; i < live.size(); ++i) {
    std::vector<pollfd> mine(fds.begin() + static_cast<long>(at),
                             fds.begin() + static_cast<long>(at + per[i].size()));
    at += per[i].size();
    live[i]->proc.handle(mine);
  }
  return true;
}

bool ScenarioState::pump(Clock::time_point until, const std::function<bool()>& done) {
  for (;;) {
    if (done()) return true;
    if (interrupted) return false;
    int left = ms_until(until);
    if (left == 0) return done();
    if (!serve_once(left)) return false;
  }
}

void ScenarioState::count_records(std::map<const Live*, std::size_t>& into) {
  // What is already in the pipes counts as before this moment: taken in without waiting.
  if (!interrupted) serve_once(0);
  into.clear();
  for (const auto& l : live) into[l.get()] = l->proc.records().size();
}

void ScenarioState::mark_acting_step() {
  count_records(marks);
}

void ScenarioState::mark_step_end() {
  count_records(end_marks);
}

std::size_t ScenarioState::wait_from(const Live& l, StepSpec::Since since) const {
  if (since == StepSpec::Since::start) return 0;
  const auto& m = since == StepSpec::Since::action ? marks : end_marks;
  auto it = m.find(&l);
  return it == m.end() ? 0 : it->second;
}

void ScenarioState::add_closest(StepOutcome& o, const Json& pattern) {
  std::vector<std::pair<int, const Json*>> scored;
  for (const auto& r : o.records) scored.push_back({match_score(pattern, r), &r});
  std::stable_sort(scored.begin(), scored.end(),
                   [](auto& a, auto& b) { return a.first > b.first; });
  if (scored.empty()) {
    o.details.push_back("  (no records)");
  } else {
    o.details.push_back("  closest records:");
    for (std::size_t i = 0; i < scored.size() && i < 3; ++i)
      o.details.push_back("    " + scored[i].second->dump());
  }
  if (!o.stderr_text.empty()) {
    o.details.push_back("  stderr tail:");
    std::string t = tail(o.stderr_text, 5);
    std::size_t p = 0;
    while (p < t.size()) {
      auto nl = t.find('\n', p);
      o.details.push_back("    " + t.substr(p, nl - p));
      if (nl == std::string::npos) break;
      p = nl + 1;
    }
  }
}

void ScenarioState::expectation_failed(StepOutcome& o, const std::string& why,
                                       const Json* pattern) {
  if (o.passed) {
    o.reason = why;
    if (!o.expect_kernel.empty())
      o.details.push_back(fmt::format("(the expectation for kernel {}, this is {})",
                                      o.expect_kernel, running_kernel_release()));
  } else
    o.details.push_back("also: " + why);
  o.passed = false;
  if (pattern) add_closest(o, *pattern);
}

std::string text_tail(const std::string& text, int lines) {
  std::string t = tail(text, lines);
  // A quote in a reason is for people: one megabyte-long line would bury the report.
  constexpr std::size_t kMaxQuote = 1000;
  if (t.size() <= kMaxQuote) return t;
  std::size_t cut = t.size() - kMaxQuote;
  while (cut < t.size() && (static_cast<unsigned char>(t[cut]) & 0xC0) == 0x80) ++cut;  // UTF-8
  return fmt::format("[{} bytes before] ", cut) + t.substr(cut);
}

std::string shown(const Json& record) {
  std::string d = record.dump(-1, ' ', false, Json::error_handler_t::replace);
  constexpr std::size_t kMaxShown = 2000;
  if (d.size() <= kMaxShown) return d;
  std::size_t keep = kMaxShown;
  while (keep > 0 && (static_cast<unsigned char>(d[keep]) & 0xC0) == 0x80) --keep;
  return fmt::format("{}... [{} more bytes]", d.substr(0, keep), d.size() - keep);
}

}  // namespace nslab::exec
