// ifb: the intermediate functional block, tc mirred's target; no settings. Measured: br_add_if
// takes it (an Ethernet device).

#include "nslab/interface_kinds.hpp"

namespace nslab::kinds {

const InterfaceKind& ifb_kind() {
  static const InterfaceKind kind{
      .kind = VirtualSpec::Kind::ifb,
      .keys = {},
      .bridge_port = [](const VirtualSpec&) { return true; },
  };
  return kind;
}

}  // namespace nslab::kinds
