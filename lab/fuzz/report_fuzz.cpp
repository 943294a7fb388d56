// libFuzzer target: any bytes as a report handed to `nslab diff` (or a guest's report read back by
// `nslab matrix`): parsed at kMaxReportDepth, its shape checked as report_file.cpp checks it, and
// when it passes, diffed against itself and against an empty report. The diff may trust only what
// the shape check guarantees; an escaped exception here is a bug in one of them.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nslab/diff.hpp"
#include "nslab/match.hpp"
#include "nslab/report.hpp"
#include "nslab/report_file.hpp"

using Json = nlohmann::ordered_json;

namespace {
// As `nslab diff` reads a report once its shape passed: by the report's one reader, which must
// then not throw.
void diff(const Json& a, const Json& b) {
  auto d = nslab::diff_reports(nslab::outcomes_from_json(a), nslab::outcomes_from_json(b));
  (void)d.scenarios.dump(-1, ' ', false, Json::error_handler_t::replace);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Json j = nslab::parse_json_bounded(text, nslab::kMaxReportDepth);
  if (!j.is_object()) return 0;
  if (j.contains("matrix")) {
    if (!nslab::matrix_report_shape_error(j).empty()) return 0;
    for (const auto& run : j["matrix"])
      if (run.contains("report") && run["report"].is_object()) diff(run["report"], run["report"]);
    return 0;
  }
  if (!nslab::run_report_shape_error(j).empty()) return 0;
  const Json empty = {{"scenarios", Json::array()}, {"totals", Json::object()}};
  diff(j, j);
  diff(j, empty);
  diff(empty, j);
  return 0;
}
