#pragma once
// Internal: the keys several interface kinds share, each a reader for InterfaceKind::Key.

#include "nslab/interface_kinds.hpp"

namespace nslab::kinds {

// `parent`: the lower device of a macvlan, an ipvlan, a vlan.
inline void parent(VirtualSpec& d, KeyValue& v) {
  d.parent = ifname_value(v, "parent");
}
// `dev`: the device a vxlan or a tunnel sends through.
inline void dev(VirtualSpec& d, KeyValue& v) {
  d.parent = ifname_value(v, "dev");
}
inline void local(VirtualSpec& d, KeyValue& v) {
  d.local = address_value(v, "local");
}
inline void remote(VirtualSpec& d, KeyValue& v) {
  d.remote = address_value(v, "remote");
}
inline constexpr const char* kNeedsRemote = "'remote' (the other tunnel end)";
// What the shared keys' values are, for the key reference.
inline constexpr const char* kParentValue = "an interface of the node (the lower device)";
inline constexpr const char* kDevValue = "an interface of the node the outer packets leave by";
inline constexpr const char* kLocalValue = "an address of the node (the outer source)";
inline constexpr const char* kRemoteValue = "the other end's address";
inline constexpr const char* kPortValue = "a UDP port, 1-65535";
inline constexpr const char* kTtlValue = "the outer TTL, 1-255 (absent: inherited)";
inline void port(VirtualSpec& d, KeyValue& v) {
  d.port = integer_value<int>(v, "port", 1, 65535);
}
inline void ttl(VirtualSpec& d, KeyValue& v) {
  d.ttl = integer_value<int>(v, "ttl", 1, 255);
}
// The key table and checks of the IP tunnels (ip_tunnels.cpp): local, remote, ttl, dev, and
// ends of the outer header's family.
InterfaceKind ip_tunnel_kind(VirtualSpec::Kind kind);

// Absent or refused, a mode is the kernel's default, at the interface's position.
template <class E>
void default_pos(Located<E>& mode, const VirtualSpec& d) {
  if (mode.pos.file.empty()) mode.pos = d.pos;
}

}  // namespace nslab::kinds
