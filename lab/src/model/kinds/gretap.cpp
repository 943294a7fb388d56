// gretap: Ethernet frames in GRE over IPv4 (`ip link add NAME type gretap local A remote B`).
// An IP tunnel's keys, written under `tunnels:`; unlike gre an Ethernet device, so a bridge
// takes it.

#include "keys.hpp"

namespace nslab::kinds {

const InterfaceKind& gretap_kind() {
  static const InterfaceKind kind = [] {
    InterfaceKind k = ip_tunnel_kind(VirtualSpec::Kind::gretap);
    k.bridge_port = [](const VirtualSpec&) { return true; };
    return k;
  }();
  return kind;
}

}  // namespace nslab::kinds
