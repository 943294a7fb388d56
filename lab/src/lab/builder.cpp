// Valid topology -> Lab. The order matters and is the kernel's, not ours:
//   1. namespaces, each with DAD off and forwarding set before any interface exists (new
//      interfaces inherit conf/default; IPv4 conf would otherwise come from the host),
//   2. veth pairs, each end born in its own node (IFLA_NET_NS_FD), with fixed ifindexes,
//   3. bridges, then the interfaces nodes create themselves (vxlan, macvlan, vlan, dummy, tun:
//   their parents exist by then), 4. sysctls and nftables (before anything is up), 5. ports
//   enslaved and the links up, then bridges up once their ports are, 6. once every link's
//   queue is active, addresses (an MLD report sent earlier would be dropped), 7. when
//   nodes create interfaces of their own: wait until the links are ready, then bring those up
//   and address them (see virtuals_up), 8. qdiscs, nexthops, routes (their gateways need
//   connected subnets), rules and neighbours, 9. wait until every interface can send and every IPv6
//   address can be solicited (the kernel finishes both asynchronously; see apply::wait_ready).

#include <linux/if_addr.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "apply.hpp"
#include "nslab/error.hpp"
#include "nslab/lab.hpp"
#include "nslab/nft.hpp"
#include "nslab/sysctl.hpp"

namespace nslab {

int LabNode::ifindex(const std::string& ifname) const {
  auto it = ifindexes_.find(ifname);
  if (it == ifindexes_.end())
    throw Error(fmt::format("node '{}' has no interface '{}'", name_, ifname), ENODEV);
  return it->second;
}

const LabNode& Lab::node(const std::string& name) const {
  for (const auto& n : nodes_)
    if (n.name() == name) return n;
  throw Error(fmt::format("no node '{}' in topology '{}'", name, topology_.name), ENOENT);
}

LabNode& Lab::node(const std::string& name) {
  return const_cast<LabNode&>(std::as_const(*this).node(name));
}

std::vector<const Netns*> Lab::namespaces() const {
  std::vector<const Netns*> out;
  for (const auto& n : nodes_) out.push_back(&n.netns());
  return out;
}

int Lab::number_interface(const std::string& node_name, const std::string& ifname) {
  int next = next_ifindex_;
  while (reserved_ifindexes_.count(next)) ++next;
  node(node_name).set_ifindex(ifname, next);
  next_ifindex_ = next + 1;
  return next;
}

namespace {

// Test hook: NSLAB_STOP_AT=<phase> stops the process (SIGSTOP) after that phase, so that a test
// can kill nslab in the middle of a build without guessing at timing.
void checkpoint(const char* phase) {
  static const char* stop_at = std::getenv("NSLAB_STOP_AT");
  if (!stop_at || std::strcmp(stop_at, phase) != 0) return;
  std::fprintf(stderr, "nslab: stopping after phase '%s' (NSLAB_STOP_AT)\n", phase);
  std::fflush(stderr);
  raise(SIGSTOP);
}

}  // namespace

class Builder {
 public:
  Builder(Lab& lab, const BuildOptions& o) : lab_(lab), t_(lab.topology_), opt_(o) {}

