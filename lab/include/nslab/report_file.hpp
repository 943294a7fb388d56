#pragma once
// Reading a `--json` report back (`nslab diff`, `nslab matrix` reading its guests' reports): the
// one place a report is parsed. A report is untrusted input: anyone can hand `diff` a file, and a
// guest's report comes from another kernel. Everything that reads a report afterwards relies on
// the shape checked here (types of the fields it reads), so no reader meets a surprise.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace nslab {

// Reads `path` as JSON: a regular file (a folder, FIFO or device is refused before it is read,
// so a FIFO never blocks), nested at most kMaxReportDepth levels. On failure, nothing, with
// `error` saying why (without the path).
std::optional<nlohmann::ordered_json> read_json_file(const std::string& path, std::string& error);

// Where `report` is not shaped as `nslab run --json` writes it, as "PATH: must be TYPE"
// ("scenarios[2].steps[0].records: must be a list of records"), or empty when it is. Checks
// what the readers use: scenarios (file, verdict, reason, volatile, steps: name, kind, ran,
// passed, exit, expect_kernel, records as objects) and totals (required: nslab always writes
// them).
std::string run_report_shape_error(const nlohmann::ordered_json& report);
// The same for `nslab matrix --json`: a `matrix` list of runs ({label, kernel: {release},
// failure, report: a run report or null}).
std::string matrix_report_shape_error(const nlohmann::ordered_json& report);

}  // namespace nslab
