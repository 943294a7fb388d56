// The IP tunnels gre, ip6gre, ipip, sit and ip6tnl: one key table, written under `tunnels:`.
// The outer header's family is IPv6 for ip6gre and ip6tnl, IPv4 for the others (sit carries
// IPv6 in IPv4).

#include <fmt/format.h>

#include "keys.hpp"

namespace nslab::kinds {

namespace {

Family outer_family(VirtualSpec::Kind k) {
  return k == VirtualSpec::Kind::ip6gre || k == VirtualSpec::Kind::ip6tnl ? Family::ipv6
                                                                          : Family::ipv4;
}

void check_ends(VirtualSpec& d, Diagnostics& diags) {
  const Family outer = outer_family(d.kind);
  for (auto* end : {&d.local, &d.remote})
    if (*end && (*end)->value.family != outer) {
      diags.error((*end)->pos,
                  fmt::format("a {} tunnel's ends are {} addresses, not {}",
                              virtual_kind_name(d.kind), family_name(outer), (*end)->value.str()));
      end->reset();  // nothing more to say about it
    }
}

}  // namespace

InterfaceKind ip_tunnel_kind(VirtualSpec::Kind k) {
  return {.kind = k,
          .keys = {{"local", nullptr, local, kLocalValue},
                   {"remote", kNeedsRemote, remote, kRemoteValue},
                   {"ttl", nullptr, ttl, kTtlValue},
                   {"dev", nullptr, dev, kDevValue}},
          .tunnel = true,
          .finish = check_ends};
}

const InterfaceKind& gre_kind() {
  static const InterfaceKind kind = ip_tunnel_kind(VirtualSpec::Kind::gre);
  return kind;
}
const InterfaceKind& ip6gre_kind() {
  static const InterfaceKind kind = ip_tunnel_kind(VirtualSpec::Kind::ip6gre);
  return kind;
}
const InterfaceKind& ipip_kind() {
  static const InterfaceKind kind = ip_tunnel_kind(VirtualSpec::Kind::ipip);
  return kind;
}
const InterfaceKind& sit_kind() {
  static const InterfaceKind kind = ip_tunnel_kind(VirtualSpec::Kind::sit);
  return kind;
}
const InterfaceKind& ip6tnl_kind() {
  static const InterfaceKind kind = ip_tunnel_kind(VirtualSpec::Kind::ip6tnl);
  return kind;
}

}  // namespace nslab::kinds
