// The scenario runner: a scenario's life from its requirements to its teardown. One event loop
// (poll, in execution.cpp) serves every live process of a scenario: their stdout becomes
// records line by line, their exit is seen on a pidfd, termination signals on a signalfd; every
// wait ends on an event or at its deadline, never after a sleep. Each step kind lives in its own
// file (run_step.cpp, change_step.cpp, wait_step.cpp).

#include "nslab/runner.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "execution.hpp"
#include "nslab/capture.hpp"
#include "nslab/error.hpp"
#include "nslab/features.hpp"
#include "nslab/process.hpp"
#include "nslab/unique_fd.hpp"
#include "nslab/userns.hpp"

namespace fs = std::filesystem;

namespace nslab {

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
      if (running_kernel() < r.kernel)
        return fmt::format("requires kernel >= {}: this is {}", r.kernel.str(),
                           running_kernel_release());
    }
  }
  return std::nullopt;
}

namespace {

using exec::Clock;
using exec::ms_since;

class Execution {
 public:
  Execution(const Scenario& s, const RunOptions& o, SignalWatch& sig, bool& interrupted,
            Runner::Captures& captures)
      : st_(s, o, sig, interrupted), captures_(captures) {}

  ScenarioOutcome run() {
    const Scenario& s = st_.scenario;
    ScenarioOutcome& out = st_.out;
    auto t0 = Clock::now();
    out.file = s.file;
    out.name = s.name;
    out.labels = s.labels;
    out.volatile_ = s.volatile_;
    if (auto why = unmet_requirement(s)) {
      out.verdict = Verdict::skipped;
      out.reason = *why;
      return out;
    }
    st_.deadline = t0 + exec::scaled(s.timeout, st_.options.time_scale);
    bool building = false;  // a capture folder that is not ours fails the scenario (exit 1)
    try {
      if (!st_.options.capture_dir.empty()) make_capture_dir();
      auto b0 = Clock::now();
      building = true;
      BuildOptions build;
      build.ready_timeout = exec::scaled(build.ready_timeout, st_.options.time_scale);
      st_.lab = Lab::build(s.topology, build);
      building = false;
      out.build_ms = ms_since(b0);
      if (!capture_dir_.empty()) start_capture();
    } catch (const Error& e) {
      fail_scenario("lab could not be set up: " + e.describe());
      out.setup_failed = building && (!e.pos() || e.err() == EOPNOTSUPP);
      cleanup();
      out.ms = ms_since(t0);
      return out;
    }
    for (const auto& step : s.steps) {
      StepOutcome& so = out.steps.emplace_back();
      so.name = step.name;
      so.node = step.node;
      if (failed_ || skipped_ || st_.interrupted) continue;  // not run after a failure or skip
      so.ran = true;
      run_one(step, out.steps.size() - 1);
      StepOutcome& done = out.steps.back();
      if (!done.passed) fail_scenario(fmt::format("step '{}': {}", step.name, done.reason));
      if (done.skipped) skip_scenario(fmt::format("step '{}': {}", step.name, done.reason));
    }
    stop_background();
    if (st_.interrupted && !failed_) fail_scenario("interrupted by a signal");
    finish_capture();
    if (failed_ && st_.options.on_failed_lab && !st_.interrupted)
      st_.options.on_failed_lab(*st_.lab, out);
    cleanup();
    out.ms = ms_since(t0);
    return out;
  }

 private:
  // One step, by its kind. What escapes a step (a template the lab cannot resolve now) fails
  // that step with the reason.
  void run_one(const StepSpec& step, std::size_t index) {
    StepOutcome& so = st_.out.steps[index];
    auto s0 = Clock::now();
    try {
      if (step.kind != StepSpec::Kind::wait) st_.mark_acting_step();
      switch (step.kind) {
        case StepSpec::Kind::run:
          exec::run_step(st_, step, index);
          break;
        case StepSpec::Kind::change:
          exec::change_step(st_, step, so);
          break;
        case StepSpec::Kind::wait:
          exec::wait_step(st_, step, so);
          break;
      }
    } catch (const Error& e) {
      StepOutcome& o = st_.out.steps[index];
      o.passed = false;
      o.reason = e.what();
    }
    st_.out.steps[index].ms = ms_since(s0);
    st_.mark_step_end();
  }

  void fail_scenario(const std::string& reason) {
    if (!failed_) st_.out.reason = reason;
    failed_ = true;
    st_.out.verdict = Verdict::failed;
  }

  // A probe could not run here (exit 77): the scenario is a skip with its reason, unless it
  // already failed.
  void skip_scenario(const std::string& reason) {
    if (failed_ || skipped_) return;
    skipped_ = true;
    st_.out.verdict = Verdict::skipped;
    st_.out.reason = reason;
  }

  // Every interface of every node but lo, written to capture_dir_/NODE-IF.pcap.
  void start_capture() {
    std::vector<CaptureNode> nodes;
    for (auto& n : st_.lab->nodes()) {
      CaptureNode c{.name = n.name(), .netns = &n.netns(), .interfaces = {}};
      for (const auto& [ifname, index] : n.ifindexes())
        if (ifname != "lo") c.interfaces.push_back(ifname);
      nodes.push_back(std::move(c));
    }
    capture_ = std::make_unique<Capture>(nodes, st_.lab->home(), capture_fd_.get(), capture_dir_);
  }

