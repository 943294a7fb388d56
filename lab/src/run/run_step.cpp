// Run steps: a program in a node, its records checked against `expect` and its `save`s made.

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <tuple>

#include <fmt/format.h>

#include "execution.hpp"
#include "nslab/error.hpp"

namespace fs = std::filesystem;

namespace nslab::exec {

namespace {

// A probe's short name becomes its path in the first probes folder that has it; anything else
// is left to PATH.
std::string resolve_program(const ScenarioState& s, const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  for (const auto& dir : s.options.probe_dirs) {
    fs::path p = fs::path(dir) / name;
    if (access(p.c_str(), X_OK) == 0) return p.string();
  }
  return name;
}

// A step's saves: the field of the first record matching each pattern. One that cannot be made
// fails the step, naming the save.
void save(ScenarioState& s, const StepSpec& st, StepOutcome& o) {
  for (const auto& sv : st.saves) {
    Json want = expand_templates_json(sv.record.value, s.resolver());
    const Json* found = nullptr;
    for (const auto& r : o.records)
      if (record_matches(want, r)) {
        found = &r;
        break;
      }
    if (!found) {
      s.expectation_failed(o, fmt::format("save '{}': no record matches {}", sv.name, want.dump()),
                           &want);
      continue;
    }
    auto it = found->find(sv.field.value);
    if (it == found->end()) {
      s.expectation_failed(o,
                           fmt::format("save '{}': the record has no field '{}': {}", sv.name,
                                       sv.field.value, found->dump()),
                           nullptr);
      continue;
    }
    s.saved[sv.name] = it->is_string() ? it->get<std::string>() : it->dump();
  }
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

// What a probe that exited 77 ("cannot run here", SPEC 4) said: its skip record's reason, else
// the last line of its stderr.
std::string skip_reason(const StepOutcome& o) {
  for (const auto& r : o.records)
    if (r.value("event", "") == "skip" && r.contains("reason") && r["reason"].is_string())
      return r["reason"].get<std::string>();
  std::string tail = text_tail(o.stderr_text, 1);
  return tail.empty() ? "it gave no reason" : tail;
}

bool exit_allowed(const Expectation& ex, int status) {
  if (!ex.exit) return status == 0;
  if (ex.exit->value == "any") return true;
  return value_matches(ex.exit->value, status);
}

// The exit status is part of a step's verdict: a signal fails it (unless nslab sent it, to end a
// background step), 77 from a probe makes the scenario a skip with the probe's reason (unless
// expect.exit allows 77), and any other status must be what expect.exit allows (0 unwritten).
// False when nothing more is to be checked (the step is skipped).
bool check_exit(ScenarioState& s, const Expectation& ex, StepOutcome& o) {
  if (o.signal && !o.signal_ours) {
    s.expectation_failed(o, fmt::format("killed by {}", signal_name(*o.signal)), nullptr);
    return true;
  }
  if (!o.exit_status || o.signal) return true;  // ended by nslab: what it reported is checked
  int status = *o.exit_status;
  if (status == 77 && o.probe && !(ex.exit && exit_allowed(ex, 77))) {
    o.skipped = true;
    o.reason = "cannot run here: " + skip_reason(o);
    return false;
  }
  if (!exit_allowed(ex, status))
    s.expectation_failed(
        o,
        fmt::format("exit status {}, expected {}", status,
                    ex.exit ? ex.exit->value.dump() : std::string("0 (expect.exit allows others)")),
        nullptr);
  return true;
}

// Waits for a background step's ready record (when it has one).
void wait_ready(ScenarioState& s, const StepSpec& st, Live& l) {
  if (!st.ready) return;
  Json ready = expand_templates_json(st.ready->value, s.resolver());
  auto is_ready = [&] {
    for (const auto& r : l.proc.records())
      if (record_matches(ready, r)) return true;
    return false;
  };
  auto deadline = s.step_deadline(st);
  bool ok = s.pump(deadline, [&] { return is_ready() || l.proc.exited(); }) && is_ready();
  s.sync(l);
  if (ok) return;
  StepOutcome& o = s.out.steps[l.index];
  o.passed = false;
  if (s.interrupted)
    o.reason = "interrupted by a signal";
  else if (l.proc.exited() && o.probe && o.exit_status == 77) {
    o.passed = true;
    o.skipped = true;
    o.reason = "cannot run here: " + skip_reason(o);
    return;
  } else if (l.proc.exited() && o.signal)
    o.reason = fmt::format("killed by {} before its ready record {}", signal_name(*o.signal),
                           ready.dump());
  else if (l.proc.exited())
    o.reason = fmt::format("exited with status {} before its ready record {}", *o.exit_status,
                           ready.dump());
  else
    o.reason = fmt::format("no ready record {} ({})", ready.dump(), s.timeout_reason(st, deadline));
  s.add_closest(o, ready);
}

}  // namespace

void run_step(ScenarioState& s, const StepSpec& st, std::size_t index) {
  StepOutcome& so = s.out.steps[index];
  so.kind = st.background ? "background" : "run";
  so.command = expand_templates(st.command.value, s.resolver());
  auto argv = split_command(so.command);
  if (argv.empty()) {
    so.passed = false;
    so.reason = "empty command";
    return;
  }
  std::string program = resolve_program(s, argv[0]);
  so.probe = program != argv[0];
  argv[0] = program;
  try {
    s.live.push_back(
        std::make_unique<Live>(Live{&st, index, CapturedProcess(*s.lab, st.node, argv)}));
  } catch (const Error& e) {
    so.passed = false;
    so.reason = fmt::format("could not start: {}", e.what());
    return;
  }
  Live& l = *s.live.back();
  if (st.background) return wait_ready(s, st, l);
  auto deadline = s.step_deadline(st);
  bool ended = s.pump(deadline, [&] { return l.proc.exited(); });
  if (!ended) l.proc.kill_group(SIGKILL);
  s.sync(l);
  s.live.pop_back();
  StepOutcome& o = s.out.steps[index];
  if (!ended) {
    o.passed = false;
    o.reason = s.interrupted ? "interrupted by a signal" : s.timeout_reason(st, deadline);
    o.exit_status.reset();
    return;
  }
  save(s, st, o);  // first: the step's own expectations may use what it saved
  check(s, st, o);
}

void check(ScenarioState& s, const StepSpec& st, StepOutcome& o) {
  // Validation made sure one alternative holds this kernel; say so if it did not.
  static const KernelVersion kernel = running_kernel();
  const Expectation* chosen = st.expectation_for(kernel, &o.expect_kernel);
  if (!chosen) {
    s.expectation_failed(
        o, fmt::format("no alternative of expect holds kernel {}", running_kernel_release()),
        nullptr);
    return;
  }
  const Expectation& ex = *chosen;
  if (!check_exit(s, ex, o)) return;
  std::size_t from = 0;
  for (const auto& p : ex.records) {
    Json want = expand_templates_json(p.value, s.resolver());
    bool found = false;
    for (std::size_t i = ex.ordered ? from : 0; i < o.records.size(); ++i) {
      if (record_matches(want, o.records[i])) {
        found = true;
        from = i + 1;
        break;
      }
    }
    if (!found)
      s.expectation_failed(o,
                           fmt::format("no record matches {}{} ({})", want.dump(),
                                       ex.ordered ? " in order" : "", p.pos.line_col()),
                           &want);
  }
  for (const auto& p : ex.absent) {
    Json never = expand_templates_json(p.value, s.resolver());
    for (const auto& r : o.records)
      if (record_matches(never, r)) {
        s.expectation_failed(
            o, fmt::format("a record matches absent {}: {}", never.dump(), shown(r)), nullptr);
        break;
      }
  }
  for (auto [name, pat, text] : {std::tuple{"stdout", &ex.stdout_text, &o.stdout_text},
                                 {"stderr", &ex.stderr_text, &o.stderr_text}}) {
    if (!*pat) continue;
    Json want = expand_templates_json((*pat)->value, s.resolver());
    if (!value_matches(want, *text))
      s.expectation_failed(
          o,
          fmt::format(
              "{} does not match {}; it was: {}", name, want.dump(),
              Json(text_tail(*text, 3)).dump(-1, ' ', false, Json::error_handler_t::replace)),
          nullptr);
  }
}

}  // namespace nslab::exec
