#pragma once
// Raw route netlink for the netlink probes: they speak the protocol themselves (nlmsghdr,
// NLMSG_* macros, rtattr) so that they test the protocol, not a library. Header-only.

#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

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
    case NLMSG_DONE:
      return "DONE";
    case NLMSG_ERROR:
      return "ERROR";
    default:
      return "OTHER";
  }
}

inline const char* operstate_name(int s) {
  static const char* names[] = {"UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
                                "TESTING", "DORMANT",    "UP"};
  return s >= 0 && s <= 6 ? names[s] : "?";
}

// One rtnetlink object as a JSON record (link, address, route or neighbour).
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
      j["up"] = (ifi->ifi_flags & IFF_UP) != 0;
      j["lower_up"] = (ifi->ifi_flags & IFF_LOWER_UP) != 0;
      j["running"] = (ifi->ifi_flags & IFF_RUNNING) != 0;
      if (at[IFLA_OPERSTATE])
        j["operstate"] =
            operstate_name(*static_cast<const unsigned char*>(RTA_DATA(at[IFLA_OPERSTATE])));
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
      break;
    }
    case RTM_NEWNEIGH:
    case RTM_DELNEIGH: {
      auto* nd = static_cast<const ndmsg*>(NLMSG_DATA(h));
      auto at = attrs(reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(nd) +
                                                      NLMSG_ALIGN(sizeof *nd)),
                      static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *nd)));
      j["object"] = "neighbour";
      j["ifindex"] = nd->ndm_ifindex;
      j["address"] = addr_text(nd->ndm_family, at[NDA_DST]);
      j["state"] = nd->ndm_state;
      if (const rtattr* ll = at[NDA_LLADDR]) {
        std::string mac;
        auto* b = static_cast<const unsigned char*>(RTA_DATA(ll));
        for (std::size_t i = 0; i < RTA_PAYLOAD(ll); ++i) {
          char part[4];
          std::snprintf(part, sizeof part, i ? ":%02x" : "%02x", b[i]);
          mac += part;
        }
        j["lladdr"] = mac;
      }
      break;
    }
    default:
      break;
  }
  return j;
}

}  // namespace probe::rtnl
