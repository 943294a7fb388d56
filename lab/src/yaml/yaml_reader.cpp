#include "yaml_reader.hpp"

#include "nslab/unique_fd.hpp"

#include "../model/names.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>

#include <fmt/format.h>

namespace nslab::yaml {

Reader::Reader(std::string file, std::string text, Diagnostics& diags)
    : file_(std::move(file)), text_(std::move(text)), diags_(diags) {}

SourcePos Reader::pos(const YAML::Node& n) const {
  YAML::Mark m = n.Mark();
  if (m.line < 0) return fallback_ ? *fallback_ : SourcePos{file_, 1, 1};
  return {file_, m.line + 1, m.column + 1};
}

std::optional<std::string> read_input_file(const std::string& path, const char* what,
                                           Diagnostics& diags) {
  auto fail = [&](const std::string& why) {
    diags.error({path, 0, 0}, fmt::format("cannot read {} file: {}", what, why));
    return std::nullopt;
  };
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(std::strerror(errno));
  struct stat st {};
  std::string text;
  int err = 0;
  if (fstat(fd.get(), &st) < 0) {
    err = errno;
  } else if (S_ISDIR(st.st_mode)) {
    err = EISDIR;
  } else {
    char buf[65536];
    for (;;) {
      ssize_t n = read(fd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) err = errno;
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > kMaxInputBytes)
        return fail(fmt::format("larger than {} MiB", kMaxInputBytes >> 20));
    }
  }
  if (err) return fail(err == EISDIR ? "it is a folder" : std::strerror(err));
  return text;
}

// The line (1-based) where a second YAML document starts, if any: a "---" or "..." marker at
// column 1 after the first document's content (at column 1 it cannot be content: a top-level
// block scalar is indented). A text scan, because yaml-cpp 0.7's LoadAll() never returns on
// some inputs (a lone ',' among them: yaml-cpp PR #1319, fixed in 0.8).
static std::optional<int> second_document_line(std::string_view text) {
  bool content = false, ended = false;
  int line = 0;
  while (!text.empty()) {
    ++line;
    std::string_view l = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), l.size() + 1));
    auto marker = [&](std::string_view m) {
      return l.starts_with(m) && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    };
    if (marker("---")) {
      if (content || ended) return line;
      std::string_view rest = l.substr(3);
      auto first = rest.find_first_not_of(" \t\r");
      content = first != std::string_view::npos && rest[first] != '#';
      continue;
    }
    if (marker("...")) {
      ended = content;
      continue;
    }
    auto first = l.find_first_not_of(" \t\r");
    if (first == std::string_view::npos || l[first] == '#' || (!content && l[0] == '%')) continue;
    if (ended) return line;
    content = true;
  }
  return std::nullopt;
}

// The 1-based line and column of the first byte that is not UTF-8 (YAML text is Unicode; and
// every value must print, as JSON too, in messages and reports), or nothing.
static std::optional<std::pair<int, int>> invalid_utf8(std::string_view t) {
  int line = 1, col = 1;
  for (std::size_t i = 0; i < t.size();) {
    auto c = static_cast<unsigned char>(t[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xe  ? 3
                    : (c >> 3) == 0x1e ? 4
                                       : 0;
    if (n == 0 || i + n > t.size()) return std::pair{line, col};
    unsigned cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      auto d = static_cast<unsigned char>(t[i + k]);
      if ((d >> 6) != 0x2) return std::pair{line, col};
      cp = (cp << 6) | (d & 0x3f);
    }
    // overlong forms, surrogates and values past U+10FFFF are not UTF-8 either
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return std::pair{line, col};
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    i += n;
  }
  return std::nullopt;
}

YAML::Node Reader::parse() {
  if (auto at = invalid_utf8(text_)) {
    diags_.error({file_, at->first, at->second}, "the file is not UTF-8 text here");
    return YAML::Node(YAML::NodeType::Undefined);
  }
  try {
    if (auto second = second_document_line(text_)) {
      diags_.error({file_, *second, 1},
                   "a file holds one YAML document; remove the second ('---')");
      return YAML::Node(YAML::NodeType::Undefined);
    }
    return YAML::Load(text_);
  } catch (const YAML::ParserException& e) {
    diags_.error({file_, e.mark.line + 1, e.mark.column + 1}, "YAML syntax: " + e.msg);
  } catch (const YAML::Exception& e) {
    diags_.error({file_, 1, 1}, std::string("YAML: ") + e.what());
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

static const char* kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "nothing";
  }
}

bool Reader::check_map(const YAML::Node& n, const std::string& what,
                       std::span<const char* const> allowed) {
  if (!n.IsMap()) {
    error(n, fmt::format("{} must be a mapping, not {}", what, kind(n)));
    return false;
  }
  std::set<std::string> seen;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar()) {
      error(kv.first, fmt::format("{}: keys must be plain names", what));
      continue;
    }
    const std::string key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      error(kv.first, fmt::format("duplicate key '{}' in {}", key, what));
      continue;
    }
    if (allowed.size() != 0 &&
        std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return key == a; })) {
      std::string list, near;
      for (const char* a : allowed) {
        list += (list.empty() ? "" : ", ") + std::string(a);
        if (near.empty() && edit_distance(key, a) <= 2) near = a;
      }
      if (!near.empty())
        error(kv.first, fmt::format("unknown key '{}' in {}; did you mean '{}'?", key, what, near));
      else
        error(kv.first,
              fmt::format("unknown key '{}' in {} (expected one of: {})", key, what, list));
    }
  }
  return true;
}

