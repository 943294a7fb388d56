// The scenario runner. One event loop (poll) serves every live process of a scenario: their
// stdout becomes records line by line, their exit is seen on a pidfd, termination signals on a
// signalfd; every wait ends on an event or at its deadline, never after a sleep.

#include "nslab/runner.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "../build/apply.hpp"
#include "change_step.hpp"
#include "nslab/capture.hpp"
#include "nslab/captured.hpp"
#include "nslab/change.hpp"
#include "nslab/error.hpp"
#include "nslab/features.hpp"
#include "nslab/lab.hpp"
#include "nslab/match.hpp"
#include "nslab/process.hpp"
#include "nslab/signals.hpp"
#include "nslab/templates.hpp"
#include "nslab/userns.hpp"

namespace fs = std::filesystem;

namespace nslab {

using Clock = std::chrono::steady_clock;

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::passed:
      return "passed";
    case Verdict::failed:
      return "failed";
    case Verdict::skipped:
      return "skipped";
  }
  return "?";
}

std::optional<std::string> unmet_requirement(const Scenario& s) {
  for (const auto& r : s.requires_) {
    if (r.kind == Requirement::Kind::real_root && !is_real_root())
      return "requires real-root: running as root of nslab's own user namespace, not real root";
    if (r.kind == Requirement::Kind::userns_root && is_real_root())
      return "requires userns-root: running as real root, not as root of a user namespace";
    if (r.kind == Requirement::Kind::feature)
      if (auto why = missing_feature(r.feature))
        return fmt::format("requires feature {}: {}", r.feature, *why);
    if (r.kind == Requirement::Kind::kernel) {
      utsname u{};
      uname(&u);
      int major = 0, minor = 0;
      std::sscanf(u.release, "%d.%d", &major, &minor);
      if (major < r.major || (major == r.major && minor < r.minor))
        return fmt::format("requires kernel >= {}.{}: this is {}", r.major, r.minor, u.release);
    }
  }
  return std::nullopt;
}

