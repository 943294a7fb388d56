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
                },
                "the VXLAN network identifier, 0-16777215"},
               {"local", nullptr, local, kLocalValue},
               {"remote", kNeedsRemote, remote, kRemoteValue},
               {"port", nullptr, port, "a UDP port, 1-65535 (absent: the kernel's 8472)"},
               {"dev", nullptr, dev, kDevValue},
               {"df", nullptr,
                [](VirtualSpec& d, KeyValue& v) { d.df = word_value(v, "df", kVxlanDf); },
                words_of(kVxlanDf) + ": the outer IPv4 header's DF bit (absent: unset)"}},
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