  void run() {
    auto t0 = std::chrono::steady_clock::now();
    namespaces();
    checkpoint("namespaces");
    veths();
    bridges();
    for (std::size_t i = 0; i < t_.nodes.size(); ++i)
      for (const auto& v : t_.nodes[i].virtuals)
        apply::virtual_interface(lab_, lab_.nodes_[i], t_.nodes[i], v);
    checkpoint("links");
    const std::size_t n = t_.nodes.size();
    for (std::size_t i = 0; i < n; ++i) inside(t_.nodes[i], lab_.nodes_[i]);
    for (std::size_t i = 0; i < n; ++i) bring_up(t_.nodes[i], lab_.nodes_[i]);
    for (std::size_t i = 0; i < n; ++i) bridges_up(t_.nodes[i], lab_.nodes_[i]);
    // Addresses only once the links' queues are active. An IPv6 address added without DAD
    // joins its solicited-node group at once and sends an MLD report; on a veth end whose
    // carrier linkwatch has not processed yet (the end opened first), the queue is still the
    // noop qdisc and drops it (skb:kfree_skb reason QDISC_DROP from mld_sendpack, counted in
    // tx_dropped): the lost first packet of readiness-stress (see kernel-behaviour notes).
    for (std::size_t i = 0; i < n; ++i)
      wait_ready(t_.nodes[i], lab_.nodes_[i], Layer::links, /*with_addresses=*/false);
    for (std::size_t i = 0; i < n; ++i) addresses(t_.nodes[i], lab_.nodes_[i], Layer::links);
    if (has_virtuals()) {
      // The links under the nodes' own interfaces must carry traffic both ways first (see
      // virtuals_up); then those come up and get their addresses.
      for (std::size_t i = 0; i < n; ++i) wait_ready(t_.nodes[i], lab_.nodes_[i], Layer::links);
      for (std::size_t i = 0; i < n; ++i) virtuals_up(t_.nodes[i], lab_.nodes_[i]);
      for (std::size_t i = 0; i < n; ++i) addresses(t_.nodes[i], lab_.nodes_[i], Layer::virtuals);
    }
    for (std::size_t i = 0; i < n; ++i) routing(t_.nodes[i], lab_.nodes_[i]);
    checkpoint("configured");
    for (std::size_t i = 0; i < n; ++i)
      wait_ready(t_.nodes[i], lab_.nodes_[i], has_virtuals() ? Layer::virtuals : Layer::all);
    lab_.build_time_ = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - t0);
  }

 private:
  // Which interfaces a phase concerns: the links (veths, bridges, lo), the interfaces nodes
  // create on top of them (and a bridge with one of those as a port), or all.
  enum class Layer { links, virtuals, all };

  // Namespaces are created on two threads: unshare(CLONE_NEWNET) is ~0.4 ms of kernel work per
  // node and runs in parallel (veth creation, under the rtnl lock, does not). Each thread unshares
  // for itself and returns to the lab's home; nodes keep their declaration order.
  void namespaces() {
    const std::size_t n = t_.nodes.size();
    std::vector<std::optional<LabNode>> made(n);
    std::exception_ptr helper_error;
    auto make_range = [&](std::size_t first, std::size_t step) {
      for (std::size_t i = first; i < n; i += step) made[i].emplace(make_node(t_.nodes[i]));
    };
    if (n >= 2) {
      std::thread helper([&] {
        try {
          make_range(1, 2);
        } catch (...) {
          helper_error = std::current_exception();
        }
      });
      try {
        make_range(0, 2);
      } catch (...) {
        helper.join();
        throw;
      }
      helper.join();
      if (helper_error) std::rethrow_exception(helper_error);
    } else {
      make_range(0, 1);
    }
    lab_.nodes_.reserve(n);
    // Devices a new namespace starts with besides lo (fallback tunnels such as gre0 or sit0,
    // when their modules are loaded) hold numbers the lab must not give again.
    std::set<int> taken;
    if (!made.empty())
      for (const auto& l : made.front()->rtnl().links())
        if (l.ifindex != 1) taken.insert(l.ifindex);
    const auto numbers = t_.assigned_ifindexes(taken);
    lab_.reserved_ifindexes_ = taken;
    for (const auto& [where, number] : numbers)
      lab_.next_ifindex_ = std::max(lab_.next_ifindex_, number + 1);
    for (auto& node : made) {
      lab_.nodes_.push_back(std::move(*node));
      LabNode& added = lab_.nodes_.back();
      added.set_ifindex("lo", 1);
      // Unique across the lab, not per node: the kernel treats a veth's carrier change as urgent
      // only when its ifindex differs from its peer's (iflink); equal ones (both ends 2, as the
      // kernel itself would pick in fresh namespaces) delay operstate UP by up to a second.
      for (const auto& ifname : t_.created_interfaces(added.name()))
        added.set_ifindex(ifname, numbers.at({added.name(), ifname}));
    }
  }

  LabNode make_node(const NodeSpec& spec) {
    std::optional<Rtnl> rtnl;
    Netns ns = Netns::create(lab_.home_, [&] {
      sysctl::write("net.ipv6.conf.all.accept_dad", "0");
      sysctl::write("net.ipv6.conf.default.accept_dad", "0");
      const char* fwd = spec.forwarding ? "1" : "0";
      sysctl::write("net.ipv4.ip_forward", fwd);
      sysctl::write("net.ipv6.conf.all.forwarding", fwd);
      rtnl = Rtnl::open_here();
    });
    return LabNode(spec.name, std::move(ns), std::move(*rtnl));
  }

