#include "nslab/error.hpp"

#include <cstring>

#include "nslab/validate.hpp"

namespace nslab {

std::string Error::describe() const {
  if (pos_ && !pos_->file.empty()) return pos_->str() + ": " + what();
  return what();
}

void throw_errno(const std::string& what, int err) {
  throw Error(what + ": " + std::strerror(err), err);
}

static std::string first_message(const std::vector<Diagnostic>& ds) {
  if (ds.empty()) return "invalid input";
  std::string s = ds.front().str();
  if (ds.size() > 1) s += " (and " + std::to_string(ds.size() - 1) + " more)";
  return s;
}

InputError::InputError(std::vector<Diagnostic> diagnostics)
    : Error(first_message(diagnostics)), diagnostics_(std::move(diagnostics)) {}

}  // namespace nslab
