#pragma once
// A suite: the scenario files of a run, selected (--filter, --label, a shard) and run in input
// order, one at a time or N at once, and the exit status they come to (SPEC 1). What `nslab run`
// does between reading its command line and printing; the files are loaded by the caller (the
// yaml layer is above this one).

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nslab/runner.hpp"
#include "nslab/scenario.hpp"

namespace nslab {

// One file of the suite as loaded: its scenario, or the diagnostics that made it invalid.
struct SuiteFile {
  std::string file;
  std::optional<Scenario> scenario;
  std::vector<std::string> diagnostics;  // "FILE:LINE:COL: message", when invalid
};

struct SuiteSelection {
  std::string filter;                     // RE2, searched in the path and the name; empty: all
  std::vector<std::string> labels;        // any of them; empty: all
  long shard_index = 0, shard_total = 1;  // file k (in input order) is in shard k mod total
};

struct Suite {
  std::vector<Scenario> selected;
  std::vector<ScenarioOutcome> invalid;  // the shard's invalid files, as failed outcomes
};

// The files in this shard that match: an invalid file is in its shard whatever the filter says
// (it cannot be matched, and must not vanish from the reports).
Suite select_suite(std::vector<SuiteFile> files, const SuiteSelection& selection);

// Runs `scenarios` in input order and hands each outcome to `report` on this thread, in input
// order, as soon as it and every one before it are in. With jobs > 1 that many threads take the
// scenarios, each into a lab of its own; scenarios labelled sigio never run at the same time:
// they measure the uid's queue of pending signals, which they would share (nslab's ctest tests
// hold a resource lock for the same reason). After an interruption no scenario starts.
void run_suite(Runner& runner, const std::vector<Scenario>& scenarios, std::size_t jobs,
               const std::function<void(ScenarioOutcome)>& report);

// SPEC 1: 1 when a file was invalid, a scenario failed or the run was interrupted; 2 when a lab
// could not be set up or nothing ran; 77 when everything was skipped; else 0.
int suite_exit_status(const std::vector<ScenarioOutcome>& outcomes, bool any_invalid,
                      bool interrupted);

}  // namespace nslab
