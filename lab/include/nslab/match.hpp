#pragma once
// Matching records against expected patterns (SPEC section 3): a record matches a pattern when
// every key of the pattern is in the record with a matching value. Values match by equality
// (numbers numerically, also when one side is a numeric string from a template; errno names and
// numbers both accepted), by a nested pattern, or through one operator map:
// {gt|ge|lt|le: N}, {between: [A, B]}, {one_of: [...]}, {matches: REGEX}.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nslab {

bool record_matches(const nlohmann::ordered_json& pattern, const nlohmann::ordered_json& record);
bool value_matches(const nlohmann::ordered_json& expected, const nlohmann::ordered_json& actual);
// How many of the pattern's keys the record satisfies (for "closest records" in reports).
int match_score(const nlohmann::ordered_json& pattern, const nlohmann::ordered_json& record);
// Problems in a pattern: unknown operators, wrong operator arguments, invalid regexes.
std::vector<std::string> check_pattern(const nlohmann::ordered_json& pattern);

int errno_from_name(const std::string& name);  // 0 when not an errno name

}  // namespace nslab
