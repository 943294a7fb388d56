#pragma once
// Internal: what every step of a running scenario shares, and one function per step kind (each
// in its own file: run_step.cpp, change_step.cpp, wait_step.cpp). runner.cpp owns the
// scenario's life: requirements, build, capture, the steps in order, the end of background
// steps, teardown.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "nslab/captured.hpp"
#include "nslab/lab.hpp"
#include "nslab/match.hpp"
#include "nslab/runner.hpp"
#include "nslab/scenario.hpp"
#include "nslab/signals.hpp"
#include "nslab/templates.hpp"

namespace nslab::exec {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0);
// `d` times RunOptions::time_scale.
std::chrono::milliseconds scaled(std::chrono::milliseconds d, double scale);
// The last `lines` lines, at most 1000 bytes of them (the cut says how many bytes it left out).
std::string text_tail(const std::string& text, int lines);
// A record as a reason quotes it: its JSON, cut after 2000 bytes.
std::string shown(const Json& record);

// A step's process while it runs (foreground) or until the scenario ends (background).
struct Live {
  const StepSpec* spec;
  std::size_t index;  // into ScenarioOutcome::steps
  CapturedProcess proc;
};

class ScenarioState {
 public:
  ScenarioState(const Scenario& s, const RunOptions& o, SignalWatch& sig, bool& interrupted)
      : scenario(s), options(o), signals(sig), interrupted(interrupted) {}

  // ${...} as the lab holds them now (see lab_resolver), with this scenario's saves.
  TemplateResolver resolver() { return lab_resolver(*lab, &saved); }
  Clock::time_point step_deadline(const StepSpec& st) const;
  std::string timeout_reason(const StepSpec& st, Clock::time_point deadline) const;

  // Serves every live process until done() or the deadline (or a signal). Returns done().
  bool pump(Clock::time_point deadline, const std::function<bool()>& done);
  // At the start of a run or change step (one that acts): takes in what the live processes
  // reported so far (without waiting), and remembers how many records each had.
  void mark_acting_step();
  // At the end of every step: takes in what the live processes reported so far (without
  // waiting), and remembers how many records each had.
  void mark_step_end();
  // Where a wait step's search starts in `l`'s records. `action`: the first one that came after
  // the last run or change step began (0 for a process that step started), so waits in a row
  // all look at what followed the same action. `previous`: the first one after the step before
  // the wait ended. `start`: 0.
  std::size_t wait_from(const Live& l, StepSpec::Since since) const;
  // Copies what a step's process reported so far into its outcome.
  void sync(const Live& l);

  // The first failure is the step's reason; later ones are listed under it, with the records
  // that came closest to `pattern`.
  void expectation_failed(StepOutcome& o, const std::string& why, const Json* pattern);
  void add_closest(StepOutcome& o, const Json& pattern);

 private:
  // One poll of every live process and the signal fd, for at most `timeout_ms`; what came is
  // handed to the processes. False when a termination signal came.
  bool serve_once(int timeout_ms);
  // Takes in what the live processes reported so far, and how many records each has now.
  void count_records(std::map<const Live*, std::size_t>& into);

 public:
  const Scenario& scenario;
  const RunOptions& options;
  SignalWatch& signals;
  bool& interrupted;
  std::map<std::string, std::string> saved;  // save: NAME -> value
  ScenarioOutcome out;
  std::unique_ptr<Lab> lab;
  std::vector<std::unique_ptr<Live>> live;
  Clock::time_point deadline;  // the scenario's
  // Records per live process when the last run or change step began.
  std::map<const Live*, std::size_t> marks;      // records each had when the last action began
  std::map<const Live*, std::size_t> end_marks;  // records each had when the last step ended
};

// A run step: foreground ones end (or time out) here and are checked and saved; background
// ones are left running, once their ready record came.
void run_step(ScenarioState& s, const StepSpec& st, std::size_t index);
// A step's expectations against everything it reported.
void check(ScenarioState& s, const StepSpec& st, StepOutcome& o);
// A change step: the fragment checked against the model as the earlier steps left it, then
// applied through the builder's apply functions.
void change_step(ScenarioState& s, const StepSpec& st, StepOutcome& o);
// A wait step: until a background step reports a matching record.
void wait_step(ScenarioState& s, const StepSpec& st, StepOutcome& o);

}  // namespace nslab::exec
