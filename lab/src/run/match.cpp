#include "nslab/match.hpp"

#include "../model/names.hpp"

#include <string.h>

#include <charconv>
#include <cmath>
#include <optional>
#include <regex>

#include <fmt/format.h>

namespace nslab {

using Json = nlohmann::ordered_json;

namespace {

const char* const kOperators[] = {"gt", "ge", "lt", "le", "between", "one_of", "matches"};

bool is_operator(const std::string& k) {
  for (const char* o : kOperators)
    if (k == o) return true;
  return false;
}

bool is_operator_map(const Json& j) {
  return j.is_object() && j.size() == 1 && is_operator(j.begin().key());
}

// A number, from a JSON number, a numeric string ("1280" after template expansion), or an errno
// name ("EMSGSIZE" -> 90).
std::optional<double> number_of(const Json& j) {
  if (j.is_number()) return j.get<double>();
  if (!j.is_string()) return std::nullopt;
  const std::string& s = j.get_ref<const std::string&>();
  double d = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return d;
  if (int e = errno_from_name(s)) return e;
  return std::nullopt;
}

bool operator_matches(const std::string& op, const Json& arg, const Json& actual) {
  if (op == "one_of") {
    for (const auto& x : arg)
      if (value_matches(x, actual)) return true;
    return false;
  }
  if (op == "matches") {
    std::string text = actual.is_string() ? actual.get<std::string>() : actual.dump();
    return std::regex_search(text, std::regex(arg.get<std::string>()));
  }
  auto a = number_of(actual);
  if (!a) return false;
  if (op == "between") {
    auto lo = number_of(arg[0]), hi = number_of(arg[1]);
    return lo && hi && *a >= *lo && *a <= *hi;
  }
  auto b = number_of(arg);
  if (!b) return false;
  if (op == "gt") return *a > *b;
  if (op == "ge") return *a >= *b;
  if (op == "lt") return *a < *b;
  return *a <= *b;  // le
}

void check_value(const Json& v, const std::string& path, std::vector<std::string>& out) {
  if (!v.is_object()) {
    if (v.is_array())
      for (std::size_t i = 0; i < v.size(); ++i)
        check_value(v[i], fmt::format("{}[{}]", path, i), out);
    return;
  }
  if (v.size() == 1 && !is_operator(v.begin().key())) {
    const std::string& k = v.begin().key();
    for (const char* o : kOperators)
      if (edit_distance(k, o) == 1 || (k.size() > 2 && std::string(o).rfind(k, 0) == 0)) {
        out.push_back(fmt::format("{}: unknown operator '{}' (did you mean '{}'?)", path, k, o));
        return;
      }
  }
  if (!is_operator_map(v)) {
    for (auto it = v.begin(); it != v.end(); ++it)
      check_value(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
    return;
  }
  const std::string& op = v.begin().key();
  const Json& arg = v.begin().value();
  auto bad = [&](const char* want) {
    out.push_back(fmt::format("{}: '{}' takes {}", path, op, want));
  };
  if (op == "between") {
    if (!arg.is_array() || arg.size() != 2 || !number_of(arg[0]) || !number_of(arg[1]))
      bad("[LOW, HIGH]");
  } else if (op == "one_of") {
    if (!arg.is_array() || arg.empty()) bad("a non-empty list");
  } else if (op == "matches") {
    if (!arg.is_string()) return bad("a regular expression");
    try {
      std::regex re(arg.get<std::string>());
    } catch (const std::regex_error& e) {
      out.push_back(fmt::format("{}: invalid regular expression '{}': {}", path,
                                arg.get<std::string>(), e.what()));
    }
  } else if (!number_of(arg) &&
             !(arg.is_string() && arg.get<std::string>().find("${") != std::string::npos)) {
    bad("a number");
  }
}

}  // namespace

int errno_from_name(const std::string& name) {
  if (name.size() < 2 || name[0] != 'E') return 0;
  for (int e = 1; e < 200; ++e) {
    const char* n = strerrorname_np(e);
    if (n && name == n) return e;
  }
  return 0;
}

bool value_matches(const Json& expected, const Json& actual) {
  if (is_operator_map(expected))
    return operator_matches(expected.begin().key(), expected.begin().value(), actual);
  if (expected.is_object()) return actual.is_object() && record_matches(expected, actual);
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) return false;
    for (std::size_t i = 0; i < expected.size(); ++i)
      if (!value_matches(expected[i], actual[i])) return false;
    return true;
  }
  if (expected == actual) return true;
  if (expected.is_boolean() || actual.is_boolean() || expected.is_null() || actual.is_null())
    return false;
  if (expected.is_string() && actual.is_string()) return false;  // text: equality only
  auto a = number_of(expected), b = number_of(actual);
  return a && b && *a == *b;
}

bool record_matches(const Json& pattern, const Json& record) {
  if (!record.is_object()) return false;
  for (auto it = pattern.begin(); it != pattern.end(); ++it) {
    auto r = record.find(it.key());
    if (r == record.end() || !value_matches(it.value(), *r)) return false;
  }
  return true;
}

int match_score(const Json& pattern, const Json& record) {
  int n = 0;
  if (!record.is_object()) return 0;
  for (auto it = pattern.begin(); it != pattern.end(); ++it) {
    auto r = record.find(it.key());
    if (r != record.end() && value_matches(it.value(), *r)) ++n;
  }
  return n;
}

std::vector<std::string> check_pattern(const Json& pattern) {
  std::vector<std::string> out;
  check_value(pattern, "", out);
  for (auto& s : out)
    if (s.rfind(": ", 0) == 0) s = s.substr(2);
  return out;
}

}  // namespace nslab
