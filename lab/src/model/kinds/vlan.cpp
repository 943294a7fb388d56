// vlan: 802.1Q-tagged frames on a lower device.

#include <fmt/format.h>

#include "keys.hpp"

namespace nslab::kinds {

const InterfaceKind& vlan_kind() {
  static const InterfaceKind kind{
      .kind = VirtualSpec::Kind::vlan,
      .keys = {{"parent", "'parent'", parent, kParentValue},
               {"id", "'id'",
                [](VirtualSpec& d, KeyValue& v) {
                  d.id = integer_value<int>(v, "vlan id", 1, 4094);
                },
                "the 802.1Q id, 1-4094"}},
      .bridge_port = [](const VirtualSpec&) { return true; },
      .goes_with_lower = true,  // vlan_device_event: NETDEV_UNREGISTER of the real device
      .label = [](const VirtualSpec& d) { return d.id ? fmt::format("id {}", d.id->value) : ""; },
  };
  return kind;
}

}  // namespace nslab::kinds
