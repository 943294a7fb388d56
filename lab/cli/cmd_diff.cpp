// nslab diff A.json B.json: what changed between two reports (SPEC 8).

#include <fmt/format.h>

#include <filesystem>
#include <future>
#include <memory>

#include "commands.hpp"
#include "nslab/diff.hpp"
#include "nslab/error.hpp"
#include "nslab/report.hpp"
#include "nslab/report_file.hpp"

namespace nslab::cli {

namespace {

using Json = nlohmann::ordered_json;

// A `nslab run --json` report, or one kernel's run of a `nslab matrix --json` report
// (FILE@LABEL, e.g. matrix.json@6.1). Sets `error` and returns null JSON when it cannot.
Json load_report(const std::string& arg, std::string& title, std::string& error) {
  std::string path = arg, label;
  std::error_code ec;
  if (auto at = arg.rfind('@'); at != std::string::npos && !std::filesystem::exists(arg, ec)) {
    path = arg.substr(0, at);
    label = arg.substr(at + 1);
  }
  std::string why;
  auto read = read_json_file(path, why);
  if (!read) {
    error = fmt::format("{}: {}", path, why);
    return Json();
  }
  Json j = std::move(*read);
  if (!j.is_object() || (!j.contains("matrix") && !j.contains("scenarios"))) {
    error = fmt::format("{}: not a JSON report of nslab's (no scenarios)", path);
    return Json();
  }
  if (std::string e =
          j.contains("matrix") ? matrix_report_shape_error(j) : run_report_shape_error(j);
      !e.empty()) {
    error = fmt::format("{}: not a report of nslab's: {}", path, e);
    return Json();
  }
  if (j.contains("matrix")) {
    std::string labels;
    for (const auto& run : j["matrix"]) {
      std::string l = run.value("label", "");
      labels += (labels.empty() ? "" : ", ") + l;
      if (l == label && !run.value("report", Json()).is_object()) {
        error =
            fmt::format("{}: kernel '{}' has no report (it did not run: {})", path, label,
                        run.value("failure", Json()).is_string() ? run["failure"].get<std::string>()
                                                                 : "no reason given");
        return Json();
      }
      if (l == label) {
        title =
            fmt::format("{} ({})", arg, run.value("kernel", Json::object()).value("release", ""));
        return run["report"];
      }
    }
    error = label.empty()
                ? fmt::format("{} is a matrix report: name one of its kernels as {}@LABEL ({})",
                              path, path, labels)
                : fmt::format("{} has no kernel '{}' (it has {})", path, label, labels);
    return Json();
  }
  if (!label.empty()) {
    error = fmt::format("{} is a run report, not a matrix report: drop @{}", path, label);
    return Json();
  }
  title = fmt::format("{} ({})", arg, j.value("versions", Json::object()).value("kernel", "?"));
  return j;
}

}  // namespace

int run_diff(const DiffArgs& args) {
  ReportFile json("--json", args.json);
  if (json.wanted() && !json.prepare()) return kSetup;
  // The two reports are read at once: parsing is most of the time a big diff takes (an 18 MB
  // report of 200,000 records parses in about 0.9 s).
  std::string ta, tb, error_a, error_b;
  auto later_b = std::async(std::launch::async, [&] { return load_report(args.b, tb, error_b); });
  Json a = load_report(args.a, ta, error_a);
  Json b = later_b.get();
  if (!error_a.empty() || !error_b.empty()) {
    fmt::print(stderr, "nslab: diff: {}\n", !error_a.empty() ? error_a : error_b);
    return kSetup;
  }
  // Shaped as nslab writes reports (checked above), each is read by the report's one reader.
  std::vector<ScenarioOutcome> oa, ob;
  try {
    oa = outcomes_from_json(a);
    ob = outcomes_from_json(b);
  } catch (const Error& e) {
    fmt::print(stderr, "nslab: diff: {}\n", e.what());
    return kSetup;
  }
  ReportDiff d = diff_reports(oa, ob, DiffOptions{.ignore = args.ignore});
  if (json.wanted() && !json.write(Json{{"schema_version", 1},
                                        {"nslab", NSLAB_VERSION},
                                        {"a", args.a},
                                        {"b", args.b},
                                        {"changed", d.changed()},
                                        {"verdicts_changed", d.verdicts_changed},
                                        {"steps_changed", d.steps_changed},
                                        {"only_one_side", d.only_one_side},
                                        {"scenarios", d.scenarios}}
                                       .dump(2, ' ', false, Json::error_handler_t::replace) +
                                   "\n"))
    return kSetup;
  fmt::print("A: {}\nB: {}\n", ta, tb);
  for (const auto& l : d.lines) fmt::print("{}\n", l);
  if (!d.changed()) {
    fmt::print("no changes ({} scenarios compared)\n", oa.size());
    return kOk;
  }
  fmt::print("{} verdicts changed, {} steps differ, {} only in one report\n", d.verdicts_changed,
             d.steps_changed, d.only_one_side);
  return kFailed;
}

}  // namespace nslab::cli
