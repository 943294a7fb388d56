// ipvlan: the lower device's MAC address, switched by IP address (l2, l3 or l3s).

#include "keys.hpp"

namespace nslab::kinds {

const InterfaceKind& ipvlan_kind() {
  static const InterfaceKind kind{
      .kind = VirtualSpec::Kind::ipvlan,
      .keys = {{"parent", "'parent'", parent, kParentValue},
               {"mode", nullptr,
                [](VirtualSpec& d, KeyValue& v) {
                  if (auto w = word_value(v, "mode", kIpvlanModes)) d.ipvlan_mode = *w;
                },
                words_of(kIpvlanModes) + " (absent: " + std::string(kIpvlanModes.begin()->name) +
                    ")"}},
      .goes_with_lower = true,  // ipvlan_device_event: NETDEV_UNREGISTER of the lower device
      .finish = [](VirtualSpec& d, Diagnostics&) { default_pos(d.ipvlan_mode, d); },
      .label =
          [](const VirtualSpec& d) { return std::string(kIpvlanModes.name(d.ipvlan_mode.value)); },
  };
  return kind;
}

}  // namespace nslab::kinds
