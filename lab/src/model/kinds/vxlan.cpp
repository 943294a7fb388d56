// vxlan: Ethernet over UDP to one remote end (unicast, as `ip link add ... remote`).

#include <fmt/format.h>

#include "keys.hpp"

namespace nslab::kinds {

const InterfaceKind& vxlan_kind() {
  static const InterfaceKind kind{
      .kind = VirtualSpec::Kind::vxlan,
      .keys = {{"vni", "'vni'",
                [](VirtualSpec& d, KeyValue& v) {
                  d.vni = integer_value<std::uint32_t>(v, "vni", 0, 0xffffff);
                }},
               {"local", nullptr, local},
               {"remote", kNeedsRemote, remote},
               {"port", nullptr, port},  // absent: the kernel's 8472
               {"dev", nullptr, dev},
               // The outer IPv4 header's DF bit, as `ip link ... df set`; absent: unset.
               {"df", nullptr,
                [](VirtualSpec& d, KeyValue& v) { d.df = word_value(v, "df", kVxlanDf); }}},
      .bridge_port = [](const VirtualSpec&) { return true; },
      .goes_with_lower = true,  // vxlan_netdevice_event: the vxlans whose dev it was
      .finish =
          [](VirtualSpec& d, Diagnostics& diags) {
            if (d.local && d.remote && d.local->value.family != d.remote->value.family)
              diags.error(d.remote->pos, "vxlan local and remote must be of one family");
          },
      .label =
          [](const VirtualSpec& d) { return d.vni ? fmt::format("vni {}", d.vni->value) : ""; },
  };
  return kind;
}

}  // namespace nslab::kinds
