// Kernel versions and ranges (SPEC 7): parsing, the half-open ranges, and overlap.

#include <gtest/gtest.h>

#include "nslab/kernel_version.hpp"

namespace nslab {
namespace {

KernelRange range(const std::string& text) {
  std::string why;
  auto r = parse_kernel_range(text, why);
  EXPECT_TRUE(r) << text << ": " << why;
  return r.value_or(KernelRange{});
}

TEST(KernelVersion, ReadsTheLeadingNumbersOfAReleaseAsUnamePrintsIt) {
  EXPECT_EQ(parse_kernel_version("6.18.44-fc-v595"), (KernelVersion{6, 18, 44}));
  EXPECT_EQ(parse_kernel_version("6.1.0-57-amd64"), (KernelVersion{6, 1, 0}));
  EXPECT_EQ(parse_kernel_version("6.12.117+deb12-amd64"), (KernelVersion{6, 12, 117}));
  EXPECT_EQ(parse_kernel_version("6.2"), (KernelVersion{6, 2, 0}));
  EXPECT_FALSE(parse_kernel_version("6"));
  EXPECT_FALSE(parse_kernel_version("linux-6.1"));
}

TEST(KernelRange, IsHalfOpenSoThatTouchingRangesNeverOverlap) {
  KernelRange old = range("< 6.2"), now = range(">= 6.2");
  EXPECT_TRUE(old.holds({6, 1, 192}));
  EXPECT_FALSE(old.holds({6, 2, 0}));
  EXPECT_TRUE(now.holds({6, 2, 0}));
  EXPECT_TRUE(now.holds({6, 18, 44}));
  EXPECT_FALSE(old.overlaps(now));
  EXPECT_FALSE(now.overlaps(old));
}

TEST(KernelRange, BothBoundsHoldAtOnce) {
  KernelRange mid = range(">= 6.5, < 6.16");
  EXPECT_FALSE(mid.holds({6, 1, 0}));
  EXPECT_TRUE(mid.holds({6, 12, 117}));
  EXPECT_FALSE(mid.holds({6, 16, 0}));
  EXPECT_TRUE(mid.overlaps(range(">= 6.12")));
  EXPECT_TRUE(mid.overlaps(range("< 6.6")));
  EXPECT_FALSE(mid.overlaps(range(">= 6.16")));
  EXPECT_FALSE(mid.overlaps(range("< 6.5")));
}

TEST(KernelRange, RefusesOtherOperatorsReleasesAndEmptyRanges) {
  for (const char* bad : {"> 6.1", "== 6.1", "6.1", ">= 6.1.0-57", ">= 6.1, >= 6.2", "< 6.1, < 6.2",
                          ">= 6.2, < 6.2", ">= 6.3, < 6.2", ""}) {
    std::string why;
    EXPECT_FALSE(parse_kernel_range(bad, why)) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
}

}  // namespace
}  // namespace nslab
