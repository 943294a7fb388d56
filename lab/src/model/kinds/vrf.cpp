// vrf: an L3 master device whose ports route through its table.

#include <fmt/format.h>

#include "keys.hpp"

namespace nslab::kinds {

namespace {
void ports(VirtualSpec& d, KeyValue& v) {
  auto items = v.items("vrf ports must be a list of interface names");
  if (!items) return;
  for (auto& item : *items)
    if (auto p = ifname_value(*item, "a vrf port")) d.ports.push_back(*p);
}
}  // namespace

const InterfaceKind& vrf_kind() {
  static const InterfaceKind kind{
      .kind = VirtualSpec::Kind::vrf,
      .keys = {{"table", "'table' (the routing table its ports use)",
                [](VirtualSpec& d, KeyValue& v) { d.table = v.table(); },
                "a routing table: 1-4294967295, main, local or default"},
               {"ports", nullptr, ports, "a list of the node's interfaces, enslaved to it"}},
      .label =
          [](const VirtualSpec& d) {
            return d.table ? fmt::format("table {}", d.table->value) : "";
          },
  };
  return kind;
}

}  // namespace nslab::kinds
