// dummy: an Ethernet device that drops what it is sent; no settings.

#include "nslab/interface_kinds.hpp"

namespace nslab::kinds {

const InterfaceKind& dummy_kind() {
  static const InterfaceKind kind{
      .kind = VirtualSpec::Kind::dummy,
      .keys = {},
      .bridge_port = [](const VirtualSpec&) { return true; },
  };
  return kind;
}

}  // namespace nslab::kinds
