#pragma once
// Raw route netlink for the netlink probes: they speak the protocol themselves (nlmsghdr,
// NLMSG_* macros, rtattr) so that they test the protocol, not a library. Header-only.

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/nexthop.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "probe.hpp"

namespace probe::rtnl {

// An open NETLINK_ROUTE socket bound to `groups` (RTMGRP_* bits); reports its port id.
struct Socket {
  int fd = -1;
  unsigned port = 0;
  unsigned seq = 1000;

  explicit Socket(unsigned groups = 0, int rcvbuf = 0) {
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) fail("socket(AF_NETLINK)", errno);
    if (rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = groups;
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) fail("bind netlink", errno);
    socklen_t len = sizeof sa;
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    port = sa.nl_pid;
  }
  ~Socket() {
    if (fd >= 0) close(fd);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  void join(unsigned group) {
    if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
      fail("NETLINK_ADD_MEMBERSHIP", errno);
  }
  void enable(int option) {
    int one = 1;
    setsockopt(fd, SOL_NETLINK, option, &one, sizeof one);
  }
  // Sends a request built in `buf`; stamps seq and returns it.
  unsigned send(nlmsghdr* h) {
    h->nlmsg_seq = ++seq;
    h->nlmsg_pid = 0;
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd, h, h->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
      fail("sendto netlink", errno);
    return h->nlmsg_seq;
  }
};

// A request under construction: header, family struct, attributes.
struct Request {
  alignas(nlmsghdr) char buf[4096] = {};
  nlmsghdr* h = reinterpret_cast<nlmsghdr*>(buf);

  template <class Body>
  Body* start(unsigned short type, unsigned short flags) {
    h->nlmsg_len = NLMSG_LENGTH(sizeof(Body));
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    return static_cast<Body*>(NLMSG_DATA(h));
  }
  void attr(unsigned short type, const void* data, std::size_t len) {
    auto* a = reinterpret_cast<rtattr*>(buf + NLMSG_ALIGN(h->nlmsg_len));
    a->rta_type = type;
    a->rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
    std::memcpy(RTA_DATA(a), data, len);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
  }
};

inline std::map<int, const rtattr*> attrs(const rtattr* first, int len) {
  std::map<int, const rtattr*> out;
  for (auto* a = first; RTA_OK(a, len); a = RTA_NEXT(a, len)) out[a->rta_type] = a;
  return out;
}

// The attributes of a message whose family header is a `Header` (ndmsg, tcmsg, nhmsg, ...).
template <class Header>
std::map<int, const rtattr*> attrs_after(const nlmsghdr* h) {
  auto* body = static_cast<const char*>(NLMSG_DATA(h));
  return attrs(reinterpret_cast<const rtattr*>(body + NLMSG_ALIGN(sizeof(Header))),
               static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(Header))));
}

inline std::string addr_text(int family, const rtattr* a) {
  if (!a) return "";
  char buf[INET6_ADDRSTRLEN] = "";
  inet_ntop(family, RTA_DATA(a), buf, sizeof buf);
  return buf;
}

inline const char* type_name(unsigned short t) {
  switch (t) {
    case RTM_NEWLINK:
      return "NEWLINK";
    case RTM_DELLINK:
      return "DELLINK";
    case RTM_NEWADDR:
      return "NEWADDR";
    case RTM_DELADDR:
      return "DELADDR";
    case RTM_NEWROUTE:
      return "NEWROUTE";
    case RTM_DELROUTE:
      return "DELROUTE";
    case RTM_NEWNEIGH:
      return "NEWNEIGH";
    case RTM_DELNEIGH:
      return "DELNEIGH";
    case RTM_NEWNEXTHOP:
      return "NEWNEXTHOP";
    case RTM_DELNEXTHOP:
      return "DELNEXTHOP";
    case RTM_NEWQDISC:
      return "NEWQDISC";
    case RTM_DELQDISC:
      return "DELQDISC";
    case NLMSG_DONE:
      return "DONE";
    case NLMSG_ERROR:
      return "ERROR";
    default:
      return "OTHER";
  }
}

