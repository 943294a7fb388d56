#pragma once
// Internal: one `apply` function per kind of topology object, from the model to the kernel. The
// builder adds a whole topology with them; a change step adds, deletes, replaces or sets the
// objects of its fragment with the same functions. Each throws Error with the YAML position of
// the object the kernel refused.

#include <chrono>
#include <string>
#include <vector>

#include "nslab/error.hpp"
#include "nslab/lab.hpp"
#include "nslab/scenario.hpp"
#include "nslab/topology.hpp"

namespace nslab::apply {

// Re-throws a kernel error with the position of the YAML object it concerns.
template <class F>
void at(const SourcePos& pos, F&& f) {
  try {
    f();
  } catch (const Error& e) {
    if (e.pos()) throw;
    throw Error(e.what(), e.err(), pos);
  }
}

// The veth of `link`, each end born in its node with the ifindex the lab gave it, and with the
// MTU the model says (its interface's, else the link's, else the kernel's).
void veth(Lab& lab, const Topology& model, const LinkSpec& link);
// An interface the node creates itself (vxlan, macvlan, vlan, dummy, tun, vrf with its ports,
// tunnels), with the ifindex the lab gave it. A kind this kernel lacks is an error naming the
// feature to require.
void virtual_interface(const Lab& lab, LabNode& node, const NodeSpec& model, const VirtualSpec& v);
void address(const Lab& lab, LabNode& node, const std::string& ifname, const AddressSpec& a,
             ChangeOp op);
void interface(LabNode& node, const InterfaceSpec& i);  // set: mtu and up
void route(LabNode& node, const NodeSpec& model, const RouteSpec& r, ChangeOp op);
void rule(LabNode& node, const RuleSpec& r, ChangeOp op);
void neighbour(LabNode& node, const NeighbourSpec& n, ChangeOp op);
void nexthop(LabNode& node, const NexthopSpec& n, ChangeOp op);
// The interface's root qdisc: put (add, set, replace: tc qdisc replace) or deleted. A kind this
// kernel lacks is an error naming the feature to require.
void qdisc(LabNode& node, const QdiscSpec& q, ChangeOp op);
void sysctls(const Lab& lab, LabNode& node, const std::vector<SysctlSpec>& sysctls);
// A change that is not an add (Lab::apply): `op` of `fragment`'s objects, `after` the model with
// the change made. Deleted interfaces (and what the kernel deleted with them) lose their
// ifindexes; what comes up is waited for. Returns what was done, for the report.
std::string in_place(Lab& lab, const Topology& after, ChangeOp op, const Topology& fragment,
                     std::chrono::milliseconds ready_timeout);

// What a change did, for its report: "add link a:eth5 b:eth5; add route 10.9.0.0/16 in a".
std::string done_text(const std::vector<std::string>& did);

// flush: route exceptions (IPv4 and IPv6), the route cache, or neighbours. Returns what it did.
std::string flush(const Lab& lab, LabNode& node, ChangeSpec::Flush what);
void nftables(const Lab& lab, LabNode& node, const NftablesSpec& n);

// Waits, on events, until every interface in `ifindexes` can send, and with `with_addresses`
// until every IPv6 address on them is usable (see the comment in apply.cpp); and until every
// interface in `without_carrier` (down, or a veth whose peer is down) reports that it has no
// carrier (LinkState::settled_without_carrier).
void wait_ready(LabNode& node, const std::vector<int>& ifindexes, bool with_addresses,
                std::chrono::milliseconds timeout, const std::vector<int>& without_carrier = {});

}  // namespace nslab::apply
