#include "nslab/match.hpp"
#include "nslab/templates.hpp"

#include "names.hpp"

#include <string.h>

#include <charconv>
#include <cmath>
#include <optional>

#include <fmt/format.h>
#include <re2/re2.h>

namespace nslab {

using Json = nlohmann::ordered_json;

namespace {

const char* const kOperators[] = {"gt", "ge", "lt", "le", "between", "one_of", "matches", "has"};

constexpr const char* kOperatorList = "gt, ge, lt, le, between, one_of, matches, has";

bool is_operator(const std::string& k) {
  for (const char* o : kOperators)
    if (k == o) return true;
  return false;
}

bool is_operator_map(const Json& j) {
  return j.is_object() && j.size() == 1 && is_operator(j.begin().key());
}

// RE2: linear time, no recursion, so a user's pattern over untrusted output of any size neither
// hangs nor overflows the stack (libstdc++'s regex did, on 100 KB of output). Errors are returned,
// not logged.
RE2::Options re2_options() {
  RE2::Options o;
  o.set_log_errors(false);
  return o;
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
  if (op == "has") return actual.is_object() && record_matches(arg, actual);
  if (op == "one_of") {
    for (const auto& x : arg)
      if (value_matches(x, actual)) return true;
    return false;
  }
  if (op == "matches") {
    std::string text = actual.is_string() ? actual.get<std::string>() : actual.dump();
    return regex_search(arg.get<std::string>(), text);
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
  if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i)
      check_value(v[i], fmt::format("{}[{}]", path, i), out);
    return;
  }
  if (!v.is_object()) return;
  // A mapping as an expected value is always an operator map, of exactly one operator; fields of
  // a nested object are matched through `has`, so a misspelt operator is never a nested pattern.
  if (v.size() != 1) {
    out.push_back(fmt::format(
        "{}: a value takes exactly one operator ({}); for a range use {{between: [LOW, HIGH]}}, "
        "for fields of a nested object {{has: {{...}}}}",
        path, kOperatorList));
    return;
  }
  const std::string& op = v.begin().key();
  const Json& arg = v.begin().value();
  if (!is_operator(op)) {
    for (const char* o : kOperators)
      if (edit_distance(op, o) <= (op.size() > 4 ? 2u : 1u) ||
          (op.size() > 2 && std::string(o).rfind(op, 0) == 0)) {
        out.push_back(fmt::format("{}: unknown operator '{}' (did you mean '{}'?)", path, op, o));
        return;
      }
    out.push_back(
        fmt::format("{}: unknown operator '{}' (expected one of {})", path, op, kOperatorList));
    return;
  }
  auto bad = [&](const char* want) {
    out.push_back(fmt::format("{}: '{}' takes {}", path, op, want));
  };
  if (op == "has") {
    if (!arg.is_object() || arg.empty()) return bad("a mapping of fields");
    for (auto it = arg.begin(); it != arg.end(); ++it) check_value(*it, path + "." + it.key(), out);
  } else if (op == "between") {
    if (!arg.is_array() || arg.size() != 2 || !(number_of(arg[0]) || is_templated(arg[0])) ||
        !(number_of(arg[1]) || is_templated(arg[1])))
      return bad("[LOW, HIGH]");
    auto lo = number_of(arg[0]), hi = number_of(arg[1]);
    if (lo && hi && *lo > *hi)
      out.push_back(fmt::format("{}: between [{}, {}] is empty (LOW must not exceed HIGH)", path,
                                arg[0].dump(), arg[1].dump()));
  } else if (op == "one_of") {
    if (!arg.is_array() || arg.empty()) return bad("a non-empty list");
    for (std::size_t i = 0; i < arg.size(); ++i)
      check_value(arg[i], fmt::format("{}.one_of[{}]", path, i), out);
  } else if (op == "matches") {
    if (!arg.is_string()) return bad("a regular expression");
    if (auto e = regex_error(arg.get<std::string>()))
      out.push_back(
          fmt::format("{}: invalid regular expression '{}': {}", path, arg.get<std::string>(), *e));
  } else if (!number_of(arg) && !is_templated(arg)) {
    bad("a number");
  }
}

}  // namespace

bool regex_search(const std::string& pattern, std::string_view text) {
  RE2 re(pattern, re2_options());
  return re.ok() && RE2::PartialMatch(text, re);
}

std::optional<std::string> regex_error(const std::string& pattern) {
  RE2 re(pattern, re2_options());
  if (re.ok()) return std::nullopt;
  return re.error();
}

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
  if (expected.is_object()) return false;  // not an operator map: refused by check_pattern
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

std::vector<std::string> check_pattern(const Json& pattern, bool record) {
  std::vector<std::string> out;
  if (record && pattern.is_object())
    for (auto it = pattern.begin(); it != pattern.end(); ++it) check_value(*it, it.key(), out);
  else
    check_value(pattern, "", out);
  for (auto& s : out)
    if (s.rfind(": ", 0) == 0) s = s.substr(2);
  return out;
}

nlohmann::ordered_json parse_json_bounded(std::string_view text, int max_depth, bool* too_deep) {
  if (too_deep) *too_deep = false;
  using J = nlohmann::ordered_json;
  // The depth is measured first, in one pass over the brackets outside strings (for valid JSON
  // that is its nesting; invalid JSON the parser rejects anyway). nlohmann's parser keeps its own
  // stack, so parsing cannot overflow ours; what would is every later copy and comparison. (Not
  // the parser's callback: with one, it scans the parent's elements at every value's end, which
  // is quadratic: 200,000 records took two minutes.)
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) {
        if (too_deep) *too_deep = true;
        return J(J::value_t::discarded);
      }
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return J::parse(text.begin(), text.end(), nullptr, false);
}

}  // namespace nslab
