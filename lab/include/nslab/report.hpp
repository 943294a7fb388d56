#pragma once
// Reporters only format: a console line per scenario (steps with -v, details on failure), a
// summary, JUnit XML and JSON.

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nslab/runner.hpp"

namespace nslab {

void print_scenario(std::FILE* out, const ScenarioOutcome& o, bool verbose);
// "N passed, N failed, N skipped" alone on the last line.
void print_summary(std::FILE* out, const std::vector<ScenarioOutcome>& all, double ms);
std::string junit_xml(const std::vector<ScenarioOutcome>& all);
nlohmann::ordered_json outcomes_json(const std::vector<ScenarioOutcome>& all);

}  // namespace nslab
