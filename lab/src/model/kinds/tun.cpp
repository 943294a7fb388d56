// tun: a persistent tun or tap device that a program attaches to by name (TUNSETIFF, not
// rtnetlink: see apply::virtual_interface).

#include "keys.hpp"

namespace nslab::kinds {

const InterfaceKind& tun_kind() {
  static const InterfaceKind kind{
      .kind = VirtualSpec::Kind::tun,
      .keys = {{"mode", nullptr,
                [](VirtualSpec& d, KeyValue& v) {
                  if (auto w = word_value(v, "mode", kTunModes)) d.tun_mode = *w;
                },
                words_of(kTunModes) + " (absent: " + std::string(kTunModes.begin()->name) + ")"}},
      // A tap is an Ethernet device; a tun carries IP packets only.
      .bridge_port = [](const VirtualSpec& d) { return d.tun_mode.value == TunMode::tap; },
      .bridged_as = "tap",
      .finish = [](VirtualSpec& d, Diagnostics&) { default_pos(d.tun_mode, d); },
      .label = [](const VirtualSpec& d) { return std::string(kTunModes.name(d.tun_mode.value)); },
  };
  return kind;
}

}  // namespace nslab::kinds
