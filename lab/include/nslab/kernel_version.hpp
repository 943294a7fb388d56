#pragma once
// Kernel versions and ranges of them, for `requires: kernel >= X.Y` and for expectations that
// depend on the kernel (SPEC 7). Plain values: reading the running kernel's release is the only
// call to the kernel, and a pure one (uname).

#include <compare>
#include <optional>
#include <string>

#include "nslab/source.hpp"

namespace nslab {

struct KernelVersion {
  int major = 0, minor = 0, patch = 0;
  auto operator<=>(const KernelVersion&) const = default;
  std::string str() const;  // "6.1.192"; "6.2" when the patch is 0
};

// "6.1", "6.12.117" or a release as uname prints it ("6.18.44-fc-v595", "6.1.0-57-amd64"): the
// leading numbers. nullopt when the text does not start with MAJOR.MINOR.
std::optional<KernelVersion> parse_kernel_version(const std::string& text);
KernelVersion running_kernel();
std::string running_kernel_release();

// A half-open range of versions, written as bounds joined by commas: ">= 6.2", "< 6.2",
// ">= 6.2, < 6.16". Only >= and < are allowed, so two ranges that touch ("< 6.2" and ">= 6.2")
// never overlap and a version is never on both sides. A missing patch level is 0: "< 6.2" holds
// for every 6.1.x.
struct KernelRange {
  std::string text;
  SourcePos pos;
  KernelVersion from{0, 0, 0};
  std::optional<KernelVersion> below;  // nullopt: no upper bound

  bool holds(const KernelVersion& v) const { return from <= v && (!below || v < *below); }
  bool overlaps(const KernelRange& other) const;
};

// Parses `text`; on failure returns nullopt and says why in `error`.
std::optional<KernelRange> parse_kernel_range(const std::string& text, std::string& error);

}  // namespace nslab
