#pragma once
// Internal: the kernel half of the interface kinds (the model half: nslab/interface_kinds.hpp),
// the rtnetlink request that creates one. One file per kind here, one line in kinds.cpp.

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "../rtnl_libnl.hpp"

namespace nslab::rtnl_detail {

struct LinkKind {
  const char* name;       // IFLA_INFO_KIND, the model's word
  rtnl_link* (*alloc)();  // the link object of libnl's type for it
  // Its IFLA_INFO_DATA, from the request (the name, ifindex and MTU are set for every kind).
  void (*fill)(rtnl_link* link, const VirtualRequest& req);
  // What libnl 3.7 cannot set, added to the built request's bytes (vxlan's DF); may be null.
  void (*extend)(std::vector<std::uint8_t>& bytes, const VirtualRequest& req) = nullptr;
  // For `requires: [feature KIND]`: what a request that the kernel accepts in a fresh
  // namespace needs besides a name (a VNI, tunnel ends unlike the fallback device's), and
  // whether it needs a lower device (`parent`).
  void (*sample)(VirtualRequest& req) = nullptr;
  bool needs_lower = false;
};

// A tunnel's sample: ends of its own (the namespace's fallback device, gre0 or sit0, has none,
// and a second tunnel with the same ends is EEXIST).
inline void ipv4_ends_sample(VirtualRequest& req) {
  req.local = IpAddress::parse("192.0.2.2");
  req.remote = IpAddress::parse("192.0.2.1");
}
inline void ipv6_ends_sample(VirtualRequest& req) {
  req.local = IpAddress::parse("2001:db8::2");
  req.remote = IpAddress::parse("2001:db8::1");
}

// libnl's gre setters (gre and gretap share them): the ends, TTL and underlay of `req`.
void fill_gre(rtnl_link* l, const VirtualRequest& req);

// The kernel half of a root qdisc kind (the model half: nslab/qdisc_kinds.hpp), one file each
// here (tbf.cpp, htb.cpp, netem.cpp), one line in kinds.cpp.
struct QdiscKernelKind {
  const char* name;  // TCA_KIND, the model's word
  // Its options on the root qdisc object, from the request.
  void (*fill)(rtnl_qdisc* q, const QdiscRequest& req);
  // What follows the qdisc's creation (htb's default class); a libnl error or 0. May be null.
  int (*after)(nl_sock* sk, const QdiscRequest& req) = nullptr;
  // What a dump reports of it beyond its kind and handle. May be null.
  void (*read)(rtnl_qdisc* q, QdiscState& state) = nullptr;
};
const QdiscKernelKind* qdisc_kernel_kind(std::string_view name);

inline rtnl_tc* tc_of(rtnl_qdisc* q) {
  return reinterpret_cast<rtnl_tc*>(q);
}

// The kind's half, or nullptr for a kind without attributes (dummy, ifb: a plain link of that
// IFLA_INFO_KIND).
const LinkKind* link_kind(std::string_view name);

// Addresses in the forms libnl's tunnel setters take (zero when absent).
std::uint32_t ipv4_of(const std::optional<IpAddress>& a);
in6_addr ipv6_of(const std::optional<IpAddress>& a);

// Adds attribute `type` (with `payload`) to the attribute `inner` nested in the top-level
// attribute `outer` of a built request whose family header is `header` bytes. The nests'
// lengths and the message's grow by the new attribute.
void append_nested(std::vector<std::uint8_t>& m, std::size_t header, int outer, int inner, int type,
                   const void* payload, std::size_t len);

}  // namespace nslab::rtnl_detail
