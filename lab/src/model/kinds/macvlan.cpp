// macvlan: a second MAC address on a lower device, in one of the kernel's modes.

#include "keys.hpp"

namespace nslab::kinds {

const InterfaceKind& macvlan_kind() {
  static const InterfaceKind kind{
      .kind = VirtualSpec::Kind::macvlan,
      .keys = {{"parent", "'parent'", parent, kParentValue},
               {"mode", nullptr,
                [](VirtualSpec& d, KeyValue& v) {
                  if (auto w = word_value(v, "mode", kMacvlanModes)) d.macvlan_mode = *w;
                },
                words_of(kMacvlanModes) + " (absent: " + std::string(kMacvlanModes.begin()->name) +
                    ")"}},
      .bridge_port = [](const VirtualSpec&) { return true; },
      .goes_with_lower = true,  // macvlan_device_event: NETDEV_UNREGISTER of the lower device
      .finish = [](VirtualSpec& d, Diagnostics&) { default_pos(d.macvlan_mode, d); },
      .label =
          [](const VirtualSpec& d) {
            return std::string(kMacvlanModes.name(d.macvlan_mode.value));
          },
  };
  return kind;
}

}  // namespace nslab::kinds
