// A change step's fragment applied to the model of a running lab (SPEC 7). The same function
// serves `nslab validate` (the model evolves step by step from the topology) and the runner
// (which then applies the same fragment to the kernel): a change that is wrong is reported at its
// own YAML position, before anything runs.

#include "nslab/change.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "follow_kernel.hpp"
#include "nslab/validate.hpp"

namespace nslab {

const char* change_op_name(ChangeOp op) {
  switch (op) {
    case ChangeOp::add:
      return "add";
    case ChangeOp::del:
      return "del";
    case ChangeOp::replace:
      return "replace";
    case ChangeOp::set:
      return "set";
    case ChangeOp::flush:
      return "flush";
  }
  return "?";
}

namespace {

bool same_link(const LinkSpec& a, const LinkSpec& b) {
  auto eq = [](const Endpoint& x, const Endpoint& y) {
    return x.node == y.node && x.ifname == y.ifname;
  };
  return (eq(a.a, b.a) && eq(a.b, b.b)) || (eq(a.a, b.b) && eq(a.b, b.a));
}

bool same_neighbour(const NeighbourSpec& a, const NeighbourSpec& b) {
  return a.dev.value == b.dev.value && a.address.value == b.address.value;
}

class ModelChange {
 public:
  ModelChange(Topology& model, ChangeOp op, const Topology& fragment, Diagnostics& d)
      : m_(model), op_(op), f_(fragment), d_(d) {}

  void run() {
    const std::size_t before = d_.size();
    Topology next = m_;
    for (const auto& fl : f_.links) link(next, fl);
    for (const auto& fn : f_.nodes) {
      NodeSpec* n = next.node(fn.name);
      if (!n) {
        d_.error(fn.pos, fmt::format("unknown node '{}' (not in topology '{}')", fn.name, m_.name));
        continue;
      }
      node(next, *n, fn);
    }
    if (d_.size() != before) return;
    // What is added or set must leave a valid topology; a deletion only has to name what exists.
    // What was already so before the change is not the change's doing: the kernel itself leaves
    // states a topology could not be written in (a multipath route whose path through a down
    // interface lost its gateway's subnet stays, its path dead).
    if (op_ != ChangeOp::del) {
      Diagnostics after, already;
      validate_topology(next, after);
      if (!after.empty()) validate_topology(m_, already);
      for (const auto& d : after.items())
        if (std::none_of(already.items().begin(), already.items().end(),
                         [&](const Diagnostic& x) { return x.str() == d.str(); }))
          d_.error(d.pos, d.message);
    }
    if (d_.size() != before) return;
    // Then what the kernel does on its own about the change.
    for (const auto& e : kernel_events_) {
      NodeSpec* n = next.node(e.node);
      InterfaceSpec* i = n ? n->interface(e.ifname) : nullptr;
      if (!i) continue;
      switch (e.what) {
        case KernelEvent::down:
          follow_kernel::interface_down(*n, *i);
          break;
        case KernelEvent::carrier_lost:
          follow_kernel::carrier_lost(*n, e.ifname);
          break;
      }
    }
    m_ = std::move(next);
  }

 private:
  void refuse(const SourcePos& pos, const std::string& what, const char* ops) {
    d_.error(pos,
             fmt::format("{} cannot be changed by '{}' (use {})", what, change_op_name(op_), ops));
  }

  void link(Topology& t, const LinkSpec& l) {
    auto it = std::find_if(t.links.begin(), t.links.end(),
                           [&](const LinkSpec& x) { return same_link(x, l); });
    switch (op_) {
      case ChangeOp::add:
        t.links.push_back(l);
        break;
      case ChangeOp::del:
        if (it == t.links.end()) {
          d_.error(l.pos, fmt::format("there is no link [{}, {}] to delete", l.a.str(), l.b.str()));
          return;
        }
        for (const Endpoint* e : {&it->a, &it->b}) forget_interface(t, e->node, e->ifname);
        t.links.erase(it);
        break;
      default:
        refuse(l.pos, "a link", "add or del; set its interfaces' mtu and up");
    }
  }

  // The kernel removes an interface's addresses with it, what goes through it, and the
  // interfaces stacked on it.
  static void forget_interface(Topology& t, const std::string& node, const std::string& ifname) {
    NodeSpec* n = t.node(node);
    if (!n) return;
    std::vector<AddressSpec> gone;
    if (const InterfaceSpec* i = n->interface(ifname)) gone = i->addresses;
    std::erase_if(n->interfaces, [&](const InterfaceSpec& i) { return i.name == ifname; });
    std::erase_if(n->bridges, [&](const BridgeSpec& b) { return b.name == ifname; });
    std::erase_if(n->virtuals, [&](const VirtualSpec& v) { return v.name == ifname; });
    follow_kernel::interface_deleted(*n, ifname, gone);
    for (const auto& upper : follow_kernel::deleted_with(*n, ifname))
      forget_interface(t, node, upper);
  }