namespace {

int ms_until(Clock::time_point t) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(t - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string tail(const std::string& text, int lines) {
  std::size_t pos = text.size();
  if (pos && text[pos - 1] == '\n') --pos;
  for (int n = 0; n < lines && pos != std::string::npos && pos > 0; ++n)
    pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

struct Live {
  const StepSpec* spec;
  std::size_t index;  // into ScenarioOutcome::steps
  CapturedProcess proc;
};

class Execution {
 public:
  Execution(const Scenario& s, const RunOptions& o, SignalWatch& sig, bool& interrupted,
            std::set<std::string>& captures_made)
      : s_(s),
        opt_(o),
        signals_(sig),
        interrupted_(interrupted),
        captures_made_(captures_made),
        model_(s.topology) {}

  ScenarioOutcome run() {
    auto t0 = Clock::now();
    out_.file = s_.file;
    out_.name = s_.name;
    out_.labels = s_.labels;
    if (auto why = unmet_requirement(s_)) {
      out_.verdict = Verdict::skipped;
      out_.reason = *why;
      return out_;
    }
    deadline_ = t0 + s_.timeout;
    bool building = false;  // a capture folder that is not ours fails the scenario (exit 1)
    try {
      if (!opt_.capture_dir.empty()) make_capture_dir();
      auto b0 = Clock::now();
      building = true;
      lab_ = Lab::build(s_.topology);
      building = false;
      out_.build_ms = ms_since(b0);
      if (!capture_dir_.empty()) capture_ = std::make_unique<Capture>(*lab_, capture_dir_);
    } catch (const Error& e) {
      fail_scenario("lab could not be set up: " + e.describe());
      out_.setup_failed = building && (!e.pos() || e.err() == EOPNOTSUPP);
      cleanup();
      out_.ms = ms_since(t0);
      return out_;
    }
    for (const auto& st : s_.steps) {
      StepOutcome& so = out_.steps.emplace_back();
      so.name = st.name;
      so.node = st.node;
      if (failed_ || interrupted_) continue;  // not run after a failure
      so.ran = true;
      auto s0 = Clock::now();
      switch (st.kind) {
        case StepSpec::Kind::run:
          run_step(st, out_.steps.size() - 1);
          break;
        case StepSpec::Kind::change:
          change_step(st, out_.steps.back());
          break;
        case StepSpec::Kind::wait:
          wait_step(st, out_.steps.back());
          break;
      }
      out_.steps.back().ms = ms_since(s0);
      if (!out_.steps.back().passed)
        fail_scenario(fmt::format("step '{}': {}", st.name, out_.steps.back().reason));
    }
    stop_background();
    if (interrupted_ && !failed_) fail_scenario("interrupted by a signal");
    finish_capture();
    if (failed_ && opt_.on_failed_lab && !interrupted_) opt_.on_failed_lab(*lab_, out_);
    cleanup();
    out_.ms = ms_since(t0);
    return out_;
  }

 private:
  void fail_scenario(const std::string& reason) {
    if (!failed_) out_.reason = reason;
    failed_ = true;
    out_.verdict = Verdict::failed;
  }

  // A capture folder per scenario, made fresh under --capture and named by the scenario's name
  // ([a-z0-9-]+, validated): NAME, or NAME-2, NAME-3 ... when this run already made NAME. A
  // folder this run did not make is never reused, emptied or removed.
  void make_capture_dir() {
    std::error_code ec;
    fs::create_directories(opt_.capture_dir, ec);
    if (ec) throw Error(fmt::format("--capture {}: {}", opt_.capture_dir, ec.message()));
    std::string base = (fs::path(opt_.capture_dir) / (s_.name.empty() ? "scenario" : s_.name));
    std::string dir = base;
    for (int n = 2; captures_made_.count(dir); ++n) dir = fmt::format("{}-{}", base, n);
    if (mkdir(dir.c_str(), 0755) < 0) {
      if (errno == EEXIST)
        throw Error(
            fmt::format("capture folder {} already exists and is not from this run; "
                        "remove it or choose another --capture folder",
                        dir));
      throw_errno("mkdir " + dir, errno);
    }
    captures_made_.insert(dir);
    capture_dir_ = dir;
  }

  // Kept for a failed scenario (or all with capture_all); otherwise removed.
  void finish_capture() {
    if (!capture_) return;
    capture_->stop();
    if (failed_ || opt_.capture_all) {
      out_.captures = capture_->files();
    } else {
      std::error_code ec;
      fs::remove_all(capture_dir_, ec);
    }
    capture_.reset();
  }

  void cleanup() {
    live_.clear();  // kills (SIGKILL) and reaps whatever still runs
    capture_.reset();
    if (lab_) kill_processes_in(lab_->namespaces());
    lab_.reset();
  }

  std::string resolve(const TemplateRef& r) {
    if (r.lab_dir) return lab_->dir();
    if (!r.save.empty()) {
      auto it = saved_.find(r.save);
      if (it == saved_.end()) throw Error(fmt::format("nothing was saved as '{}'", r.save), ENOENT);
      return it->second;
    }
    LabNode& node = lab_->node(r.node);
    if (r.attribute == "ifindex") return std::to_string(node.ifindex(r.ifname));
    if (r.attribute == "mtu") {
      for (const auto& l : node.rtnl().links())
        if (l.name == r.ifname) return std::to_string(l.mtu);
      return "0";
    }
    const NodeSpec* n = model_.node(r.node);
    const InterfaceSpec* ifc = n ? n->interface(r.ifname) : nullptr;
    auto a = ifc ? ifc->first(r.attribute == "ipv4" ? Family::ipv4 : Family::ipv6) : std::nullopt;
    if (!a) throw Error(fmt::format("template '{}': no such address now", r.text), ENOENT);
    return a->str();
  }

  TemplateResolver resolver() {
    return [this](const TemplateRef& r) { return resolve(r); };
  }

  Clock::time_point step_deadline(const StepSpec& st) {
    auto d = Clock::now() + (st.timeout ? st.timeout->value : kDefaultStepTimeout);
    return std::min(d, deadline_);
  }

  std::string timeout_reason(const StepSpec& st, Clock::time_point deadline) {
    if (deadline == deadline_)
      return fmt::format("scenario timed out after {} ms", s_.timeout.count());
    return fmt::format("timed out after {} ms",
                       (st.timeout ? st.timeout->value : kDefaultStepTimeout).count());
  }

  // --- the event loop ---------------------------------------------------------------------

  // Copies what a step's process reported so far into its outcome.
  void sync(const Live& l) {
    StepOutcome& o = out_.steps[l.index];
    o.records = l.proc.records();
    o.stdout_text = l.proc.stdout_text();
    o.stderr_text = l.proc.stderr_text();
    o.exit_status = l.proc.exit_status();
    if (auto stream = l.proc.overflowed(); stream && o.passed) {
      o.passed = false;
      o.reason = fmt::format(
          "{} exceeds {} bytes (nslab keeps at most that much of a step's "
          "output); the step was killed",
          *stream, kMaxOutputBytes);
    }
  }

  // Serves every live process until done() or the deadline (or a signal). Returns done().
  bool pump(Clock::time_point deadline, const std::function<bool()>& done) {
    for (;;) {
      if (done()) return true;
      if (interrupted_) return false;
      std::vector<std::vector<pollfd>> per(live_.size());
      std::vector<pollfd> fds;
      for (std::size_t i = 0; i < live_.size(); ++i) {
        per[i] = live_[i]->proc.fds();
        fds.insert(fds.end(), per[i].begin(), per[i].end());
      }
      fds.push_back({signals_.fd(), POLLIN, 0});
      int left = ms_until(deadline);
      if (left == 0) return done();
      int n = poll(fds.data(), fds.size(), left);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_errno("poll", errno);
      if ((fds.back().revents & POLLIN) && signals_.take()) {
        interrupted_ = true;
        return false;
      }
      std::size_t at = 0;
      for (std::size_t i = 0; i < live_.size(); ++i) {
        std::vector<pollfd> mine(fds.begin() + static_cast<long>(at),
                                 fds.begin() + static_cast<long>(at + per[i].size()));
        at += per[i].size();
        live_[i]->proc.handle(mine);
      }
    }
  }

  // --- steps ------------------------------------------------------------------------------

  std::string resolve_program(const std::string& name) {
    if (name.find('/') != std::string::npos || opt_.probes_dir.empty()) return name;
    fs::path p = fs::path(opt_.probes_dir) / name;
    return access(p.c_str(), X_OK) == 0 ? p.string() : name;
  }

  void run_step(const StepSpec& st, std::size_t index) {
    StepOutcome& so = out_.steps[index];
    so.kind = st.background ? "background" : "run";
    so.command = expand_templates(st.command.value, resolver());
    auto argv = split_command(so.command);
    if (argv.empty()) {
      so.passed = false;
      so.reason = "empty command";
      return;
    }
    argv[0] = resolve_program(argv[0]);
    try {
      live_.push_back(
          std::make_unique<Live>(Live{&st, index, CapturedProcess(*lab_, st.node, argv)}));
    } catch (const Error& e) {
      so.passed = false;
      so.reason = fmt::format("could not start: {}", e.what());
      return;
    }
    Live& l = *live_.back();
    auto deadline = step_deadline(st);
    if (!st.background) {
      bool ended = pump(deadline, [&] { return l.proc.exited(); });
      if (!ended) l.proc.kill_group(SIGKILL);
      sync(l);
      live_.pop_back();
      StepOutcome& o = out_.steps[index];
      if (!ended) {
        o.passed = false;
        o.reason = interrupted_ ? "interrupted by a signal" : timeout_reason(st, deadline);
        o.exit_status.reset();
        return;
      }
      check(st, o);
      save(st, o);
      return;
    }
    if (!st.ready) return;
    Json ready = expand_templates_json(st.ready->value, resolver());
    auto is_ready = [&] {
      for (const auto& r : l.proc.records())
        if (record_matches(ready, r)) return true;
      return false;
    };
    bool ok = pump(deadline, [&] { return is_ready() || l.proc.exited(); }) && is_ready();
    sync(l);
    if (ok) return;
    StepOutcome& o = out_.steps[index];
    o.passed = false;
    if (interrupted_)
      o.reason = "interrupted by a signal";
    else if (l.proc.exited())
      o.reason = fmt::format("exited with status {} before its ready record {}", *o.exit_status,
                             ready.dump());
    else
      o.reason = fmt::format("no ready record {} ({})", ready.dump(), timeout_reason(st, deadline));
    add_closest(o, ready);
  }

  void add_closest(StepOutcome& o, const Json& pattern) {
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

  // The first failure is the step's reason; later ones are listed under it.
  void expectation_failed(StepOutcome& o, const std::string& why, const Json* pattern) {
    if (o.passed)
      o.reason = why;
    else
      o.details.push_back("also: " + why);
    o.passed = false;
    if (pattern) add_closest(o, *pattern);
  }

  void check(const StepSpec& st, StepOutcome& o) {
    const Expectation& ex = st.expect;
    if (ex.exit && o.exit_status != ex.exit->value)
      expectation_failed(
          o,
          fmt::format("exit status {}, expected {}",
                      o.exit_status ? std::to_string(*o.exit_status) : "none", ex.exit->value),
          nullptr);
    std::size_t from = 0;
    for (const auto& p : ex.records) {
      Json want = expand_templates_json(p.value, resolver());
      bool found = false;
      for (std::size_t i = ex.ordered ? from : 0; i < o.records.size(); ++i) {
        if (record_matches(want, o.records[i])) {
          found = true;
          from = i + 1;
          break;
        }
      }
      if (!found)
        expectation_failed(o,
                           fmt::format("no record matches {}{} ({})", want.dump(),
                                       ex.ordered ? " in order" : "", p.pos.line_col()),
                           &want);
    }
    for (const auto& p : ex.absent) {
      Json never = expand_templates_json(p.value, resolver());
      for (const auto& r : o.records)
        if (record_matches(never, r)) {
          expectation_failed(
              o, fmt::format("a record matches absent {}: {}", never.dump(), r.dump()), nullptr);
          break;
        }
    }
    for (auto [name, pat, text] : {std::tuple{"stdout", &ex.stdout_text, &o.stdout_text},
                                   {"stderr", &ex.stderr_text, &o.stderr_text}}) {
      if (!*pat) continue;
      Json want = expand_templates_json((*pat)->value, resolver());
      if (!value_matches(want, *text))
        expectation_failed(
            o,
            fmt::format("{} does not match {}; it was: {}", name, want.dump(),
                        Json(tail(*text, 3)).dump(-1, ' ', false, Json::error_handler_t::replace)),
            nullptr);
    }
  }

  // The fragment is parsed again with the lab's values for its templates, checked against the
  // model as the earlier steps left it (the same check as `nslab validate`), and applied.
  // A step's saves: the field of the first record matching each pattern. One that cannot be
  // made fails the step, naming the save.
  void save(const StepSpec& st, StepOutcome& o) {
    for (const auto& sv : st.saves) {
      Json want = expand_templates_json(sv.record.value, resolver());
      const Json* found = nullptr;
      for (const auto& r : o.records)
        if (record_matches(want, r)) {
          found = &r;
          break;
        }
      if (!found) {
        expectation_failed(o, fmt::format("save '{}': no record matches {}", sv.name, want.dump()),
                           &want);
        continue;
      }
      auto it = found->find(sv.field.value);
      if (it == found->end()) {
        expectation_failed(o,
                           fmt::format("save '{}': the record has no field '{}': {}", sv.name,
                                       sv.field.value, found->dump()),
                           nullptr);
        continue;
      }
      saved_[sv.name] = it->is_string() ? it->get<std::string>() : it->dump();
    }
  }

  void change_step(const StepSpec& st, StepOutcome& o) {
    o.kind = "change";
    const ChangeSpec& c = st.change;
    if (c.op == ChangeOp::flush) {
      o.node = c.flush_node.value;
      try {
        o.command = apply::flush(*lab_, lab_->node(c.flush_node.value), c.flush);
      } catch (const Error& e) {
        o.passed = false;
        o.reason = e.what();
      }
      return;
    }
    Diagnostics d;
    Topology fragment = c.fragment(resolver(), d, nullptr);
    Topology after = model_;
    if (d.empty()) change_model(after, c.op, fragment, d);
    if (!fragment.nodes.empty()) o.node = fragment.nodes.front().name;
    // Positions are the scenario's, given as (LINE:COL) like an expectation's.
    auto at = [](const std::string& what, const SourcePos& pos) {
      return pos.line ? fmt::format("{} ({})", what, pos.line_col()) : what;
    };
    if (!d.empty()) {
      auto all = d.sorted();
      o.passed = false;
      o.reason = at(all.front().message, all.front().pos);
      for (std::size_t i = 1; i < all.size(); ++i)
        o.details.push_back("also: " + at(all[i].message, all[i].pos));
      return;
    }
    try {
      o.command = apply_change(*lab_, after, c.op, fragment, BuildOptions{}.ready_timeout);
      model_ = std::move(after);
    } catch (const Error& e) {
      o.passed = false;
      o.reason = e.pos() ? at(e.what(), *e.pos()) : e.what();
    }
  }

  void wait_step(const StepSpec& st, StepOutcome& o) {
    o.kind = "wait";
    std::size_t target = 0;
    for (std::size_t i = 0; i < out_.steps.size(); ++i)
      if (out_.steps[i].name == st.wait_step.value) target = i;
    Live* bg = nullptr;
    for (auto& l : live_)
      if (l->index == target) bg = l.get();
    Json want = expand_templates_json(st.wait_record.value, resolver());
    o.command = fmt::format("wait for {} from {}", want.dump(), st.wait_step.value);
    auto seen = [&] {
      if (!bg) return false;
      for (const auto& r : bg->proc.records())
        if (record_matches(want, r)) return true;
      return false;
    };
    auto deadline = step_deadline(st);
    bool ok = pump(deadline, [&] { return seen() || !bg || bg->proc.exited(); }) && seen();
    if (bg) sync(*bg);
    if (ok) return;
    o.passed = false;
    if (interrupted_)
      o.reason = "interrupted by a signal";
    else if (!bg || bg->proc.exited())
      o.reason = fmt::format("step '{}' ended without a record matching {}", st.wait_step.value,
                             want.dump());
    else
      o.reason = fmt::format("no record matching {} from step '{}' ({})", want.dump(),
                             st.wait_step.value, timeout_reason(st, deadline));
    StepOutcome copy = out_.steps[target];
    add_closest(copy, want);
    o.details = copy.details;
  }

  // Background steps end with the scenario: SIGTERM, a bounded wait, then SIGKILL; then their
  // expectations are checked on everything they reported.
  void stop_background() {
    for (auto& l : live_) l->proc.kill_group(SIGTERM);
    bool was_interrupted = interrupted_;
    interrupted_ = false;  // still collect their last words
    pump(Clock::now() + std::chrono::seconds(2), [&] {
      for (auto& l : live_)
        if (!l->proc.exited()) return false;
      return true;
    });
    interrupted_ = interrupted_ || was_interrupted;
    for (auto& l : live_) {
      l->proc.kill_group(SIGKILL);
      sync(*l);
      StepOutcome& o = out_.steps[l->index];
      if (o.passed && !failed_) check(*l->spec, o);
      if (!o.passed && !failed_) fail_scenario(fmt::format("step '{}': {}", o.name, o.reason));
    }
    live_.clear();
  }

  const Scenario& s_;
  const RunOptions& opt_;
  SignalWatch& signals_;
  bool& interrupted_;
  std::set<std::string>& captures_made_;
  Topology model_;                            // the topology as the change steps so far left it
  std::map<std::string, std::string> saved_;  // save: NAME -> value
  ScenarioOutcome out_;
  std::unique_ptr<Lab> lab_;
  std::unique_ptr<Capture> capture_;
  std::string capture_dir_;
  std::vector<std::unique_ptr<Live>> live_;
  Clock::time_point deadline_;
  bool failed_ = false;
};

}  // namespace

ScenarioOutcome Runner::run(const Scenario& scenario) {
  return Execution(scenario, options_, signals_, interrupted_, captures_made_).run();
}

}  // namespace nslab
