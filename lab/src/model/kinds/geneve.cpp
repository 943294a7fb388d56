// geneve: Ethernet over UDP with a VNI (`id`), written under `tunnels:`.

#include <fmt/format.h>

#include "keys.hpp"

namespace nslab::kinds {

const InterfaceKind& geneve_kind() {
  static const InterfaceKind kind{
      .kind = VirtualSpec::Kind::geneve,
      .keys = {{"id", "'id' (its VNI)",
                [](VirtualSpec& d, KeyValue& v) {
                  d.vni = integer_value<std::uint32_t>(v, "geneve id", 0, 0xffffff);
                },
                "its VNI, 0-16777215"},
               {"remote", kNeedsRemote, remote, kRemoteValue},
               {"port", nullptr, port, kPortValue},
               {"ttl", nullptr, ttl, kTtlValue}},
      .tunnel = true,
      .bridge_port = [](const VirtualSpec&) { return true; },
      .label = [](const VirtualSpec& d) { return d.vni ? fmt::format("id {}", d.vni->value) : ""; },
  };
  return kind;
}

}  // namespace nslab::kinds