std::optional<std::string> Reader::string(const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) {
    error(n, fmt::format("{} must be a string, not {}", what, kind(n)));
    return std::nullopt;
  }
  return text(n);
}

std::string Reader::text(const YAML::Node& n, bool* templated) {
  const std::string& s = n.Scalar();
  bool has = expand_ && s.find("${") != std::string::npos;
  if (templated) *templated = has;
  return has ? expand_(s, n) : s;
}

std::optional<std::int64_t> Reader::integer(const YAML::Node& n, const std::string& what,
                                            std::int64_t min, std::int64_t max) {
  bool templated = false;
  const std::string s = n.IsScalar() ? text(n, &templated) : std::string();
  if (n.IsScalar() && is_deferred(n)) return min;
  if (!n.IsScalar() || (n.Tag() != "?" && !templated)) {
    error(n, fmt::format("{} must be a number, not {}", what,
                         n.IsScalar() ? "a quoted string" : kind(n)));
    return std::nullopt;
  }
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  bool leading_zero = s.size() > 1 && s[0] == '0';
  if (ec != std::errc() || p != s.data() + s.size() || leading_zero) {
    error(n, fmt::format("{} must be a decimal number, not '{}'", what, s));
    return std::nullopt;
  }
  if (v < min || v > max) {
    error(n, fmt::format("{} {} is out of range [{}, {}]", what, v, min, max));
    return std::nullopt;
  }
  return v;
}

std::optional<bool> Reader::boolean(const YAML::Node& n, const std::string& what) {
  bool templated = false;
  const std::string s = n.IsScalar() ? text(n, &templated) : std::string();
  if (n.IsScalar() && is_deferred(n)) return false;
  if (n.IsScalar() && (n.Tag() == "?" || templated)) {
    if (s == "true" || s == "True") return true;
    if (s == "false" || s == "False") return false;
  }
  error(n, fmt::format("{} must be true or false", what));
  return std::nullopt;
}

std::optional<double> Reader::quantity(const YAML::Node& n, const std::string& what,
                                       std::span<const std::pair<const char*, double>> units,
                                       const char* expected) {
  auto s = string(n, what);
  if (!s) return std::nullopt;
  std::size_t digits = s->find_first_not_of("0123456789.");
  std::string number = s->substr(0, digits);
  std::string unit = digits == std::string::npos ? "" : s->substr(digits);
  double v = -1;
  bool plain = !number.empty() && number.front() != '.' && number.back() != '.' &&
               std::count(number.begin(), number.end(), '.') <= 1;
  if (plain) std::from_chars(number.data(), number.data() + number.size(), v);
  for (const auto& [suffix, factor] : units)
    if (plain && unit == suffix) return v * factor;
  error(n, fmt::format("{} '{}' must be {}", what, *s, expected));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> Reader::duration(const YAML::Node& n,
                                                          const std::string& what) {
  auto ms =
      quantity(n, what, {{"ms", 1}, {"s", 1000}, {"m", 60000}}, "a duration like 5s, 200ms or 2m");
  if (!ms) return std::nullopt;
  if (*ms < 1 ||
      *ms > static_cast<double>(std::chrono::milliseconds(std::chrono::hours(24)).count())) {
    error(n, fmt::format("{} '{}' must be between 1ms and 24h", what, text(n)));
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(*ms));
}

std::vector<YAML::Node> Reader::scalar_or_list(const YAML::Node& n, const std::string& what) {
  std::vector<YAML::Node> out;
  if (n.IsScalar()) {
    out.push_back(n);
  } else if (n.IsSequence()) {
    for (const auto& item : n) {
      if (item.IsScalar())
        out.push_back(item);
      else
        error(item, fmt::format("{} entries must be scalars, not {}", what, kind(item)));
    }
  } else {
    error(n, fmt::format("{} must be a scalar or a list, not {}", what, kind(n)));
  }
  return out;
}

std::string_view Reader::source_line(int line) const {
  std::string_view t = text_;
  for (int i = 1; i < line; ++i) {
    auto nl = t.find('\n');
    if (nl == std::string_view::npos) return {};
    t.remove_prefix(nl + 1);
  }
  return t.substr(0, t.find('\n'));
}

}  // namespace nslab::yaml
