#include "nslab/source.hpp"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace nslab {

std::string SourcePos::str() const {
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string SourcePos::line_col() const {
  return fmt::format("{}:{}", line, column);
}

std::string Diagnostic::str() const {
  return fmt::format("{}: {}", pos.str(), message);
}

void Diagnostics::error(const SourcePos& pos, std::string message) {
  items_.push_back({pos, std::move(message)});
}

std::vector<Diagnostic> Diagnostics::sorted() const {
  auto key = [](const Diagnostic& d) {
    return std::tie(d.pos.file, d.pos.line, d.pos.column, d.message);
  };
  std::vector<Diagnostic> out = items_;
  std::stable_sort(out.begin(), out.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
  out.erase(std::unique(out.begin(), out.end(),
                        [&](const Diagnostic& a, const Diagnostic& b) { return key(a) == key(b); }),
            out.end());
  return out;
}

}  // namespace nslab