// A link-layer address as text, "02:00:00:00:00:01".
inline std::string lladdr_text(const rtattr* ll) {
  std::string mac;
  auto* b = static_cast<const unsigned char*>(RTA_DATA(ll));
  for (std::size_t i = 0; i < RTA_PAYLOAD(ll); ++i) {
    char part[4];
    std::snprintf(part, sizeof part, i ? ":%02x" : "%02x", b[i]);
    mac += part;
  }
  return mac;
}

inline const char* operstate_name(int s) {
  static const char* names[] = {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
                                "TESTING", "DORMANT",    "UP"};
  return s >= 0 && s <= 6 ? names[s] : "?";
}

inline const char* route_type_name(int t) {
  static const char* names[] = {"unspec",   "unicast",   "local",     "broadcast",
                                "anycast",  "multicast", "blackhole", "unreachable",
                                "prohibit", "throw",     "nat",       "xresolve"};
  return t >= 0 && t <= 11 ? names[t] : "?";
}

template <class T>
T value_of(const rtattr* a) {
  T v{};
  std::memcpy(&v, RTA_DATA(a), std::min<std::size_t>(sizeof v, RTA_PAYLOAD(a)));
  return v;
}

// IFA_F_* names, as `ip address` prints them.
inline Json address_flags(unsigned f) {
  static const std::pair<unsigned, const char*> names[] = {
      {IFA_F_SECONDARY, "secondary"},       {IFA_F_NODAD, "nodad"},
      {IFA_F_OPTIMISTIC, "optimistic"},     {IFA_F_DADFAILED, "dadfailed"},
      {IFA_F_HOMEADDRESS, "home"},          {IFA_F_DEPRECATED, "deprecated"},
      {IFA_F_TENTATIVE, "tentative"},       {IFA_F_PERMANENT, "permanent"},
      {IFA_F_MANAGETEMPADDR, "mngtmpaddr"}, {IFA_F_NOPREFIXROUTE, "noprefixroute"}};
  Json out = Json::array();
  for (auto [bit, name] : names)
    if (f & bit) out.push_back(name);
  return out;
}

// RTA_METRICS as {name: value}, with `lock` listing the locked ones (RTAX_LOCK bits).
inline void route_metrics(Json& j, const rtattr* m) {
  static const std::pair<int, const char*> names[] = {
      {RTAX_MTU, "mtu"},         {RTAX_ADVMSS, "advmss"},     {RTAX_INITCWND, "initcwnd"},
      {RTAX_RTO_MIN, "rto_min"}, {RTAX_HOPLIMIT, "hoplimit"}, {RTAX_WINDOW, "window"}};
  auto at = attrs(static_cast<const rtattr*>(RTA_DATA(m)), static_cast<int>(RTA_PAYLOAD(m)));
  unsigned lock = at[RTAX_LOCK] ? value_of<unsigned>(at[RTAX_LOCK]) : 0;
  Json locked = Json::array();
  for (auto [type, name] : names) {
    if (at[type]) j[name] = value_of<unsigned>(at[type]);
    if (lock & (1u << type)) locked.push_back(name);
  }
  if (!locked.empty()) j["lock"] = locked;
}