  // A bridge or an interface the node creates (vxlan, macvlan, ...): added, or deleted by name.
  // A vrf is neither: enslaving or releasing a port cycles it down and up (vrf.c cycle_netdev),
  // which flushes what the model would have to follow, unmeasured on this machine (no vrf).
  template <class T>
  void created(Topology& t, NodeSpec& n, std::vector<T>& list, const T& x, const std::string& what,
               bool same_kind(const T&, const T&)) {
    auto it = std::find_if(list.begin(), list.end(), [&](const T& y) { return y.name == x.name; });
    switch (op_) {
      case ChangeOp::add:
        list.push_back(x);  // a name taken already is reported by the validator
        break;
      case ChangeOp::del:
        if (it == list.end() || !same_kind(*it, x))
          d_.error(x.pos, fmt::format("node '{}' has no {} '{}' to delete", n.name, what, x.name));
        else
          forget_interface(t, n.name, x.name);
        break;
      default:
        refuse(x.pos, fmt::format("{} '{}:{}'", what, n.name, x.name), "add or del");
    }
  }

  void node(Topology& t, NodeSpec& n, const NodeSpec& f) {
    for (const auto& fi : f.interfaces) interface(t, n, fi);
    for (const auto& r : f.routes) route(n, r);
    for (const auto& r : f.rules) rule(n, r);
    for (const auto& x : f.neighbours) neighbour(n, x);
    for (const auto& x : f.nexthops) nexthop(n, x);
    for (const auto& q : f.qdiscs) qdisc(n, q);
    for (const auto& s : f.sysctls) {
      if (op_ != ChangeOp::set) {
        refuse(s.pos, fmt::format("sysctl '{}'", s.key), "set");
        continue;
      }
      auto it = std::find_if(n.sysctls.begin(), n.sysctls.end(),
                             [&](const SysctlSpec& x) { return x.key == s.key; });
      if (it != n.sysctls.end())
        *it = s;
      else
        n.sysctls.push_back(s);
    }
    if (f.nftables) {
      if (op_ != ChangeOp::set)
        refuse(f.nftables->pos, "nftables", "set: its commands run in the node");
      else
        n.nftables = f.nftables;
    }
    for (const auto& b : f.bridges)
      created<BridgeSpec>(t, n, n.bridges, b, "bridge",
                          [](const BridgeSpec&, const BridgeSpec&) { return true; });
    for (const auto& v : f.virtuals) {
      if (v.kind == VirtualSpec::Kind::vrf) {
        refuse(v.pos, fmt::format("vrf '{}:{}'", n.name, v.name),
               "the topology; a vrf cycles the ports it enslaves");
        continue;
      }
      created<VirtualSpec>(
          t, n, n.virtuals, v, virtual_kind_name(v.kind),
          [](const VirtualSpec& a, const VirtualSpec& b) { return a.kind == b.kind; });
    }
    if (f.forwarding) refuse(f.pos, "forwarding", "set with sysctl net.ipv4.ip_forward");
  }

  void interface(Topology& t, NodeSpec& n, const InterfaceSpec& fi) {
    InterfaceSpec* i = n.interface(fi.name);
    if (!i) {
      n.interfaces.push_back(InterfaceSpec{.name = fi.name, .pos = fi.pos});
      i = &n.interfaces.back();
    }
    if (fi.ifindex)
      d_.error(fi.ifindex->pos,
               "an interface's ifindex is fixed when it is created: write it in the topology");
    if (op_ == ChangeOp::set) {
      // At once, not after the check: the validator refuses an MTU below 1280 on an interface
      // that still has IPv6 addresses.
      if (fi.mtu && fi.mtu->value < kMinMtuIpv6) follow_kernel::ipv6_disabled(n, *i);
      if (fi.mtu) i->mtu = fi.mtu;
      if (fi.up && !fi.up->value && i->wanted_up()) {
        kernel_events_.push_back({KernelEvent::down, n.name, i->name});
        // A veth's peer loses its carrier with it.
        if (auto peer = t.veth_peer(n.name, i->name))
          kernel_events_.push_back({KernelEvent::carrier_lost, peer->node, peer->ifname});
      }
      if (fi.up) i->up = fi.up;
      if (!fi.addresses.empty())
        refuse(fi.addresses.front().pos, "an address", "add, del or replace");
      if (!fi.mtu && !fi.up && fi.addresses.empty())
        d_.error(fi.pos, "set of an interface needs mtu or up");
      return;
    }
    if (fi.mtu) refuse(fi.mtu->pos, "mtu", "set");
    if (fi.up) refuse(fi.up->pos, "up", "set");
    for (const auto& a : fi.addresses) {
      auto it = std::find_if(i->addresses.begin(), i->addresses.end(), [&](const AddressSpec& x) {
        return x.prefix.address == a.prefix.address;
      });
      if (op_ == ChangeOp::del) {
        if (it == i->addresses.end())
          d_.error(a.pos, fmt::format("interface '{}:{}' has no address {} to delete", n.name,
                                      fi.name, a.prefix.address.str()));
        else {
          AddressSpec gone = *it;
          i->addresses.erase(it);
          follow_kernel::address_deleted(n, fi.name, gone);
        }
      } else if (op_ == ChangeOp::replace && it != i->addresses.end()) {
        *it = a;
      } else {
        i->addresses.push_back(a);
      }
    }
  }

