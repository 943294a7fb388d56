#pragma once
// Internal to src/kernel/rtnl*.cpp: what the libnl adapters share. Only these files include libnl.

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/class.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nslab/error.hpp"
#include "nslab/ip.hpp"
#include "nslab/rtnl.hpp"

namespace nslab::rtnl_detail {

inline nl_addr* to_nl(const IpAddress& a, int prefix) {
  nl_addr* n =
      nl_addr_build(family_af(a.family), a.bytes.data(), a.family == Family::ipv4 ? 4 : 16);
  if (!n) throw Error("nl_addr_build failed", ENOMEM);
  nl_addr_set_prefixlen(n, prefix);
  return n;
}

inline std::optional<IpAddress> from_nl(nl_addr* n) {
  if (!n) return std::nullopt;
  IpAddress a;
  int af = nl_addr_get_family(n);
  if (af != AF_INET && af != AF_INET6) return std::nullopt;
  a.family = af == AF_INET ? Family::ipv4 : Family::ipv6;
  std::size_t len = std::min<std::size_t>(nl_addr_get_len(n), 16);
  if (len == 0) return std::nullopt;  // a default route's dst
  std::memcpy(a.bytes.data(), nl_addr_get_binary_addr(n), len);
  return a;
}

// RAII for libnl objects whose put/free function differs per type.
template <class T, void (*Put)(T*)>
struct Ref {
  T* p = nullptr;
  explicit Ref(T* x) : p(x) {}
  Ref(Ref&& o) noexcept : p(o.p) { o.p = nullptr; }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  ~Ref() {
    if (p) Put(p);
  }
  T* get() const { return p; }
  T* release() { return std::exchange(p, nullptr); }
};
using LinkRef = Ref<rtnl_link, rtnl_link_put>;
using AddrRef = Ref<rtnl_addr, rtnl_addr_put>;
using RouteRef = Ref<rtnl_route, rtnl_route_put>;
using RuleRef = Ref<rtnl_rule, rtnl_rule_put>;
using NeighRef = Ref<rtnl_neigh, rtnl_neigh_put>;
using NlAddrRef = Ref<nl_addr, nl_addr_put>;
using CacheRef = Ref<nl_cache, nl_cache_free>;

// Calls f with every object of a dump, as libnl's type T.
template <class T, class F>
void for_each(const CacheRef& cache, F&& f) {
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o))
    f(reinterpret_cast<T*>(o));
}

using MsgRef = Ref<nl_msg, nlmsg_free>;
using QdiscRef = Ref<rtnl_qdisc, rtnl_qdisc_put>;
using ClassRef = Ref<rtnl_class, rtnl_class_put>;

// The bytes of a request libnl built (for the tests of request messages).
inline std::vector<std::uint8_t> bytes_of(nl_msg* msg) {
  nlmsghdr* h = nlmsg_hdr(msg);
  auto* p = reinterpret_cast<const std::uint8_t*>(h);
  return {p, p + h->nlmsg_len};
}

// The bytes of the request `build(&msg)` makes (a libnl rtnl_*_build_*_request), for the tests
// of request messages; `what` names it in the error.
template <class Build>
std::vector<std::uint8_t> built_request(Build&& build, const std::string& what) {
  nl_msg* raw = nullptr;
  if (int err = build(&raw); err < 0)
    throw Error("build " + what + " request: " + nl_geterror(err), EINVAL);
  MsgRef msg(raw);
  return bytes_of(msg.get());
}

// Sends a request of `sk` and calls `each` with every message of the answer (a dump's parts),
// then returns libnl's status (negative: an error the socket's error callback has seen).
int dump_raw(nl_sock* sk, int type, const void* header, std::size_t len,
             const std::function<void(nlmsghdr*)>& each);

}  // namespace nslab::rtnl_detail
