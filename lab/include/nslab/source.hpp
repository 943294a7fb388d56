#pragma once
// Positions in the user's files, and the diagnostics that point at them.

#include <string>
#include <vector>

namespace nslab {

// A position in a YAML file, 1-based like an editor shows it. line == 0 means "the whole file".
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;

  std::string str() const;       // "FILE:LINE:COLUMN" (or "FILE" when line is 0)
  std::string line_col() const;  // "LINE:COLUMN", for pointing elsewhere in the same file
};

// A value and where the user wrote it.
template <class T>
struct Located {
  T value{};
  SourcePos pos;
};

struct Diagnostic {
  SourcePos pos;
  std::string message;

  std::string str() const;  // "FILE:LINE:COLUMN: message"
};

// Collects every error of a file so that a user sees all of them at once.
class Diagnostics {
 public:
  void error(const SourcePos& pos, std::string message);
  bool empty() const { return items_.empty(); }
  std::size_t size() const { return items_.size(); }
  // Sorted by file, line and column; a duplicate (same position and text) appears once.
  std::vector<Diagnostic> sorted() const;
  const std::vector<Diagnostic>& items() const { return items_; }

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace nslab
