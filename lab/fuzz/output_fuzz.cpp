// libFuzzer target: any bytes as a program's output (SPEC 4: one JSON record per line). Each line
// is read as nslab reads a step's stdout (parse_json_bounded at kMaxRecordDepth), then copied,
// matched, scored, masked for the diff and printed as a failure reason prints it. The first line
// is also tried as a pattern, as a scenario's expectation after template expansion could be.
// Never a crash, an escaped exception, a sanitizer report or a hang; deep nesting is the point
// (ci/fuzz.sh gives this target -max_len of 1 MB).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/diff.hpp"
#include "nslab/match.hpp"

using Json = nlohmann::ordered_json;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<Json> records;
  Json pattern = Json::object();
  bool first = true;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    Json j = nslab::parse_json_bounded(line, nslab::kMaxRecordDepth);
    if (first && j.is_object() && nslab::check_pattern(j, true).empty()) pattern = j;
    first = false;
    if (j.is_object()) records.push_back(std::move(j));
  }
  for (const auto& r : records) {
    Json copy = r;  // every later use copies a record (saves, reports, the diff)
    (void)nslab::record_matches(pattern, copy);
    (void)nslab::match_score(pattern, copy);
    (void)nslab::mask_record(copy, {"pid"}).dump(-1, ' ', false, Json::error_handler_t::replace);
    (void)copy.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return 0;
}