  // A capture folder per scenario, made fresh under --capture and named by the scenario's name
  // ([a-z0-9-]+, validated): NAME, or NAME-2, NAME-3 ... when this run already made NAME. A
  // folder this run did not make is never reused, emptied or removed. --capture itself must be
  // a folder, not a symbolic link (as root, one another user planted would send the pcaps, and
  // their removal, wherever it points); everything below it is made and removed through file
  // descriptors, never by path.
  void make_capture_dir() {
    const std::string& root = st_.options.capture_dir;
    std::error_code ec;
    if (!fs::is_symlink(root, ec)) fs::create_directories(root, ec);
    if (ec) throw Error(fmt::format("--capture {}: {}", root, ec.message()));
    UniqueFd root_fd(open(root.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!root_fd) {
      if (errno == ELOOP || (errno == ENOTDIR && fs::is_symlink(root, ec)))
        throw Error(fmt::format("--capture {} is a symbolic link; name the folder itself", root));
      throw_errno("--capture " + root, errno);
    }
    const std::string& name = st_.scenario.name;
    std::string leaf = name.empty() ? "scenario" : name;
    std::string base = leaf;
    std::lock_guard lock(captures_.mutex);
    for (int n = 2; captures_.made.count((fs::path(root) / leaf).string()); ++n)
      leaf = fmt::format("{}-{}", base, n);
    std::string dir = (fs::path(root) / leaf).string();
    if (mkdirat(root_fd.get(), leaf.c_str(), 0755) < 0) {
      if (errno == EEXIST)
        throw Error(
            fmt::format("capture folder {} already exists and is not from this run; "
                        "remove it or choose another --capture folder",
                        dir));
      throw_errno("mkdir " + dir, errno);
    }
    UniqueFd dir_fd(openat(root_fd.get(), leaf.c_str(), O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir_fd) throw_errno(dir, errno);
    captures_.made.insert(dir);
    capture_dir_ = dir;
    capture_leaf_ = leaf;
    capture_root_fd_ = std::move(root_fd);
    capture_fd_ = std::move(dir_fd);
  }

  // Removes a passing scenario's capture folder through its descriptors: the pcaps this run
  // wrote, then the folder (left in place if anything else appeared in it).
  void remove_capture_dir() {
    if (capture_) {
      for (const auto& file : capture_->files())
        unlinkat(capture_fd_.get(), fs::path(file).filename().c_str(), 0);
    }
    unlinkat(capture_root_fd_.get(), capture_leaf_.c_str(), AT_REMOVEDIR);
  }

  // Kept for a failed scenario (or all with capture_all); otherwise removed.
  void finish_capture() {
    if (!capture_) return;
    capture_->stop();
    if (failed_ || st_.options.capture_all) {
      st_.out.captures = capture_->files();
    } else {
      remove_capture_dir();
    }
    capture_.reset();
  }

  void cleanup() {
    st_.live.clear();  // kills (SIGKILL) and reaps whatever still runs
    capture_.reset();
    if (st_.lab) kill_processes_in(st_.lab->namespaces());
    st_.lab.reset();
  }

  // Background steps end with the scenario: SIGTERM, a bounded wait, then SIGKILL; then their
  // expectations are checked on everything they reported.
  void stop_background() {
    for (auto& l : st_.live) l->proc.kill_group(SIGTERM);
    bool was_interrupted = st_.interrupted;
    st_.interrupted = false;  // still collect their last words
    st_.pump(Clock::now() + std::chrono::seconds(2), [&] {
      for (auto& l : st_.live)
        if (!l->proc.exited()) return false;
      return true;
    });
    st_.interrupted = st_.interrupted || was_interrupted;
    for (auto& l : st_.live) {
      l->proc.kill_group(SIGKILL);
      st_.sync(*l);
      StepOutcome& o = st_.out.steps[l->index];
      try {
        if (o.passed && !failed_ && !skipped_) exec::check(st_, *l->spec, o);
      } catch (const Error& e) {
        o.passed = false;
        o.reason = e.what();
      }
      if (!o.passed && !failed_) fail_scenario(fmt::format("step '{}': {}", o.name, o.reason));
      if (o.skipped) skip_scenario(fmt::format("step '{}': {}", o.name, o.reason));
    }
    st_.live.clear();
  }

  exec::ScenarioState st_;
  Runner::Captures& captures_;
  std::unique_ptr<Capture> capture_;
  std::string capture_dir_, capture_leaf_;  // the scenario's folder, and its name in --capture
  UniqueFd capture_root_fd_, capture_fd_;   // --capture (O_PATH) and the scenario's folder
  bool failed_ = false;
  bool skipped_ = false;
};

}  // namespace

ScenarioOutcome Runner::run(const Scenario& scenario) {
  bool interrupted = false;  // this scenario's; the runner's is set when any was interrupted
  ScenarioOutcome out = Execution(scenario, options_, signals_, interrupted, captures_).run();
  if (interrupted) interrupted_ = true;
  return out;
}

}  // namespace nslab
