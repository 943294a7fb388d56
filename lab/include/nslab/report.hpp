#pragma once
// Reporters only format: a console line per scenario (steps with -v, details on failure), a
// summary, JUnit XML and JSON.

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nslab/runner.hpp"

namespace nslab {

// How a scenario's line looks on a terminal: a "[n/N]" counter first (n 0: none), and the
// verdict in colour.
struct LineStyle {
  std::size_t index = 0, total = 0;
  bool colour = false;
};
void print_scenario(std::FILE* out, const ScenarioOutcome& o, bool verbose,
                    const LineStyle& style = {});
// "N passed, N failed, N skipped" alone on the last line.
void print_summary(std::FILE* out, const std::vector<ScenarioOutcome>& all, double ms);
// JUnit XML: the XML declaration and one <testsuite name="nslab">. junit_testsuite is that
// testsuite alone, named `name`, its testcases' classnames `prefix.FAMILY`, each line after
// `indent` (the matrix puts one per kernel inside <testsuites>).
std::string junit_xml(const std::vector<ScenarioOutcome>& all);
std::string junit_testsuite(const std::vector<ScenarioOutcome>& all, const std::string& name,
                            const std::string& prefix, const std::string& indent = "");
// Text made safe inside an XML attribute or element (JUnit).
std::string xml_escape(const std::string& s);
// TAP 14, as the kernel's selftests print it: the plan, then one `ok`/`not ok` line per scenario
// as it ends (number `n`), a skip as `# SKIP reason`, a failure's reason and details as a YAML
// block.
void print_tap_plan(std::FILE* out, std::size_t count);
void print_tap_result(std::FILE* out, std::size_t n, const ScenarioOutcome& o);
// The --json report: schema_version, the nslab version, host, versions (kernel, libraries), totals,
// then each scenario with its family, steps and records. The schema version grows when a field
// changes meaning or goes; new fields may come without it.
inline constexpr int kReportSchemaVersion = 1;
nlohmann::ordered_json outcomes_json(const std::vector<ScenarioOutcome>& all,
                                     const std::string& nslab_version);
// The inverse of outcomes_json for its scenarios: a report read back into outcomes (what `nslab
// matrix` gets from each kernel). A value of the wrong type, or a report without a `scenarios`
// list, throws Error naming it.
std::vector<ScenarioOutcome> outcomes_from_json(const nlohmann::ordered_json& report);

}  // namespace nslab
