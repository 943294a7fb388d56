// The netlink requests nslab sends for objects this kernel may lack (vrf, the tunnels, ipvlan,
// vlan, netem, nexthop groups), decoded here with the kernel's own headers and no libnl: what
// another kernel would receive. The kernel itself checks the kinds it has, in the build tests.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_link.h>
#include <linux/if_tunnel.h>
#include <linux/ip6_tunnel.h>
#include <linux/netlink.h>
#include <linux/nexthop.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "../src/lab/kernel_values.hpp"
#include "nslab/rtnl.hpp"

using namespace nslab;

namespace {

using Attrs = std::map<int, std::string>;  // type (without flags) -> payload bytes

Attrs parse(const char* p, std::size_t len) {
  Attrs out;
  while (len >= sizeof(nlattr)) {
    nlattr a;
    std::memcpy(&a, p, sizeof a);
    if (a.nla_len < sizeof a || a.nla_len > len) break;
    out[a.nla_type & NLA_TYPE_MASK] = std::string(p + NLA_HDRLEN, a.nla_len - NLA_HDRLEN);
    std::size_t step = NLA_ALIGN(a.nla_len);
    if (step > len) break;
    p += step;
    len -= step;
  }
  return out;
}

// The request's header and its attributes after the family header of `body` bytes.
struct Message {
  nlmsghdr h{};
  std::string body;
  Attrs attrs;
};

Message decode(const std::vector<std::uint8_t>& bytes, std::size_t body) {
  Message m;
  EXPECT_GE(bytes.size(), NLMSG_HDRLEN + body);
  std::memcpy(&m.h, bytes.data(), sizeof m.h);
  EXPECT_EQ(m.h.nlmsg_len, bytes.size());
  const char* p = reinterpret_cast<const char*>(bytes.data()) + NLMSG_HDRLEN;
  m.body.assign(p, body);
  m.attrs = parse(p + NLMSG_ALIGN(body), bytes.size() - NLMSG_HDRLEN - NLMSG_ALIGN(body));
  return m;
}

template <class T>
T as(const std::string& payload) {
  T v{};
  EXPECT_GE(payload.size(), sizeof v);
  std::memcpy(&v, payload.data(), std::min(sizeof v, payload.size()));
  return v;
}

std::string bytes_of(const IpAddress& a) {
  return std::string(reinterpret_cast<const char*>(a.bytes.data()),
                     a.family == Family::ipv4 ? 4 : 16);
}

// IFLA_LINKINFO of a link request: the kind, and the kind's own attributes.
struct LinkInfo {
  std::string kind;
  Attrs data;
  Attrs top;
};

LinkInfo link_info(const VirtualRequest& req) {
  Message m = decode(Rtnl::virtual_request(req), sizeof(ifinfomsg));
  EXPECT_EQ(m.h.nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(m.h.nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
  LinkInfo out;
  out.top = m.attrs;
  Attrs info = parse(m.attrs[IFLA_LINKINFO].data(), m.attrs[IFLA_LINKINFO].size());
  out.kind = info[IFLA_INFO_KIND].c_str();
  out.data = parse(info[IFLA_INFO_DATA].data(), info[IFLA_INFO_DATA].size());
  return out;
}

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

TEST(LinkRequest, VxlanDfIsAddedInsideItsData) {
  // libnl 3.7 has no setter for IFLA_VXLAN_DF: nslab inserts it into IFLA_INFO_DATA.
  VirtualRequest req{.kind = "vxlan",
                     .name = "vx0",
                     .vni = 42,
                     .local = ip("10.0.0.1"),
                     .remote = ip("10.0.0.2"),
                     .port = 4789};
  LinkInfo plain = link_info(req);
  EXPECT_EQ(plain.data.count(IFLA_VXLAN_DF), 0u);
  req.vxlan_df = kernel_value(apply::kVxlanDfValues, *kVxlanDf.parse("set"));
  LinkInfo l = link_info(req);
  EXPECT_EQ(l.kind, "vxlan");
  EXPECT_EQ(as<std::uint8_t>(l.data[IFLA_VXLAN_DF]), 1);
  // Everything libnl wrote is still there and still parses.
  EXPECT_EQ(as<std::uint32_t>(l.data[IFLA_VXLAN_ID]), 42u);
  EXPECT_EQ(l.data[IFLA_VXLAN_GROUP], bytes_of(ip("10.0.0.2")));
  EXPECT_EQ(l.data[IFLA_VXLAN_LOCAL], bytes_of(ip("10.0.0.1")));
  EXPECT_EQ(ntohs(as<std::uint16_t>(l.data[IFLA_VXLAN_PORT])), 4789);
  EXPECT_EQ(l.top[IFLA_IFNAME].c_str(), std::string("vx0"));
}

TEST(LinkRequest, VrfCarriesItsTable) {
  LinkInfo l = link_info({.kind = "vrf", .name = "blue", .ifindex = 7, .table = 10});
  EXPECT_EQ(l.kind, "vrf");
  EXPECT_EQ(l.top[IFLA_IFNAME].c_str(), std::string("blue"));
  EXPECT_EQ(as<std::uint32_t>(l.data[IFLA_VRF_TABLE]), 10u);
}

TEST(LinkRequest, GreCarriesItsEndsAndTtl) {
  LinkInfo l = link_info({.kind = "gre",
                          .name = "gre1",
                          .parent = 3,
                          .local = ip("10.0.0.1"),
                          .remote = ip("10.0.0.2"),
                          .ttl = 64});
  EXPECT_EQ(l.kind, "gre");
  EXPECT_EQ(l.data[IFLA_GRE_LOCAL], bytes_of(ip("10.0.0.1")));
  EXPECT_EQ(l.data[IFLA_GRE_REMOTE], bytes_of(ip("10.0.0.2")));
  EXPECT_EQ(as<std::uint8_t>(l.data[IFLA_GRE_TTL]), 64);
  EXPECT_EQ(as<std::uint32_t>(l.data[IFLA_GRE_LINK]), 3u);
}

// gretap: gre's attributes in a link of its own kind (an Ethernet device).
TEST(LinkRequest, GretapCarriesGresAttributesUnderItsOwnKind) {
  LinkInfo l = link_info({.kind = "gretap",
                          .name = "gt1",
                          .parent = 3,
                          .local = ip("10.0.0.1"),
                          .remote = ip("10.0.0.2"),
                          .ttl = 64});
  EXPECT_EQ(l.kind, "gretap");
  EXPECT_EQ(l.data[IFLA_GRE_LOCAL], bytes_of(ip("10.0.0.1")));
  EXPECT_EQ(l.data[IFLA_GRE_REMOTE], bytes_of(ip("10.0.0.2")));
  EXPECT_EQ(as<std::uint8_t>(l.data[IFLA_GRE_TTL]), 64);
  EXPECT_EQ(as<std::uint32_t>(l.data[IFLA_GRE_LINK]), 3u);
}

// `requires: [feature KIND]` creates a sample of the kind: a tunnel with ends of its own (the
// fallback device has none), a vlan with an id and a lower device.
TEST(LinkRequest, FeatureSamplesCarryWhatTheKernelNeeds) {
  VirtualRequest gretap{.kind = "gretap", .name = "nslab-probe0"};
  EXPECT_FALSE(sample_virtual_request(gretap));
  EXPECT_EQ(link_info(gretap).data[IFLA_GRE_REMOTE], bytes_of(ip("192.0.2.1")));
  VirtualRequest vlan{.kind = "vlan", .name = "nslab-probe0"};
  EXPECT_TRUE(sample_virtual_request(vlan));
  EXPECT_EQ(vlan.vlan_id, 1);
  VirtualRequest dummy{.kind = "dummy", .name = "nslab-probe0"};
  EXPECT_FALSE(sample_virtual_request(dummy));
  EXPECT_EQ(link_info(dummy).kind, "dummy");
}

TEST(LinkRequest, Ip6greCarriesIpv6Ends) {
  LinkInfo l =
      link_info({.kind = "ip6gre", .name = "g6", .local = ip("fd00::1"), .remote = ip("fd00::2")});
  EXPECT_EQ(l.kind, "ip6gre");
  EXPECT_EQ(l.data[IFLA_GRE_LOCAL], bytes_of(ip("fd00::1")));
  EXPECT_EQ(l.data[IFLA_GRE_REMOTE], bytes_of(ip("fd00::2")));
}

TEST(LinkRequest, IpipAndSitCarryIpv4Ends) {
  for (const char* kind : {"ipip", "sit"}) {
    SCOPED_TRACE(kind);
    LinkInfo l =
        link_info({.kind = kind, .name = "t0", .local = ip("10.0.0.1"), .remote = ip("10.0.0.2")});
    EXPECT_EQ(l.kind, kind);
    EXPECT_EQ(l.data[IFLA_IPTUN_LOCAL], bytes_of(ip("10.0.0.1")));
    EXPECT_EQ(l.data[IFLA_IPTUN_REMOTE], bytes_of(ip("10.0.0.2")));
  }
}

TEST(LinkRequest, Ip6tnlCarriesIpv6Ends) {
  LinkInfo l = link_info(
      {.kind = "ip6tnl", .name = "t6", .local = ip("fd00::1"), .remote = ip("fd00::2"), .ttl = 9});
  EXPECT_EQ(l.kind, "ip6tnl");
  EXPECT_EQ(l.data[IFLA_IPTUN_LOCAL], bytes_of(ip("fd00::1")));
  EXPECT_EQ(l.data[IFLA_IPTUN_REMOTE], bytes_of(ip("fd00::2")));
  EXPECT_EQ(as<std::uint8_t>(l.data[IFLA_IPTUN_TTL]), 9);
}

TEST(LinkRequest, GeneveCarriesVniRemoteAndPort) {
  LinkInfo l = link_info(
      {.kind = "geneve", .name = "gnv0", .vni = 7, .remote = ip("10.0.0.2"), .port = 6081});
  EXPECT_EQ(l.kind, "geneve");
  EXPECT_EQ(as<std::uint32_t>(l.data[IFLA_GENEVE_ID]), 7u);
  EXPECT_EQ(l.data[IFLA_GENEVE_REMOTE], bytes_of(ip("10.0.0.2")));
  EXPECT_EQ(ntohs(as<std::uint16_t>(l.data[IFLA_GENEVE_PORT])), 6081);
}

TEST(LinkRequest, IpvlanAndVlanCarryParentAndSettings) {
  // `mode: l3s`, as the model reads it and the builder encodes it.
  LinkInfo i =
      link_info({.kind = "ipvlan",
                 .name = "ipv0",
                 .parent = 4,
                 .mode = kernel_value(apply::kIpvlanModeValues, *kIpvlanModes.parse("l3s"))});
  EXPECT_EQ(i.kind, "ipvlan");
  EXPECT_EQ(as<std::uint16_t>(i.data[IFLA_IPVLAN_MODE]), IPVLAN_MODE_L3S);
  EXPECT_EQ(as<std::uint32_t>(i.top[IFLA_LINK]), 4u);
  LinkInfo v = link_info({.kind = "vlan", .name = "eth0.10", .parent = 4, .vlan_id = 10});
  EXPECT_EQ(v.kind, "vlan");
  EXPECT_EQ(as<std::uint16_t>(v.data[IFLA_VLAN_ID]), 10);
  EXPECT_EQ(as<std::uint32_t>(v.top[IFLA_LINK]), 4u);
}

TEST(LinkRequest, MacvlanCarriesTheKernelsModeNumber) {
  LinkInfo l =
      link_info({.kind = "macvlan",
                 .name = "mv0",
                 .parent = 4,
                 .mode = kernel_value(apply::kMacvlanModeValues, *kMacvlanModes.parse("private"))});
  EXPECT_EQ(as<std::uint32_t>(l.data[IFLA_MACVLAN_MODE]), MACVLAN_MODE_PRIVATE);
}

TEST(LinkRequest, DummyIsItsKindAlone) {
  LinkInfo l = link_info({.kind = "dummy", .name = "dum0", .ifindex = 9, .mtu = 9000});
  EXPECT_EQ(l.kind, "dummy");
  EXPECT_TRUE(l.data.empty());
  EXPECT_EQ(as<std::uint32_t>(l.top[IFLA_MTU]), 9000u);
}

TEST(QdiscRequest, NetemCarriesDelayJitterLossAndLimitAtTheRoot) {
  std::vector<std::uint8_t> bytes = Rtnl::qdisc_request({.kind = "netem",
                                                         .ifindex = 2,
                                                         .delay_us = 20000,
                                                         .jitter_us = 5000,
                                                         .loss_percent = 1,
                                                         .limit = 500});
  Message m = decode(bytes, sizeof(tcmsg));
  EXPECT_EQ(m.h.nlmsg_type, RTM_NEWQDISC);
  EXPECT_EQ(m.h.nlmsg_flags & (NLM_F_CREATE | NLM_F_REPLACE), NLM_F_CREATE | NLM_F_REPLACE);
  auto tc = as<tcmsg>(m.body);
  EXPECT_EQ(tc.tcm_ifindex, 2);
  EXPECT_EQ(tc.tcm_parent, TC_H_ROOT);
  EXPECT_EQ(std::string(m.attrs[TCA_KIND].c_str()), "netem");
  auto q = as<tc_netem_qopt>(m.attrs[TCA_OPTIONS]);
  EXPECT_EQ(q.limit, 500u);
  // 1% of 2^32 - 1, as tc scales it.
  EXPECT_NEAR(static_cast<double>(q.loss), 42949673.0, 1.0);
  // Delay and jitter travel in scheduler ticks; their ratio is the one asked for.
  ASSERT_GT(q.jitter, 0u);
  EXPECT_EQ(q.latency / q.jitter, 4u);
}

TEST(NexthopRequest, GroupHasNoFamilyAndSendsWeightsMinusOne) {
  Message m =
      decode(Rtnl::nexthop_request({.id = 10, .group = {{1, 1}, {2, 3}}}, false), sizeof(nhmsg));
  EXPECT_EQ(m.h.nlmsg_type, RTM_NEWNEXTHOP);
  EXPECT_EQ(m.h.nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL), NLM_F_CREATE | NLM_F_EXCL);
  EXPECT_EQ(as<nhmsg>(m.body).nh_family, AF_UNSPEC);
  EXPECT_EQ(as<std::uint32_t>(m.attrs[NHA_ID]), 10u);
  const std::string& g = m.attrs[NHA_GROUP];
  ASSERT_EQ(g.size(), 2 * sizeof(nexthop_grp));
  nexthop_grp members[2];
  std::memcpy(members, g.data(), g.size());
  EXPECT_EQ(members[0].id, 1u);
  EXPECT_EQ(members[0].weight, 0);
  EXPECT_EQ(members[1].id, 2u);
  EXPECT_EQ(members[1].weight, 2);
}

TEST(NexthopRequest, GatewayNexthopCarriesFamilyDeviceAndAddress) {
  Message m = decode(Rtnl::nexthop_request(
                         {.id = 1, .family = Family::ipv6, .via = ip("fd00::2"), .oif = 5}, true),
                     sizeof(nhmsg));
  EXPECT_EQ(m.h.nlmsg_flags & NLM_F_REPLACE, NLM_F_REPLACE);
  EXPECT_EQ(as<nhmsg>(m.body).nh_family, AF_INET6);
  EXPECT_EQ(as<std::uint32_t>(m.attrs[NHA_OIF]), 5u);
  EXPECT_EQ(m.attrs[NHA_GATEWAY], bytes_of(ip("fd00::2")));
  EXPECT_EQ(m.attrs.count(NHA_GROUP), 0u);
}

}  // namespace
