// Wait steps: until a background step reports a matching record, within the step's bound;
// by default only records that came since the last run or change step began count (`since`).

#include <fmt/format.h>

#include "execution.hpp"

namespace nslab::exec {

void wait_step(ScenarioState& s, const StepSpec& st, StepOutcome& o) {
  o.kind = "wait";
  std::size_t target = 0;
  for (std::size_t i = 0; i < s.out.steps.size(); ++i)
    if (s.out.steps[i].name == st.wait_step.value) target = i;
  Live* bg = nullptr;
  for (auto& l : s.live)
    if (l->index == target) bg = l.get();
  static const KernelVersion kernel = running_kernel();
  const Expectation* chosen = st.expectation_for(kernel, &o.expect_kernel);
  if (!chosen || (!st.alternatives.empty() && chosen->records.empty())) {
    o.passed = false;
    o.reason = fmt::format("no alternative of record holds kernel {}", running_kernel_release());
    return;
  }
  const Pattern& pattern = st.alternatives.empty() ? st.wait_record : chosen->records.front();
  Json want = expand_templates_json(pattern.value, s.resolver());
  const char* since = st.since == StepSpec::Since::previous ? " since the previous step ended"
                      : st.since == StepSpec::Since::start  ? " among all its records"
                                                            : "";
  o.command = fmt::format("wait for {} from {}{}", want.dump(), st.wait_step.value, since);
  // By default only what came since the last run or change step began: an older record is
  // stale (it may describe the state before the action the wait is about).
  const std::size_t from = bg ? s.wait_from(*bg, st.since) : 0;
  auto seen = [&] {
    if (!bg) return false;
    const auto& records = bg->proc.records();
    for (std::size_t i = from; i < records.size(); ++i)
      if (record_matches(want, records[i])) return true;
    return false;
  };
  auto deadline = s.step_deadline(st);
  bool ok = s.pump(deadline, [&] { return seen() || !bg || bg->proc.exited(); }) && seen();
  if (bg) s.sync(*bg);
  if (ok) return;
  o.passed = false;
  if (s.interrupted)
    o.reason = "interrupted by a signal";
  else if (!bg || bg->proc.exited())
    o.reason = fmt::format("step '{}' ended without a record matching {}", st.wait_step.value,
                           want.dump());
  else
    o.reason = fmt::format("no record matching {} from step '{}'{} ({})", want.dump(),
                           st.wait_step.value, since, s.timeout_reason(st, deadline));
  StepOutcome copy = s.out.steps[target];
  s.add_closest(copy, want);
  o.details = copy.details;
}

}  // namespace nslab::exec
