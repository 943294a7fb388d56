#include "names.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "nslab/topology.hpp"

namespace nslab {

namespace {
bool lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}
}  // namespace

std::optional<std::string> check_topology_name(std::string_view name) {
  if (name.empty()) return "name must not be empty";
  for (char c : name)
    if (!lower_alnum(c) && c != '-') return fmt::format("name '{}' must match [a-z0-9-]+", name);
  return std::nullopt;
}

std::optional<std::string> check_node_name(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 32 && lower_alnum(name[0]);
  for (char c : name) ok = ok && (lower_alnum(c) || c == '-' || c == '_');
  if (!ok) return fmt::format("node name '{}' must match [a-z0-9][a-z0-9_-]* (at most 32)", name);
  return std::nullopt;
}

std::optional<std::string> check_ifname(std::string_view name) {
  if (name.empty()) return "interface name must not be empty";
  if (name.size() > kMaxIfnameBytes)
    return fmt::format("interface name '{}' is {} bytes; the kernel allows at most {}", name,
                       name.size(), kMaxIfnameBytes);
  if (name == "." || name == "..")
    return fmt::format("interface name '{}' is not allowed by the kernel", name);
  for (char c : name) {
    if (c == '/' || c == ':' || c == '%' || static_cast<unsigned char>(c) <= ' ' || c == 0x7f)
      return fmt::format("interface name '{}' contains '{}', which is not allowed", name, c);
  }
  return std::nullopt;
}

std::optional<std::string> check_sysctl_key(std::string_view key) {
  if (!key.starts_with("net."))
    return fmt::format("sysctl '{}' is outside net.; only net.* keys are per namespace", key);
  if (key.find("..") != std::string_view::npos || key.find('/') != std::string_view::npos ||
      key.ends_with("."))
    return fmt::format("sysctl key '{}' must not contain '..' or '/' or end with '.'", key);
  for (char c : key) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return fmt::format("sysctl key '{}' contains '{}', which is not allowed", key, c);
  }
  return std::nullopt;
}

std::optional<std::string> check_sysctl_value(std::string_view key, std::string_view value) {
  if (value.empty()) return fmt::format("sysctl '{}' needs a value", key);
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if ((u < ' ' && c != '\t') || u == 0x7f)
      return fmt::format("sysctl '{}': the value must be one line of text, without {}", key,
                         c == '\n' ? "a newline" : "control characters");
  }
  return std::nullopt;
}

std::optional<std::pair<int, int>> find_nft_include(std::string_view text) {
  int line = 1, col = 1;
  for (std::size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '\n') {
      ++line, col = 1, ++i;
    } else if (c == '#') {  // a comment, to the end of the line
      while (i < text.size() && text[i] != '\n') ++i, ++col;
    } else if (c == '"') {  // a string: nft has no escapes inside
      ++i, ++col;
      while (i < text.size() && text[i] != '"' && text[i] != '\n') ++i, ++col;
      if (i < text.size() && text[i] == '"') ++i, ++col;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
      std::size_t start = i;
      int start_col = col;
      while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) ||
                                 text[i] == '_' || text[i] == '-'))
        ++i, ++col;
      if (text.substr(start, i - start) == "include") return std::pair{line, start_col};
    } else {
      ++i, ++col;
    }
  }
  return std::nullopt;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string closest_word(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string_view best;
  std::size_t best_d = 3;  // at most two edits away
  for (auto c : candidates)
    if (std::size_t d = edit_distance(word, c); d < best_d) best_d = d, best = c;
  return std::string(best);
}

}  // namespace nslab
