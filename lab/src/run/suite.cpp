// A suite of scenarios selected, run and judged (nslab/suite.hpp).

#include "nslab/suite.hpp"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "nslab/match.hpp"

namespace nslab {

namespace {

bool selected_by(const Scenario& s, const std::string& file, const SuiteSelection& sel) {
  if (!sel.filter.empty() && !regex_search(sel.filter, file) && !regex_search(sel.filter, s.name))
    return false;
  return sel.labels.empty() ||
         std::any_of(sel.labels.begin(), sel.labels.end(), [&](const std::string& l) {
           return std::find(s.labels.begin(), s.labels.end(), l) != s.labels.end();
         });
}

ScenarioOutcome invalid_outcome(SuiteFile&& f) {
  ScenarioOutcome o;
  o.file = f.file;
  o.name = std::filesystem::path(f.file).stem().string();
  o.verdict = Verdict::invalid;
  o.diagnostics = std::move(f.diagnostics);
  o.reason = o.diagnostics.empty() ? std::string("invalid") : o.diagnostics.front();
  return o;
}

void run_parallel(Runner& runner, const std::vector<Scenario>& selected, std::size_t jobs,
                  const std::function<void(ScenarioOutcome)>& report) {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::optional<ScenarioOutcome>> done(selected.size());
  std::size_t next = 0, workers_left = std::min(jobs, selected.size());
  std::mutex signal_queue;  // held by a sigio scenario while it runs
  auto work = [&] {
    for (;;) {
      std::size_t k;
      {
        std::lock_guard lock(mutex);
        if (next == selected.size() || runner.interrupted()) break;
        k = next++;
      }
      const auto& labels = selected[k].labels;
      std::unique_lock<std::mutex> serial(signal_queue, std::defer_lock);
      if (std::find(labels.begin(), labels.end(), "sigio") != labels.end()) serial.lock();
      ScenarioOutcome o = runner.run(selected[k]);
      serial = {};
      std::lock_guard lock(mutex);
      done[k] = std::move(o);
      changed.notify_all();
    }
    std::lock_guard lock(mutex);
    --workers_left;
    changed.notify_all();
  };
  std::vector<std::jthread> threads;
  for (std::size_t i = 0; i < std::min(jobs, selected.size()); ++i) threads.emplace_back(work);
  for (std::size_t k = 0; k < selected.size(); ++k) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return done[k].has_value() || (workers_left == 0); });
    if (!done[k]) continue;  // never started: interrupted before its turn
    ScenarioOutcome o = std::move(*done[k]);
    lock.unlock();
    report(std::move(o));
  }
}

}  // namespace

Suite select_suite(std::vector<SuiteFile> files, const SuiteSelection& selection) {
  Suite suite;
  std::size_t k = 0;  // position among the files the filter kept (and the invalid ones)
  for (auto& f : files) {
    if (f.scenario && !selected_by(*f.scenario, f.file, selection)) continue;
    bool mine = static_cast<long>(k++ % static_cast<std::size_t>(selection.shard_total)) ==
                selection.shard_index;
    if (!mine) continue;
    if (f.scenario)
      suite.selected.push_back(std::move(*f.scenario));
    else
      suite.invalid.push_back(invalid_outcome(std::move(f)));
  }
  return suite;
}

void run_suite(Runner& runner, const std::vector<Scenario>& scenarios, std::size_t jobs,
               const std::function<void(ScenarioOutcome)>& report) {
  if (jobs > 1) {
    run_parallel(runner, scenarios, jobs, report);
    return;
  }
  for (const auto& s : scenarios) {
    report(runner.run(s));
    if (runner.interrupted()) break;
  }
}

int suite_exit_status(const std::vector<ScenarioOutcome>& outcomes, bool any_invalid,
                      bool interrupted) {
  if (any_invalid) return 1;
  if (outcomes.empty()) return 2;
  bool any_failed = std::any_of(outcomes.begin(), outcomes.end(), [](const auto& o) {
    return o.verdict == Verdict::failed && !o.setup_failed;
  });
  bool any_setup_failed =
      std::any_of(outcomes.begin(), outcomes.end(), [](const auto& o) { return o.setup_failed; });
  bool all_skipped = std::all_of(outcomes.begin(), outcomes.end(),
                                 [](const auto& o) { return o.verdict == Verdict::skipped; });
  if (any_failed || interrupted) return 1;
  if (any_setup_failed) return 2;  // SPEC: the lab could not be set up
  return all_skipped ? 77 : 0;
}

}  // namespace nslab
