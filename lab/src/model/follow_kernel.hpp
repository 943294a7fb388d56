#pragma once
// Internal to the model: what the kernel removes on its own when an interface goes, goes down,
// loses carrier or loses an address, applied to a node's model so that it keeps saying what the
// kernel holds. Each rule names the kernel function that makes it and was measured on this
// machine's kernel (ip(8) in fresh namespaces; ../shared/notes/kernel-behaviour.md). Called by
// change_model (change.cpp) after it made the change itself; never reports anything.

#include <cstdint>
#include <string>
#include <vector>

#include "nslab/topology.hpp"

namespace nslab::follow_kernel {

// The interface is deleted (NETDEV_UNREGISTER); `gone` are the addresses it had. The caller has
// removed the interface itself.
void interface_deleted(NodeSpec& n, const std::string& ifname,
                       const std::vector<AddressSpec>& gone);

// The interfaces the kernel deletes with `ifname` (their lower device): macvlan, ipvlan and vlan
// (each driver's NETDEV_UNREGISTER handler) and a vxlan whose `dev` it is
// (vxlan_handle_lowerdev_unregister). Not the IP tunnels: they keep a link that is gone.
std::vector<std::string> deleted_with(const NodeSpec& n, const std::string& ifname);

// The interface, up until now, is set down (NETDEV_DOWN). Its addresses are still in `i`.
void interface_down(NodeSpec& n, InterfaceSpec& i);

// The interface lost its carrier (NETDEV_CHANGE without IFF_LOWER_UP): its veth peer went down.
void carrier_lost(NodeSpec& n, const std::string& ifname);

// The nexthop object `id` is deleted: the routes through it go, and it leaves its groups (a
// group left empty goes the same way).
void nexthop_deleted(NodeSpec& n, std::uint32_t id);

// The interface's MTU is set below 1280 (NETDEV_CHANGEMTU): the kernel turns IPv6 off on it
// (addrconf_ifdown), its IPv6 addresses go and the IPv6 routes through it with them.
void ipv6_disabled(NodeSpec& n, InterfaceSpec& i);

// `address` was deleted from `ifname` (already removed from the model's interface).
void address_deleted(NodeSpec& n, const std::string& ifname, const AddressSpec& address);

}  // namespace nslab::follow_kernel
