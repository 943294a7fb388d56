// Valid topology -> Lab, and every later `add` to it: one walk over the phases below, for the
// whole topology on an empty lab (Lab::build) or for a change fragment's objects on a running one
// (Lab::apply). The order matters and is the kernel's, not ours:
//   1. namespaces (a build only), each with DAD off and forwarding set before any interface
//      exists (new interfaces inherit conf/default; IPv4 conf would otherwise come from the host),
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
#include "nslab/change.hpp"
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

// One `add` of a model's objects to the lab: the whole topology when the lab is empty (a build),
// a change fragment's objects otherwise. `model` is the topology once they are added; `objects`
// holds what to add. A phase concerns the objects' interfaces only: those they create, and those
// they give an IPv6 address (readiness waits for its groups).
class Applier {
 public:
  Applier(Lab& lab, const Topology& model, const Topology& objects,
          std::chrono::milliseconds ready_timeout)
      : lab_(lab),
        t_(model),
        objects_(objects),
        ready_timeout_(ready_timeout),
        fresh_(lab.nodes_.empty()) {}

  // What was done, for a change step's report ("add link a:eth5 b:eth5; add vxlan r1:vx0");
  // nothing for a build.
  std::string add() {
    if (fresh_) {
      namespaces();
      checkpoint("namespaces");
    } else {
      number_new_interfaces();
    }
    touched_nodes();
    veths();
    for (const auto& n : nodes_) bridges(n);
    for (const auto& n : nodes_)
      for (const auto& v : n.f->virtuals) {
        apply::virtual_interface(lab_, *n.node, *n.spec, v);
        note("add {} {}:{}", virtual_kind_name(v.kind), n.spec->name, v.name);
      }
    checkpoint("links");
    for (const auto& n : nodes_) inside(n);
    for (const auto& n : nodes_) bring_up(n);
    for (const auto& n : nodes_) bridges_up(n);
    // Addresses only once the links' queues are active. An IPv6 address added without DAD
    // joins its solicited-node group at once and sends an MLD report; on a veth end whose
    // carrier linkwatch has not processed yet (the end opened first), the queue is still the
    // noop qdisc and drops it (skb:kfree_skb reason QDISC_DROP from mld_sendpack, counted in
    // tx_dropped): the lost first packet of readiness-stress (see kernel-behaviour notes).
    for (const auto& n : nodes_) wait_ready(n, Layer::links, /*with_addresses=*/false);
    for (const auto& n : nodes_) addresses(n, Layer::links);
    if (has_virtuals()) {
      // The links under the nodes' own interfaces must carry traffic both ways first (see
      // virtuals_up); then those come up and get their addresses.
      for (const auto& n : nodes_) wait_ready(n, Layer::links);
      for (const auto& n : nodes_) virtuals_up(n);
      for (const auto& n : nodes_) addresses(n, Layer::virtuals);
    }
    for (const auto& n : nodes_) routing(n);
    checkpoint("configured");
    for (const auto& n : nodes_) wait_ready(n, has_virtuals() ? Layer::virtuals : Layer::all);
    return apply::done_text(did_);
  }

 private:
  // Which interfaces a phase concerns: the links (veths, bridges, lo), the interfaces nodes
  // create on top of them (and a bridge with one of those as a port), or all.
  enum class Layer { links, virtuals, all };

  // A node the objects concern: its model, its part of the objects (empty when only a link
  // reaches it) and the lab's node.
  struct Touched {
    const NodeSpec* spec;
    const NodeSpec* f;
    LabNode* node;
  };

  template <class... Args>
  void note(fmt::format_string<Args...> f, Args&&... args) {
    if (!fresh_) did_.push_back(fmt::format(f, std::forward<Args>(args)...));
  }

  // Whether a phase concerns `node:ifname`: in a build every interface does.
  bool concerns(const std::string& node, const std::string& ifname) const {
    return fresh_ || created_.count({node, ifname}) || addressed_.count({node, ifname});
  }
  bool is_new(const std::string& node, const std::string& ifname) const {
    return fresh_ || created_.count({node, ifname});
  }

