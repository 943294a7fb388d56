#pragma once
// `nslab diff`: what changed between two `--json` reports of the same scenarios (two kernels, two
// commits, two machines). Verdicts that changed, and per step the record fields that changed.
// What differs on every run is masked first (see mask_record), so that two runs on the same
// kernel compare clean.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nslab/runner.hpp"

namespace nslab {

struct DiffOptions {
  std::vector<std::string> ignore;  // more field names to mask (--ignore)
  std::size_t max_per_step = 8;     // lines shown per step before "... and N more"
};

struct ReportDiff {
  std::vector<std::string> lines;  // what a person reads, one change per line
  // The same for a program, nothing left out: one object per scenario that differs, {file,
  // only_in: "A"|"B"} or {file, verdict?: {a, b, reason_a?, reason_b?}, steps: [{name,
  // passed?: {a, b}, expect_kernel?: {a, b}, exit?: {a, b}, changed: [{event, fields: {NAME:
  // {a, b}}}], only_in_a: [RECORD], only_in_b: [RECORD]}]}. Records are as compared (masked); a
  // field absent on one side is null there.
  nlohmann::ordered_json scenarios = nlohmann::ordered_json::array();
  std::size_t verdicts_changed = 0;  // scenarios whose verdict differs
  std::size_t steps_changed = 0;     // steps whose records or outcome differ
  std::size_t only_one_side = 0;     // scenarios or steps in one report only
  bool changed() const { return verdicts_changed || steps_changed || only_one_side; }
};

// The fields masked by default, for --help and the README.
std::string default_masks_text();

// A record as the diff compares it: masked fields removed, volatile values made constant.
// `extra`: further field names; `scenario_volatile`: the scenario's own `volatile` names.
nlohmann::ordered_json mask_record(const nlohmann::ordered_json& record,
                                   const std::vector<std::string>& extra);

// Two reports as the report's one reader gives them (outcomes_from_json, nslab/report.hpp).
ReportDiff diff_reports(const std::vector<ScenarioOutcome>& a,
                        const std::vector<ScenarioOutcome>& b, const DiffOptions& options = {});

}  // namespace nslab