  void veths() {
    for (const auto& l : t_.links) apply::veth(lab_, t_, l);
  }

  void bridges() {
    for (std::size_t i = 0; i < t_.nodes.size(); ++i) {
      const NodeSpec& spec = t_.nodes[i];
      LabNode& node = lab_.nodes_[i];
      for (const auto& br : spec.bridges) {
        std::optional<int> mtu;
        if (const auto* ifc = spec.interface(br.name); ifc && ifc->mtu) mtu = ifc->mtu->value;
        apply::at(br.pos, [&] { node.rtnl().add_bridge(br.name, node.ifindex(br.name), mtu); });
      }
    }
  }

  // Work that must happen with the thread inside the node: sysctls and nftables.
  void inside(const NodeSpec& spec, LabNode& node) {
    apply::sysctls(lab_, node, spec.sysctls);
    if (spec.nftables) apply::nftables(lab_, node, *spec.nftables);
  }

  void bring_up(const NodeSpec& spec, LabNode& node) {
    for (const auto& br : spec.bridges) {
      for (const auto& port : br.ports) {
        // A port the node created (a vxlan) is enslaved now and comes up with the other
        // virtual interfaces (virtuals_up), once the links under it can carry traffic.
        const bool virtual_port = spec.virtual_interface(port.value) != nullptr;
        apply::at(port.pos, [&] {
          LinkChange c{.master = node.ifindex(br.name)};
          if (!virtual_port) c.up = true;
          node.rtnl().change_link(node.ifindex(port.value), c);
        });
      }
    }
    for (const auto& [ifname, index] : node.ifindexes()) {
      if (is_port(spec, ifname) || spec.bridge(ifname) || spec.virtual_interface(ifname)) continue;
      const auto* ifc = spec.interface(ifname);
      std::optional<int> lo_mtu;
      if (ifname == "lo" && ifc && ifc->mtu) lo_mtu = ifc->mtu->value;
      const int idx = index;  // lambdas capture structured bindings only from clang 16
      const bool up = !ifc || ifc->wanted_up();
      apply::at(ifc ? ifc->pos : spec.pos,
                [&] { node.rtnl().change_link(idx, {.up = up, .mtu = lo_mtu}); });
    }
  }

  // Bridges come up last, once their ports carry traffic: a bridge that finds live ports when it
  // opens gets carrier and an active queue at once; one that gains carrier later waits for the
  // kernel's rate-limited linkwatch (up to a second) before it can send.
  // A bridge with a port the node creates comes up after it, in virtuals_up.
  void bridges_up(const NodeSpec& spec, LabNode& node, Layer layer = Layer::links) {
    std::vector<const BridgeSpec*> these;
    for (const auto& br : spec.bridges)
      if (in_layer(spec, br.name, layer)) these.push_back(&br);
    if (these.empty()) return;
    std::vector<int> ports;
    for (const auto* br : these)
      for (const auto& p : br->ports)
        if (t_.carrier_expected(spec.name, p.value)) ports.push_back(node.ifindex(p.value));
    apply::wait_ready(node, ports, false, opt_.ready_timeout);
    for (const auto* b : these) {
      const BridgeSpec& br = *b;
      const auto* ifc = spec.interface(br.name);
      const bool up = !ifc || ifc->wanted_up();
      apply::at(ifc ? ifc->pos : br.pos,
                [&] { node.rtnl().change_link(node.ifindex(br.name), {.up = up}); });
    }
  }

  // Interfaces a node creates come up once every link of the lab can carry traffic both ways and
  // its addresses are usable (IPv6 groups joined). A vxlan or macvlan that opens earlier sends at
  // once (MLD, router and neighbour solicitations over the underlay); the underlay's first
  // neighbour solicitation then reaches a router whose queue or address is not ready, goes
  // unanswered, and everything the overlay sends waits for ND's retransmission a second later
  // (seen in pcaps: the gateway's solicitation 800 ms late, the overlay's packets queued
  // behind it; 5 of 540 loaded runs of tunnels/vxlan-pmtu).
  void virtuals_up(const NodeSpec& spec, LabNode& node) {
    for (const auto& v : spec.virtuals) {
      const auto* ifc = spec.interface(v.name);
      const bool up = !ifc || ifc->wanted_up();
      apply::at(ifc ? ifc->pos : v.pos,
                [&] { node.rtnl().change_link(node.ifindex(v.name), {.up = up}); });
    }
    bridges_up(spec, node, Layer::virtuals);
  }