  void touched_nodes() {
    static const NodeSpec kNothing;
    if (fresh_) {  // objects_ is the model: nodes in the lab's order, without lookups
      for (std::size_t i = 0; i < t_.nodes.size(); ++i)
        nodes_.push_back({&t_.nodes[i], &t_.nodes[i], &lab_.nodes_[i]});
      return;
    }
    for (const auto& spec : t_.nodes) {
      const NodeSpec* f = objects_.node(spec.name);
      bool linked = std::any_of(objects_.links.begin(), objects_.links.end(), [&](const auto& l) {
        return l.a.node == spec.name || l.b.node == spec.name;
      });
      if (f || linked) nodes_.push_back({&spec, f ? f : &kNothing, &lab_.node(spec.name)});
    }
  }

  // A change's interfaces are numbered above everything the lab gave so far
  // (Lab::number_interface).
  void number_new_interfaces() {
    auto number = [&](const std::string& node, const std::string& ifname) {
      lab_.number_interface(node, ifname);
      created_.insert({node, ifname});
    };
    for (const auto& l : objects_.links)
      for (const Endpoint* e : {&l.a, &l.b}) number(e->node, e->ifname);
    for (const auto& n : objects_.nodes) {
      for (const auto& b : n.bridges) number(n.name, b.name);
      for (const auto& v : n.virtuals) number(n.name, v.name);
      for (const auto& i : n.interfaces)
        for (const auto& a : i.addresses)
          if (a.prefix.address.family == Family::ipv6) addressed_.insert({n.name, i.name});
    }
  }

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
    for (const auto& l : objects_.links) {
      apply::veth(lab_, t_, l);
      note("add link {} {}", l.a.str(), l.b.str());
    }
  }

  void bridges(const Touched& n) {
    for (const auto& br : n.f->bridges) {
      std::optional<int> mtu;
      if (const auto* ifc = n.spec->interface(br.name); ifc && ifc->mtu) mtu = ifc->mtu->value;
      apply::at(br.pos, [&] { n.node->rtnl().add_bridge(br.name, n.node->ifindex(br.name), mtu); });
      note("add bridge {}:{}", n.spec->name, br.name);
    }
  }

  // Work that must happen with the thread inside the node: sysctls and nftables.
  void inside(const Touched& n) {
    apply::sysctls(lab_, *n.node, n.f->sysctls);
    if (n.f->nftables) apply::nftables(lab_, *n.node, *n.f->nftables);
  }

  // New bridges' ports are enslaved (and come up), then the new interfaces that are neither
  // ports, bridges nor created by the node come up (lo with its MTU).
  void bring_up(const Touched& n) {
    const NodeSpec& spec = *n.spec;
    LabNode& node = *n.node;
    for (const auto& br : n.f->bridges) {
      for (const auto& port : br.ports) {
        // A port the node created (a vxlan) is enslaved now and comes up with the other
        // virtual interfaces (virtuals_up), once the links under it can carry traffic. A port
        // that was there before keeps the state it had.
        const bool virtual_port = spec.virtual_interface(port.value) != nullptr;
        apply::at(port.pos, [&] {
          LinkChange c{.master = node.ifindex(br.name)};
          if (!virtual_port && is_new(spec.name, port.value)) c.up = true;
          node.rtnl().change_link(node.ifindex(port.value), c);
        });
      }
    }
    for (const auto& [ifname, index] : node.ifindexes()) {
      if (!is_new(spec.name, ifname)) continue;
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
  void bridges_up(const Touched& n, Layer layer = Layer::links) {
    const NodeSpec& spec = *n.spec;
    std::vector<const BridgeSpec*> these;
    for (const auto& br : n.f->bridges)
      if (in_layer(spec, br.name, layer)) these.push_back(&br);
    if (these.empty()) return;
    std::vector<int> ports;
    for (const auto* br : these)
      for (const auto& p : br->ports)
        if (t_.carrier_expected(spec.name, p.value)) ports.push_back(n.node->ifindex(p.value));
    apply::wait_ready(*n.node, ports, false, ready_timeout_);
    for (const auto* br : these) {
      const auto* ifc = spec.interface(br->name);
      const bool up = !ifc || ifc->wanted_up();
      apply::at(ifc ? ifc->pos : br->pos,
                [&] { n.node->rtnl().change_link(n.node->ifindex(br->name), {.up = up}); });
    }
  }

  // Interfaces a node creates come up once every link of the lab can carry traffic both ways and
  // its addresses are usable (IPv6 groups joined). A vxlan or macvlan that opens earlier sends at
  // once (MLD, router and neighbour solicitations over the underlay); the underlay's first
  // neighbour solicitation then reaches a router whose queue or address is not ready, goes
  // unanswered, and everything the overlay sends waits for ND's retransmission a second later
  // (seen in pcaps: the gateway's solicitation 800 ms late, the overlay's packets queued
  // behind it; 5 of 540 loaded runs of tunnels/vxlan-pmtu).
  void virtuals_up(const Touched& n) {
    for (const auto& v : n.f->virtuals) {
      const auto* ifc = n.spec->interface(v.name);
      const bool up = !ifc || ifc->wanted_up();
      apply::at(ifc ? ifc->pos : v.pos,
                [&] { n.node->rtnl().change_link(n.node->ifindex(v.name), {.up = up}); });
    }
    bridges_up(n, Layer::virtuals);
  }

  bool has_virtuals() const {
    for (const auto& n : objects_.nodes)
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

  void addresses(const Touched& n, Layer layer) {
    for (const auto& ifc : n.f->interfaces) {
      if (!in_layer(*n.spec, ifc.name, layer)) continue;
      for (const auto& a : ifc.addresses) {
        apply::address(lab_, *n.node, ifc.name, a, ChangeOp::add);
        note("add address {} on {}:{}", a.prefix.str(), n.spec->name, ifc.name);
      }
    }
  }

  // Qdiscs, nexthops (their devices are up and addressed by now), routes (their gateways need
  // connected subnets, their nexthops must exist), then rules and static neighbours.
  void routing(const Touched& t) {
    const NodeSpec& f = *t.f;
    LabNode& node = *t.node;
    const std::string& name = t.spec->name;
    for (const auto& q : f.qdiscs) {
      apply::qdisc(node, q, ChangeOp::add);
      note("add {} qdisc on {}:{}", qdisc_kind_name(q.kind), name, q.dev);
    }
    for (bool groups : {false, true})  // groups name the others
      for (const auto& n : f.nexthops)
        if (n.is_group() == groups) {
          apply::nexthop(node, n, ChangeOp::add);
          note("add nexthop {} in {}", n.id.value, name);
        }
    for (const auto& r : f.routes) {
      apply::route(node, *t.spec, r, ChangeOp::add);
      note("add route {} in {}", r.str(), name);
    }
    for (const auto& r : f.rules) {
      apply::rule(node, r, ChangeOp::add);
      note("add rule priority {} in {}", r.priority.value, name);
    }
    for (const auto& n : f.neighbours) {
      apply::neighbour(node, n, ChangeOp::add);
      note("add neighbour {} on {}:{}", n.address.value.str(), name, n.dev.value);
    }
  }

  void wait_ready(const Touched& n, Layer layer, bool with_addresses = true) {
    const NodeSpec& spec = *n.spec;
    std::vector<int> want, without_carrier;
    for (const auto& [ifname, idx] : n.node->ifindexes()) {
      if (ifname == "lo" || !in_layer(spec, ifname, layer) || !concerns(spec.name, ifname))
        continue;
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
    apply::wait_ready(*n.node, want, with_addresses, ready_timeout_, without_carrier);
  }

  Lab& lab_;
  const Topology& t_;
  const Topology& objects_;
  std::chrono::milliseconds ready_timeout_;
  const bool fresh_;
  std::vector<Touched> nodes_;
  std::set<std::pair<std::string, std::string>> created_, addressed_;  // node, ifname
  std::vector<std::string> did_;
};

std::unique_ptr<Lab> Lab::build(const Topology& topology, const BuildOptions& options) {
  std::unique_ptr<Lab> lab(new Lab(topology));
  const char* tmp = std::getenv("TMPDIR");
  lab->pids_.emplace(PidNamespace::create(tmp && *tmp ? tmp : "/tmp"));
  auto t0 = std::chrono::steady_clock::now();
  Applier(*lab, lab->topology_, lab->topology_, options.ready_timeout).add();
  lab->build_time_ =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  return lab;
}

std::string Lab::apply(ChangeOp op, const Topology& fragment, Diagnostics& diags,
                       std::chrono::milliseconds ready_timeout) {
  Topology after = topology_;
  change_model(after, op, fragment, diags);
  if (!diags.empty()) return {};
  std::string done = op == ChangeOp::add
                         ? Applier(*this, after, fragment, ready_timeout).add()
                         : apply::in_place(*this, after, op, fragment, ready_timeout);
  topology_ = std::move(after);
  return done;
}

}  // namespace nslab
