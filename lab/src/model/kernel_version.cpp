#include "nslab/kernel_version.hpp"

#include <sys/utsname.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <string_view>

namespace nslab {

namespace {

// Reads a decimal number at the front of `s` and drops it; false when there is none.
bool take_number(std::string_view& s, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

std::string KernelVersion::str() const {
  return patch ? fmt::format("{}.{}.{}", major, minor, patch) : fmt::format("{}.{}", major, minor);
}

std::optional<KernelVersion> parse_kernel_version(const std::string& text) {
  std::string_view s = text;
  KernelVersion v;
  if (!take_number(s, v.major) || s.empty() || s.front() != '.') return std::nullopt;
  s.remove_prefix(1);
  if (!take_number(s, v.minor)) return std::nullopt;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    if (!take_number(s, v.patch)) return std::nullopt;
  }
  return v;
}

std::string running_kernel_release() {
  utsname u{};
  uname(&u);
  return u.release;
}

KernelVersion running_kernel() {
  return parse_kernel_version(running_kernel_release()).value_or(KernelVersion{});
}

bool KernelRange::overlaps(const KernelRange& other) const {
  // Two half-open intervals [a, b) and [c, d) meet when a < d and c < b.
  bool a_before_d = !other.below || from < *other.below;
  bool c_before_b = !below || other.from < *below;
  return a_before_d && c_before_b;
}

std::optional<KernelRange> parse_kernel_range(const std::string& text, std::string& error) {
  KernelRange r{.text = text};
  bool has_from = false;
  std::string_view rest = text;
  while (true) {
    auto comma = rest.find(',');
    std::string_view bound = trim(rest.substr(0, comma));
    std::string_view op = bound.substr(0, bound.find_first_of("0123456789 "));
    std::string_view number = trim(bound.substr(op.size()));
    // The version must be the whole bound: "6.1.0-57" is a release, not a bound.
    std::string_view digits = number;
    auto v = parse_kernel_version(std::string(number));
    bool whole = v &&
                 std::all_of(digits.begin(), digits.end(),
                             [](char c) { return c == '.' || (c >= '0' && c <= '9'); }) &&
                 std::count(digits.begin(), digits.end(), '.') <= 2;
    if (!whole || (op != ">=" && op != "<")) {
      error = fmt::format(
          "kernel range '{}': each bound is '>= X.Y' or '< X.Y' (X.Y.Z allowed), joined by ','",
          text);
      return std::nullopt;
    }
    if (op == ">=") {
      if (has_from) {
        error = fmt::format("kernel range '{}' has two lower bounds", text);
        return std::nullopt;
      }
      has_from = true;
      r.from = *v;
    } else {
      if (r.below) {
        error = fmt::format("kernel range '{}' has two upper bounds", text);
        return std::nullopt;
      }
      r.below = *v;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (r.below && !(r.from < *r.below)) {
    error = fmt::format("kernel range '{}' holds no version", text);
    return std::nullopt;
  }
  return r;
}

}  // namespace nslab
