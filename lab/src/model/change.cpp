// A change step's fragment applied to the model of a running lab (SPEC 7). The same function
// serves `nslab validate` (the model evolves step by step from the topology) and the runner
// (which then applies the same fragment to the kernel): a change that is wrong is reported at its
// own YAML position, before anything runs.

#include "nslab/change.hpp"

#include <fmt/format.h>

#include <algorithm>

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
    if (op_ != ChangeOp::del) validate_topology(next, d_);
    if (d_.size() == before) m_ = std::move(next);
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

  // The kernel removes an interface's addresses and the routes through it with the interface.
  static void forget_interface(Topology& t, const std::string& node, const std::string& ifname) {
    NodeSpec* n = t.node(node);
    if (!n) return;
    std::vector<AddressSpec> gone;
    if (const InterfaceSpec* i = n->interface(ifname)) gone = i->addresses;
    std::erase_if(n->interfaces, [&](const InterfaceSpec& i) { return i.name == ifname; });
    forget_routes(*n, ifname, gone, std::nullopt);
    std::erase_if(n->neighbours, [&](const NeighbourSpec& x) { return x.dev.value == ifname; });
    std::erase_if(n->qdiscs, [&](const QdiscSpec& q) { return q.dev == ifname; });
    std::vector<std::uint32_t> dead;
    for (const auto& nh : n->nexthops)
      if (nh.dev && nh.dev->value == ifname) dead.push_back(nh.id.value);
    for (std::uint32_t id : dead) forget_nexthop(*n, id);
  }

  // The kernel deletes a nexthop with the routes through it, and takes it out of its groups; a
  // group left empty goes the same way.
  static void forget_nexthop(NodeSpec& n, std::uint32_t id) {
    std::erase_if(n.nexthops, [&](const NexthopSpec& x) { return x.id.value == id; });
    std::erase_if(n.routes,
                  [&](const RouteSpec& r) { return r.nexthop && r.nexthop->value == id; });
    std::vector<std::uint32_t> emptied;
    for (auto& g : n.nexthops) {
      if (!g.is_group()) continue;
      std::erase_if(g.group, [&](const NexthopSpec::Member& m) { return m.id.value == id; });
      if (!g.is_group()) emptied.push_back(g.id.value);
    }
    for (std::uint32_t e : emptied) forget_nexthop(n, e);
  }

  // Routes (of `family`, or all) through `ifname` or through a gateway on a subnet of `gone`.
  static void forget_routes(NodeSpec& n, const std::string& ifname,
                            const std::vector<AddressSpec>& gone, std::optional<Family> family) {
    std::erase_if(n.routes, [&](const RouteSpec& r) {
      if (family && r.family != *family) return false;
      if (r.dev && r.dev->value == ifname) return true;
      return r.via && std::any_of(gone.begin(), gone.end(), [&](const AddressSpec& a) {
               return a.prefix.contains(r.via->value);
             });
    });
  }

  void node(Topology& t, NodeSpec& n, const NodeSpec& f) {
    (void)t;
    for (const auto& fi : f.interfaces) interface(n, fi);
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
    if (!f.bridges.empty()) refuse(f.bridges.front().pos, "a bridge", "the topology");
    if (!f.virtuals.empty())
      refuse(f.virtuals.front().pos,
             fmt::format("a {}", virtual_kind_name(f.virtuals.front().kind)), "the topology");
    if (f.forwarding) refuse(f.pos, "forwarding", "set with sysctl net.ipv4.ip_forward");
  }

  void interface(NodeSpec& n, const InterfaceSpec& fi) {
    InterfaceSpec* i = n.interface(fi.name);
    if (!i) {
      n.interfaces.push_back(InterfaceSpec{.name = fi.name, .pos = fi.pos});
      i = &n.interfaces.back();
    }
    if (fi.ifindex)
      d_.error(fi.ifindex->pos,
               "an interface's ifindex is fixed when it is created: write it in the topology");
    if (op_ == ChangeOp::set) {
      if (fi.mtu && fi.mtu->value < kMinMtuIpv6) ipv6_gone(n, *i);
      if (fi.mtu) i->mtu = fi.mtu;
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
        else
          i->addresses.erase(it);
      } else if (op_ == ChangeOp::replace && it != i->addresses.end()) {
        *it = a;
      } else {
        i->addresses.push_back(a);
      }
    }
  }

  // Below 1280 the kernel turns IPv6 off on the interface (addrconf_ifdown): its IPv6
  // addresses go, and the IPv6 routes through it with them.
  static void ipv6_gone(NodeSpec& n, InterfaceSpec& i) {
    std::vector<AddressSpec> gone;
    std::erase_if(i.addresses, [&](const AddressSpec& a) {
      if (a.prefix.address.family != Family::ipv6) return false;
      gone.push_back(a);
      return true;
    });
    forget_routes(n, i.name, gone, Family::ipv6);
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
        forget_nexthop(n, x.id.value);
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
