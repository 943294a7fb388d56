#pragma once
// The one exception type that carries failures across a library or kernel edge.

#include <optional>
#include <stdexcept>
#include <string>

#include "nslab/source.hpp"

namespace nslab {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int err = 0, std::optional<SourcePos> pos = {})
      : std::runtime_error(message), err_(err), pos_(std::move(pos)) {}

  // errno (positive) when the failure came from the kernel or a library that reports one, else 0.
  int err() const { return err_; }
  // Where in the user's YAML the failing object was declared, when known.
  const std::optional<SourcePos>& pos() const { return pos_; }
  // "FILE:LINE:COLUMN: message" when a position is known, else the message.
  std::string describe() const;

 private:
  int err_;
  std::optional<SourcePos> pos_;
};

// Throws Error with errno's text appended: "what: strerror(errno)".
[[noreturn]] void throw_errno(const std::string& what, int err);

}  // namespace nslab
