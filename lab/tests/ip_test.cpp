#include <gtest/gtest.h>

#include "nslab/ip.hpp"

using namespace nslab;

TEST(IpPrefix, ParsesBothFamiliesAndKeepsHostBits) {
  auto v4 = IpPrefix::parse("10.0.1.7/24");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->address.family, Family::ipv4);
  EXPECT_EQ(v4->str(), "10.0.1.7/24");
  EXPECT_EQ(v4->network().str(), "10.0.1.0/24");
  auto v6 = IpPrefix::parse("fd00:2::fe/64");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->address.family, Family::ipv6);
  EXPECT_EQ(v6->network().str(), "fd00:2::/64");
}

TEST(IpPrefix, RejectsMalformedInput) {
  for (const char* bad : {"10.0.0.1", "10.0.0.1/33", "10.0.0.1/", "10.0.0.1/-1", "10.0.0/24",
                          "fd00::1/129", "x/24", "10.0.0.1/24/1", "10.0.0.1/2a", ""})
    EXPECT_FALSE(IpPrefix::parse(bad)) << bad;
  EXPECT_TRUE(IpPrefix::parse("10.0.0.1", true));  // bare address allowed where asked for
}

TEST(IpPrefix, ContainsIsFamilyAware) {
  auto net = *IpPrefix::parse("10.0.2.0/23");
  EXPECT_TRUE(net.contains(*IpAddress::parse("10.0.3.255")));
  EXPECT_FALSE(net.contains(*IpAddress::parse("10.0.4.1")));
  EXPECT_FALSE(net.contains(*IpAddress::parse("::ffff:10.0.2.1")));
  auto v6 = *IpPrefix::parse("fd00:1::/64");
  EXPECT_TRUE(v6.contains(*IpAddress::parse("fd00:1::fe")));
  EXPECT_FALSE(v6.contains(*IpAddress::parse("fd00:2::fe")));
}

TEST(IpAddress, LinkLocal) {
  EXPECT_TRUE(IpAddress::parse("fe80::1")->is_link_local());
  EXPECT_FALSE(IpAddress::parse("fd00::1")->is_link_local());
  EXPECT_TRUE(IpAddress::parse("169.254.1.1")->is_link_local());
}