// One rtnetlink object as a JSON record (link, address, route, neighbour or nexthop).
inline Json describe(const nlmsghdr* h) {
  Json j = {{"type", type_name(h->nlmsg_type)}};
  switch (h->nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
      auto at = attrs(IFLA_RTA(ifi), static_cast<int>(IFLA_PAYLOAD(h)));
      j["object"] = "link";
      j["ifindex"] = ifi->ifi_index;
      if (at[IFLA_IFNAME]) j["ifname"] = static_cast<const char*>(RTA_DATA(at[IFLA_IFNAME]));
      if (at[IFLA_MTU]) j["mtu"] = *static_cast<const unsigned*>(RTA_DATA(at[IFLA_MTU]));
      if (const rtattr* ll = at[IFLA_ADDRESS]) j["lladdr"] = lladdr_text(ll);
      j["up"] = (ifi->ifi_flags & IFF_UP) != 0;
      j["lower_up"] = (ifi->ifi_flags & IFF_LOWER_UP) != 0;
      j["running"] = (ifi->ifi_flags & IFF_RUNNING) != 0;
      if (at[IFLA_OPERSTATE])
        j["operstate"] =
            operstate_name(*static_cast<const unsigned char*>(RTA_DATA(at[IFLA_OPERSTATE])));
      if (at[IFLA_MASTER]) j["master"] = value_of<int>(at[IFLA_MASTER]);
      // The lower device's ifindex (a veth's peer), in whatever namespace that device lives.
      if (at[IFLA_LINK]) j["link"] = value_of<int>(at[IFLA_LINK]);
      if (const rtattr* info = at[IFLA_LINKINFO]) {
        auto li =
            attrs(static_cast<const rtattr*>(RTA_DATA(info)), static_cast<int>(RTA_PAYLOAD(info)));
        if (li[IFLA_INFO_KIND]) j["kind"] = static_cast<const char*>(RTA_DATA(li[IFLA_INFO_KIND]));
      }
      if (at[IFLA_STATS64]) {
        auto st = value_of<rtnl_link_stats64>(at[IFLA_STATS64]);
        j["rx_packets"] = st.rx_packets;
        j["tx_packets"] = st.tx_packets;
        j["rx_dropped"] = st.rx_dropped;
        j["tx_dropped"] = st.tx_dropped;
      }
      break;
    }
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
      auto at = attrs(IFA_RTA(ifa), static_cast<int>(IFA_PAYLOAD(h)));
      j["object"] = "address";
      j["ifindex"] = ifa->ifa_index;
      j["family"] = ifa->ifa_family == AF_INET ? "ipv4" : "ipv6";
      const rtattr* a = at[IFA_LOCAL] ? at[IFA_LOCAL] : at[IFA_ADDRESS];
      j["address"] = addr_text(ifa->ifa_family, a) + "/" + std::to_string(ifa->ifa_prefixlen);
      // IFA_FLAGS holds all 32 bits; ifa_flags only the first 8.
      j["flags"] =
          address_flags(at[IFA_FLAGS] ? value_of<unsigned>(at[IFA_FLAGS]) : ifa->ifa_flags);
      if (at[IFA_CACHEINFO]) {
        auto ci = value_of<ifa_cacheinfo>(at[IFA_CACHEINFO]);
        auto lft = [](unsigned v) -> Json {
          if (v == 0xffffffffu) return "forever";
          return v;
        };
        j["valid_lft"] = lft(ci.ifa_valid);
        j["preferred_lft"] = lft(ci.ifa_prefered);
      }
      break;
    }
    case RTM_NEWROUTE:
    case RTM_DELROUTE: {
      auto* rt = static_cast<const rtmsg*>(NLMSG_DATA(h));
      auto at = attrs(RTM_RTA(rt), static_cast<int>(RTM_PAYLOAD(h)));
      j["object"] = "route";
      j["family"] = rt->rtm_family == AF_INET ? "ipv4" : "ipv6";
      j["table"] =
          at[RTA_TABLE] ? *static_cast<const unsigned*>(RTA_DATA(at[RTA_TABLE])) : rt->rtm_table;
      std::string dst = at[RTA_DST] ? addr_text(rt->rtm_family, at[RTA_DST]) : "default";
      j["dst"] = dst == "default" ? dst : dst + "/" + std::to_string(rt->rtm_dst_len);
      if (at[RTA_GATEWAY]) j["gateway"] = addr_text(rt->rtm_family, at[RTA_GATEWAY]);
      if (at[RTA_OIF]) j["oif"] = *static_cast<const int*>(RTA_DATA(at[RTA_OIF]));
      j["protocol"] = rt->rtm_protocol;
      j["route_type"] = route_type_name(rt->rtm_type);
      j["metric"] = at[RTA_PRIORITY] ? value_of<unsigned>(at[RTA_PRIORITY]) : 0u;
      // An exception (learned PMTU, redirect) hangs on its route as a clone.
      j["cloned"] = (rt->rtm_flags & RTM_F_CLONED) != 0;
      if (at[RTA_METRICS]) route_metrics(j, at[RTA_METRICS]);
      // An exception's remaining life: RTA_CACHEINFO's rta_expires, in clock ticks (USER_HZ).
      if (at[RTA_CACHEINFO]) {
        auto ci = value_of<rta_cacheinfo>(at[RTA_CACHEINFO]);
        if (ci.rta_expires)
          j["expires_ms"] = static_cast<long long>(ci.rta_expires) * 1000 / sysconf(_SC_CLK_TCK);
      }
      if (at[RTA_NH_ID]) j["nhid"] = value_of<unsigned>(at[RTA_NH_ID]);
      if (const rtattr* mp = at[RTA_MULTIPATH]) {
        Json paths = Json::array();
        auto* nh = static_cast<const rtnexthop*>(RTA_DATA(mp));
        int left = static_cast<int>(RTA_PAYLOAD(mp));
        while (RTNH_OK(nh, left)) {
          Json p = {{"oif", nh->rtnh_ifindex}, {"weight", nh->rtnh_hops + 1}};
          auto na = attrs(RTNH_DATA(nh), static_cast<int>(nh->rtnh_len - sizeof *nh));
          if (na[RTA_GATEWAY]) p["gateway"] = addr_text(rt->rtm_family, na[RTA_GATEWAY]);
          paths.push_back(p);
          left -= static_cast<int>(RTNH_ALIGN(nh->rtnh_len));
          nh = RTNH_NEXT(nh);
        }
        j["multipath"] = paths;
      }
      break;
    }
    case RTM_NEWQDISC:
    case RTM_DELQDISC: {
      auto* tc = static_cast<const tcmsg*>(NLMSG_DATA(h));
      auto at = attrs_after<tcmsg>(h);
      j["object"] = "qdisc";
      j["ifindex"] = tc->tcm_ifindex;
      j["root"] = tc->tcm_parent == TC_H_ROOT;
      char handle[16];
      std::snprintf(handle, sizeof handle, "%x:", tc->tcm_handle >> 16);
      j["handle"] = handle;
      const std::string kind = at[TCA_KIND] ? static_cast<const char*>(RTA_DATA(at[TCA_KIND])) : "";
      j["kind"] = kind;
      if (kind == "tbf" && at[TCA_OPTIONS]) {
        auto o = attrs(static_cast<const rtattr*>(RTA_DATA(at[TCA_OPTIONS])),
                       static_cast<int>(RTA_PAYLOAD(at[TCA_OPTIONS])));
        if (o[TCA_TBF_PARMS]) {
          auto q = value_of<tc_tbf_qopt>(o[TCA_TBF_PARMS]);
          j["rate"] = o[TCA_TBF_RATE64] ? value_of<unsigned long long>(o[TCA_TBF_RATE64])
                                        : q.rate.rate;  // bytes per second
          j["limit"] = q.limit;                         // bytes the queue holds
        }
      }
      break;
    }
    case RTM_NEWNEXTHOP:
    case RTM_DELNEXTHOP: {
      auto* nh = static_cast<const nhmsg*>(NLMSG_DATA(h));
      auto at = attrs_after<nhmsg>(h);
      j["object"] = "nexthop";
      if (at[NHA_ID]) j["id"] = value_of<unsigned>(at[NHA_ID]);
      if (at[NHA_OIF]) j["oif"] = value_of<unsigned>(at[NHA_OIF]);
      if (at[NHA_GATEWAY]) j["gateway"] = addr_text(nh->nh_family, at[NHA_GATEWAY]);
      j["blackhole"] = at.count(NHA_BLACKHOLE) != 0;
      if (const rtattr* g = at[NHA_GROUP]) {
        Json members = Json::array();
        auto* m = static_cast<const nexthop_grp*>(RTA_DATA(g));
        for (std::size_t i = 0; i < RTA_PAYLOAD(g) / sizeof *m; ++i)
          members.push_back({{"id", m[i].id}, {"weight", m[i].weight + 1}});
        j["group"] = members;
      }
      break;
    }
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH: {
      auto* nd = static_cast<const ndmsg*>(NLMSG_DATA(h));
      auto at = attrs_after<ndmsg>(h);
      j["object"] = "neighbour";
      j["ifindex"] = nd->ndm_ifindex;
      j["address"] = addr_text(nd->ndm_family, at[NDA_DST]);
      j["state"] = nd->ndm_state;
      if (const rtattr* ll = at[NDA_LLADDR]) j["lladdr"] = lladdr_text(ll);
      break;
    }
    default:
      break;
  }
  return j;
}

}  // namespace probe::rtnl
