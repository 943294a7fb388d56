#pragma once
// Matching records against expected patterns (SPEC section 3): a record matches a pattern when
// every key of the pattern is in the record with a matching value. Values match by equality
// (numbers numerically, also when one side is a numeric string from a template; errno names and
// numbers both accepted), or through an operator map of exactly one operator:
// {gt|ge|lt|le: N}, {between: [A, B]} (A <= B), {one_of: [...]}, {matches: REGEX}, and
// {has: {field: value, ...}} for fields of a nested object. Every mapping in a value position is
// an operator map, so an unknown or misspelt operator is an error, never a nested pattern.
// Regular expressions are RE2's (linear time, no recursion; partial match, like grep).

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nslab {

bool record_matches(const nlohmann::ordered_json& pattern, const nlohmann::ordered_json& record);
bool value_matches(const nlohmann::ordered_json& expected, const nlohmann::ordered_json& actual);
// How many of the pattern's keys the record satisfies (for "closest records" in reports).
int match_score(const nlohmann::ordered_json& pattern, const nlohmann::ordered_json& record);
// Problems in a pattern: unknown operators, wrong operator arguments, invalid regexes.
// `record`: a record pattern (a mapping of field -> value); otherwise one value (stdout: ...).
std::vector<std::string> check_pattern(const nlohmann::ordered_json& pattern, bool record = true);

int errno_from_name(const std::string& name);  // 0 when not an errno name

// Program output and reports are untrusted: a record may nest at most this deep, and a report
// (which holds records a few levels down) at most kMaxReportDepth. Deeper nesting would make
// every later copy and comparison recurse that deep (a 96 KB line of 48,000 levels overflowed
// the stack).
inline constexpr int kMaxRecordDepth = 128;
inline constexpr int kMaxReportDepth = kMaxRecordDepth + 32;
// Parses `text` as JSON of at most `max_depth` levels; a discarded value (is_discarded()) when
// it is not JSON or nests deeper, with `*too_deep` saying which.
nlohmann::ordered_json parse_json_bounded(std::string_view text, int max_depth,
                                          bool* too_deep = nullptr);

// RE2 search: true when `pattern` matches somewhere in `text` (false for an invalid pattern).
bool regex_search(const std::string& pattern, std::string_view text);
// Why `pattern` is not a valid RE2 expression, or nothing when it is.
std::optional<std::string> regex_error(const std::string& pattern);

}  // namespace nslab