  bool has_virtuals() const {
    for (const auto& n : t_.nodes)
      if (!n.virtuals.empty()) return true;
    return false;
  }

  static bool is_port(const NodeSpec& spec, const std::string& ifname) {
    for (const auto& br : spec.bridges)
      for (const auto& p : br.ports)
        if (p.value == ifname) return true;
    return false;
  }

  // A bridge with a port the node created belongs to that port's layer: it has carrier, and
  // its addresses can be used, only once the port is up.
  static bool in_layer(const NodeSpec& spec, const std::string& ifname, Layer layer) {
    if (layer == Layer::all) return true;
    bool upper = spec.virtual_interface(ifname) != nullptr;
    if (const auto* br = spec.bridge(ifname))
      upper = std::any_of(br->ports.begin(), br->ports.end(),
                          [&](const auto& p) { return spec.virtual_interface(p.value); });
    return upper == (layer == Layer::virtuals);
  }

  void addresses(const NodeSpec& spec, LabNode& node, Layer layer) {
    for (const auto& ifc : spec.interfaces) {
      if (!in_layer(spec, ifc.name, layer)) continue;
      for (const auto& a : ifc.addresses) apply::address(lab_, node, ifc.name, a, ChangeOp::add);
    }
  }

  // Qdiscs, nexthops (their devices are up and addressed by now), routes (their gateways need
  // connected subnets, their nexthops must exist), then rules and static neighbours.
  void routing(const NodeSpec& spec, LabNode& node) {
    for (const auto& q : spec.qdiscs) apply::qdisc(node, q, ChangeOp::add);
    for (const auto& n : spec.nexthops)
      if (!n.is_group()) apply::nexthop(node, n, ChangeOp::add);
    for (const auto& n : spec.nexthops)  // groups name the others
      if (n.is_group()) apply::nexthop(node, n, ChangeOp::add);
    for (const auto& r : spec.routes) apply::route(node, spec, r, ChangeOp::add);
    for (const auto& r : spec.rules) apply::rule(node, r, ChangeOp::add);
    for (const auto& n : spec.neighbours) apply::neighbour(node, n, ChangeOp::add);
  }

  void wait_ready(const NodeSpec& spec, LabNode& node, Layer layer, bool with_addresses = true) {
    std::vector<int> want, without_carrier;
    for (const auto& [ifname, idx] : node.ifindexes()) {
      if (ifname == "lo" || !in_layer(spec, ifname, layer)) continue;
      if (const auto* br = spec.bridge(ifname); br && br->ports.empty()) continue;
      // Down, or up without carrier by design (its veth peer is down): ready once the kernel
      // reports it so; its IPv6 addresses join their groups only when carrier comes.
      if (!t_.carrier_expected(spec.name, ifname)) {
        if (t_.veth_peer(spec.name, ifname)) without_carrier.push_back(idx);
        continue;
      }
      // A tun/tap device has carrier only while a program holds it, and none does yet: ready
      // once the kernel reports the carrier its creator's fd took with it (linkwatch writes
      // operstate DOWN; a dump before that said UNKNOWN and running, one run in twelve).
      if (const auto* v = spec.virtual_interface(ifname); v && v->kind == VirtualSpec::Kind::tun) {
        without_carrier.push_back(idx);
        continue;
      }
      want.push_back(idx);
    }
    apply::wait_ready(node, want, with_addresses, opt_.ready_timeout, without_carrier);
  }

  Lab& lab_;
  const Topology& t_;
  const BuildOptions& opt_;
};

std::unique_ptr<Lab> Lab::build(const Topology& topology, const BuildOptions& options) {
  std::unique_ptr<Lab> lab(new Lab(topology));
  const char* tmp = std::getenv("TMPDIR");
  lab->pids_.emplace(PidNamespace::create(tmp && *tmp ? tmp : "/tmp"));
  Builder(*lab, options).run();
  return lab;
}

}  // namespace nslab