  template <class T, class Same>
  void identified(std::vector<T>& list, const T& x, Same same, const SourcePos& pos,
                  const std::string& what, const std::string& node) {
    auto it = std::find_if(list.begin(), list.end(), [&](const T& y) { return same(y, x); });
    switch (op_) {
      case ChangeOp::add:
        list.push_back(x);  // a duplicate is reported by the validator
        break;
      case ChangeOp::del:
        if (it == list.end())
          d_.error(pos, fmt::format("node '{}' has no {} to delete", node, what));
        else
          list.erase(it);
        break;
      case ChangeOp::replace:
        if (it == list.end())
          list.push_back(x);
        else
          *it = x;
        break;
      default:
        refuse(pos, what, "add, del or replace");
    }
  }

  void route(NodeSpec& n, const RouteSpec& r) {
    identified(
        n.routes, r, [](const RouteSpec& a, const RouteSpec& b) { return a.same_route(b); }, r.pos,
        "route " + r.str(), n.name);
  }

  void rule(NodeSpec& n, const RuleSpec& r) {
    identified(
        n.rules, r,
        [](const RuleSpec& a, const RuleSpec& b) {
          return a.priority.value == b.priority.value && a.family == b.family;
        },
        r.pos, fmt::format("rule with priority {}", r.priority.value), n.name);
  }

  void neighbour(NodeSpec& n, const NeighbourSpec& x) {
    identified(n.neighbours, x, same_neighbour, x.pos,
               fmt::format("neighbour {} on {}", x.address.value.str(), x.dev.value), n.name);
  }

  void nexthop(NodeSpec& n, const NexthopSpec& x) {
    if (op_ == ChangeOp::del) {
      if (!n.nexthop(x.id.value))
        d_.error(x.pos, fmt::format("node '{}' has no nexthop {} to delete", n.name, x.id.value));
      else
        follow_kernel::nexthop_deleted(n, x.id.value);
      return;
    }
    identified(
        n.nexthops, x,
        [](const NexthopSpec& a, const NexthopSpec& b) { return a.id.value == b.id.value; }, x.pos,
        fmt::format("nexthop {}", x.id.value), n.name);
  }

  // One root qdisc per interface: `add` puts one where there is none, `set` and `replace` put
  // one whatever was there (tc qdisc replace), `del` returns the interface to its default.
  void qdisc(NodeSpec& n, const QdiscSpec& q) {
    auto it = std::find_if(n.qdiscs.begin(), n.qdiscs.end(),
                           [&](const QdiscSpec& x) { return x.dev == q.dev; });
    switch (op_) {
      case ChangeOp::add:
        if (it != n.qdiscs.end())
          d_.error(q.pos, fmt::format("'{}:{}' already has a root {} qdisc (use set or replace)",
                                      n.name, q.dev, qdisc_kind_name(it->kind)));
        else
          n.qdiscs.push_back(q);
        break;
      case ChangeOp::del:
        if (it == n.qdiscs.end())
          d_.error(q.pos, fmt::format("'{}:{}' has no qdisc of nslab's to delete", n.name, q.dev));
        else
          n.qdiscs.erase(it);
        break;
      default:
        if (it != n.qdiscs.end())
          *it = q;
        else
          n.qdiscs.push_back(q);
    }
  }

  // What a `set` makes the kernel do on its own, applied once the set itself is found valid
  // (follow_kernel.hpp).
  struct KernelEvent {
    enum What { down, carrier_lost } what;
    std::string node, ifname;
  };
  std::vector<KernelEvent> kernel_events_;
  Topology& m_;
  ChangeOp op_;
  const Topology& f_;
  Diagnostics& d_;
};

}  // namespace

void change_model(Topology& model, ChangeOp op, const Topology& fragment, Diagnostics& diags) {
  ModelChange(model, op, fragment, diags).run();
}

}  // namespace nslab
