#pragma once
// The kinds of interface a node creates (vxlan, macvlan, the IP tunnels, ...), each a unit: its
// key table (what the loader reads, in the order it is written; the loader's "unknown key" list
// derives from it), what its keys say together, what it can be (a bridge port), what the kernel
// does with it on its own (goes with its lower device) and its words in the graph. One file per
// kind in lab/src/model/kinds/, one line in the registry there (kinds.cpp). The kernel half, the
// rtnetlink request, is lab/src/kernel/kinds/, one file per kind and one registry line too.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nslab/key_table.hpp"
#include "nslab/source.hpp"
#include "nslab/topology.hpp"

namespace nslab {

struct InterfaceKind {
  using Key = KindKey<VirtualSpec>;
  VirtualSpec::Kind kind;
  // Empty: the kind takes no settings (`dum0: {}`).
  std::vector<Key> keys;
  // Written under the node's `tunnels:` with `kind: NAME`, not under its own key.
  bool tunnel = false;
  // Whether br_add_if takes it (an Ethernet device); nullptr: never. `bridged_as` names it in
  // the refusal's list when its name does not ("tap" for tun).
  bool (*bridge_port)(const VirtualSpec&) = nullptr;
  const char* bridged_as = nullptr;
  // Its driver deletes it when its lower device (`parent`/`dev`) goes (NETDEV_UNREGISTER).
  bool goes_with_lower = false;
  // After its keys are read: what they say together, and defaults that take the interface's
  // position. Errors at the values' positions.
  void (*finish)(VirtualSpec& spec, Diagnostics& diags) = nullptr;
  // Its words in the graph after its name: "vni 42", "table 10", "l3s".
  std::string (*label)(const VirtualSpec&) = nullptr;

  const char* name() const { return virtual_kind_name(kind); }
};

// The registry: every kind, in the order a node's keys list them (lab/src/model/kinds/kinds.cpp).
const std::vector<const InterfaceKind*>& interface_kinds();
const InterfaceKind& interface_kind(VirtualSpec::Kind kind);

// "dummy, ifb, vxlan, ... and tap": what a bridge may take among them, for the refusal.
std::string bridgeable_kind_names();

// The key reference of `kind` (`nslab kinds`), from its table: how it is written, each key
// with its value and whether it is required, and what the kernel does with it.
std::string interface_kind_reference(const InterfaceKind& kind);

}  // namespace nslab
