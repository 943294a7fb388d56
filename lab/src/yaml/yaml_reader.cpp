#include "yaml_reader.hpp"

#include "../model/names.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>

#include <fmt/format.h>

namespace nslab::yaml {

Reader::Reader(std::string file, std::string text, Diagnostics& diags)
    : file_(std::move(file)), text_(std::move(text)), diags_(diags) {}

SourcePos Reader::pos(const YAML::Node& n) const {
  YAML::Mark m = n.Mark();
  if (m.line < 0) return {file_, 1, 1};
  return {file_, m.line + 1, m.column + 1};
}

std::optional<std::string> read_input_file(const std::string& path, const char* what,
                                           Diagnostics& diags) {
  auto fail = [&](const std::string& why) {
    diags.error({path, 0, 0}, fmt::format("cannot read {} file: {}", what, why));
    return std::nullopt;
  };
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(std::strerror(errno));
  struct stat st {};
  std::string text;
  int err = 0;
  if (fstat(fd, &st) < 0) {
    err = errno;
  } else if (S_ISDIR(st.st_mode)) {
    err = EISDIR;
  } else {
    char buf[65536];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) err = errno;
      if (n <= 0) break;
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > kMaxInputBytes) {
        close(fd);
        return fail(fmt::format("larger than {} MiB", kMaxInputBytes >> 20));
      }
    }
  }
  close(fd);
  if (err) return fail(err == EISDIR ? "it is a folder" : std::strerror(err));
  return text;
}

YAML::Node Reader::parse() {
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text_);
    if (docs.size() > 1) {
      // The second document starts at its "---"; its root node's mark is the closest we have.
      error(docs[1], "a file holds one YAML document; remove the second ('---')");
      return YAML::Node(YAML::NodeType::Undefined);
    }
    return docs.empty() ? YAML::Node(YAML::NodeType::Null) : docs[0];
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
                       std::initializer_list<const char*> allowed) {
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
  return n.Scalar();
}

std::optional<std::int64_t> Reader::integer(const YAML::Node& n, const std::string& what,
                                            std::int64_t min, std::int64_t max) {
  if (!n.IsScalar() || n.Tag() != "?") {
    error(n, fmt::format("{} must be a number, not {}", what,
                         n.IsScalar() ? "a quoted string" : kind(n)));
    return std::nullopt;
  }
  const std::string& s = n.Scalar();
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
  if (n.IsScalar() && n.Tag() == "?") {
    const std::string& s = n.Scalar();
    if (s == "true" || s == "True") return true;
    if (s == "false" || s == "False") return false;
  }
  error(n, fmt::format("{} must be true or false", what));
  return std::nullopt;
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
