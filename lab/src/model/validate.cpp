// Cross references and kernel limits of a topology. Pure: it reads the model and writes
// diagnostics; nothing here touches the kernel, so `nslab validate` needs no privileges.

#include <fmt/format.h>

#include <map>
#include <set>
#include <tuple>

#include "names.hpp"
#include "nslab/interface_kinds.hpp"
#include "nslab/validate.hpp"

namespace nslab {

namespace {

struct EndpointUse {
  const LinkSpec* link;
  const Endpoint* end;
};

class Validator {
 public:
  Validator(const Topology& t, Diagnostics& d) : t_(t), d_(d) {}

  void run() {
    nodes();
    links();
    for (const auto& n : t_.nodes) {
      bridges(n);
      virtuals(n);
      interfaces(n);
      nexthops(n);
      routes(n);
      rules(n);
      neighbours(n);
      qdiscs(n);
      nftables(n);
    }
  }

 private:
  void nftables(const NodeSpec& n) {
    if (!n.nftables) return;
    if (auto at = find_nft_include(n.nftables->text))
      d_.error(n.nftables->at(at->first, at->second),
               "nftables: 'include' would read a file of the host; write the ruleset out in full");
  }

  void nodes() {
    std::map<std::string, const NodeSpec*> seen;
    for (const auto& n : t_.nodes) {
      auto [it, fresh] = seen.emplace(n.name, &n);
      if (!fresh)
        d_.error(n.pos, fmt::format("duplicate node '{}' (first at {})", n.name,
                                    it->second->pos.line_col()));
    }
  }

  void links() {
    for (const auto& l : t_.links) {
      for (const Endpoint* e : {&l.a, &l.b}) {
        if (!t_.node(e->node)) {
          d_.error(e->pos,
                   fmt::format("unknown node '{}' in link endpoint '{}'", e->node, e->str()));
          continue;
        }
        if (e->ifname == "lo") {
          d_.error(e->pos, fmt::format("link endpoint '{}': 'lo' exists in every node and "
                                       "cannot be a veth end",
                                       e->str()));
          continue;
        }
        auto [it, fresh] = ends_.emplace(std::make_pair(e->node, e->ifname), EndpointUse{&l, e});
        if (!fresh)
          d_.error(e->pos, fmt::format("endpoint '{}' is used twice (first at {})", e->str(),
                                       it->second.end->pos.line_col()));
      }
      if (l.mtu) check_mtu_range(l.mtu->value, l.mtu->pos, "link mtu");
    }
  }

  void bridges(const NodeSpec& n) {
    std::map<std::string, const BridgeSpec*> port_owner;
    std::set<std::string> names;
    for (const auto& b : n.bridges) {
      if (!names.insert(b.name).second)
        d_.error(b.pos, fmt::format("duplicate bridge '{}' in node '{}'", b.name, n.name));
      if (ends_.count({n.name, b.name}))
        d_.error(b.pos, fmt::format("bridge '{}' has the name of a link endpoint of node '{}'",
                                    b.name, n.name));
      if (b.name == "lo") d_.error(b.pos, "a bridge cannot be called 'lo'");
      for (const auto& p : b.ports) {
        // A link endpoint, or an Ethernet device the node creates (br_add_if refuses the rest:
        // layer-3 devices, and masters such as a vrf or a bridge).
        if (const auto* v = n.virtual_interface(p.value)) {
          const InterfaceKind& kind = interface_kind(v->kind);
          if (!kind.bridge_port || !kind.bridge_port(*v)) {
            const bool vowel =
                std::string_view("aeiou").find(kind.name()[0]) != std::string_view::npos;
            d_.error(p.pos, fmt::format("bridge port '{}' is {} {}{}, not an Ethernet device (the "
                                        "kernel bridges {} devices)",
                                        p.value, vowel ? "an" : "a", kind.name(),
                                        kind.bridged_as ? " in " + kind.label(*v) + " mode" : "",
                                        bridgeable_kind_names()));
            continue;
          }
        } else if (t_.links_complete && !ends_.count({n.name, p.value})) {
          d_.error(p.pos, fmt::format("bridge port '{}' is neither a link endpoint nor an "
                                      "interface of node '{}'",
                                      p.value, n.name));
          continue;
        }
        auto [it, fresh] = port_owner.emplace(p.value, &b);
        if (!fresh)
          d_.error(p.pos, fmt::format("interface '{}' is already a port of bridge '{}'", p.value,
                                      it->second->name));
      }
    }
  }

  bool interface_exists(const NodeSpec& n, const std::string& ifname) const {
    return !t_.links_complete || ifname == "lo" || ends_.count({n.name, ifname}) ||
           n.bridge(ifname) || n.virtual_interface(ifname);
  }

  // Interfaces a node creates: one name per interface whatever its kind, a parent that exists,
  // a vxlan's local address its own.
  void virtuals(const NodeSpec& n) {
    std::map<std::string, const VirtualSpec*> seen;
    for (const auto& v : n.virtuals) {
      const char* kind = virtual_kind_name(v.kind);
      if (v.name == "lo") {
        d_.error(v.pos, fmt::format("a {} cannot be called 'lo'", kind));
        continue;
      }
      if (auto [it, fresh] = seen.emplace(v.name, &v); !fresh) {
        d_.error(v.pos, fmt::format("interface '{}' of node '{}' is created twice ({} at {})",
                                    v.name, n.name, virtual_kind_name(it->second->kind),
                                    it->second->pos.line_col()));
        continue;
      }
      if (ends_.count({n.name, v.name}) || n.bridge(v.name))
        d_.error(v.pos,
                 fmt::format("interface '{}' of node '{}' is created twice ({} and {})", v.name,
                             n.name, kind, n.bridge(v.name) ? "bridge" : "link endpoint"));
      if (v.parent) {
        if (v.parent->value == v.name || v.parent->value == "lo" ||
            !interface_exists(n, v.parent->value))
          d_.error(v.parent->pos, fmt::format("{} '{}': '{}' is not an interface of node '{}'",
                                              kind, v.name, v.parent->value, n.name));
      }
      if (v.local) {
        bool own = false;
        for (const auto& i : n.interfaces)
          for (const auto& a : i.addresses) own = own || a.prefix.address == v.local->value;
        if (!own)
          d_.error(v.local->pos, fmt::format("{} '{}': local {} is not an address of node '{}'",
                                             kind, v.name, v.local->value.str(), n.name));
      }
      for (const auto& p : v.ports) vrf_port(n, v, p);
    }
  }

  void vrf_port(const NodeSpec& n, const VirtualSpec& vrf, const Located<std::string>& p) {
    if (p.value == vrf.name || p.value == "lo" || !interface_exists(n, p.value)) {
      d_.error(p.pos, fmt::format("vrf '{}': port '{}' is not an interface of node '{}'", vrf.name,
                                  p.value, n.name));
      return;
    }
    for (const auto& b : n.bridges)
      for (const auto& bp : b.ports)
        if (bp.value == p.value)
          d_.error(p.pos, fmt::format("vrf '{}': '{}' is already a port of bridge '{}'", vrf.name,
                                      p.value, b.name));
    if (auto [it, fresh] = vrf_ports_.emplace(std::pair{n.name, p.value}, &vrf); !fresh)
      d_.error(p.pos, fmt::format("vrf '{}': '{}' is already a port of vrf '{}'", vrf.name, p.value,
                                  it->second->name));
  }

  void nexthops(const NodeSpec& n) {
    std::map<std::uint32_t, const NexthopSpec*> seen;
    for (const auto& nh : n.nexthops) {
      if (auto [it, fresh] = seen.emplace(nh.id.value, &nh); !fresh)
        d_.error(nh.id.pos, fmt::format("duplicate nexthop id {} (first at {})", nh.id.value,
                                        it->second->pos.line_col()));
      if (nh.dev && !interface_exists(n, nh.dev->value))
        d_.error(nh.dev->pos, fmt::format("nexthop dev '{}' is not an interface of node '{}'",
                                          nh.dev->value, n.name));
      if (nh.via) gateway(n, nh.family, *nh.via, nh.dev);
      std::set<std::uint32_t> members;
      for (const auto& m : nh.group) {
        if (!members.insert(m.id.value).second)
          d_.error(m.id.pos,
                   fmt::format("nexthop {} is twice in group {}", m.id.value, nh.id.value));
        const NexthopSpec* target = n.nexthop(m.id.value);
        if (!target) {
          d_.error(m.id.pos, fmt::format("group {} names nexthop {}, which node '{}' does not "
                                         "have",
                                         nh.id.value, m.id.value, n.name));
        } else if (target->is_group()) {
          d_.error(m.id.pos, fmt::format("group {} names nexthop {}, which is a group itself "
                                         "(groups do not nest)",
                                         nh.id.value, m.id.value));
        } else if (target->blackhole && nh.group.size() > 1) {
          d_.error(m.id.pos,
                   fmt::format("blackhole nexthop {} can only be alone in a group", m.id.value));
        }
      }
    }
  }

  void qdiscs(const NodeSpec& n) {
    for (const auto& q : n.qdiscs)
      if (!interface_exists(n, q.dev))
        d_.error(q.pos, fmt::format("qdisc on '{}': not an interface of node '{}'", q.dev, n.name));
  }

  void interfaces(const NodeSpec& n) {
    std::map<int, const InterfaceSpec*> ifindexes;
    for (const auto& i : n.interfaces) {
      if (i.ifindex) {
        if (i.name == "lo")
          d_.error(i.ifindex->pos, "lo is always ifindex 1");
        else if (auto [it, fresh] = ifindexes.emplace(i.ifindex->value, &i); !fresh)
          d_.error(
              i.ifindex->pos,
              fmt::format("ifindex {} of '{}' is also '{}' in node '{}' (at {})", i.ifindex->value,
                          i.name, it->second->name, n.name, it->second->ifindex->pos.line_col()));
      }
      if (!interface_exists(n, i.name)) {
        d_.error(i.pos, fmt::format("interface '{}' of node '{}' is not created by any link, "
                                    "bridge or interface kind",
                                    i.name, n.name));
        continue;
      }
      if (i.mtu) check_mtu_range(i.mtu->value, i.mtu->pos, "mtu");
      for (const auto& a : i.addresses) address(n, i, a);
      ipv6_mtu(n, i);
    }
  }

  void address(const NodeSpec& n, const InterfaceSpec& i, const AddressSpec& a) {
    const IpAddress& ip = a.prefix.address;
    const auto& b = ip.bytes;
    bool unusable = ip.family == Family::ipv4
                        ? (b[0] == 0 || b[0] >= 224 || b[0] == 127)
                        : (b[0] == 0xff || a.prefix.address == IpAddress{Family::ipv6, {}});
    if (unusable && i.name != "lo") {
      d_.error(a.pos,
               fmt::format("'{}' is not a usable unicast interface address", a.prefix.str()));
      return;
    }
    if (ip.family == Family::ipv4 && a.prefix.length < 31 && a.prefix.network().address == ip &&
        a.prefix.length > 0) {
      d_.error(a.pos, fmt::format("'{}' is the network address of its subnet", a.prefix.str()));
      return;
    }
    // The kernel refuses an address twice on one interface (EEXIST; IPv4 only with the same
    // prefix length); on another interface or node it is allowed (an anycast address, two LANs
    // that reuse a subnet).
    std::string key = ip.family == Family::ipv4 ? a.prefix.str() : ip.str();
    auto [it, fresh] = addresses_.emplace(std::tuple{n.name, i.name, key}, &a);
    if (!fresh)
      d_.error(a.pos, fmt::format("duplicate address {} on {}:{} (also at {})", ip.str(), n.name,
                                  i.name, it->second->pos.line_col()));
  }

  // IPv6 needs at least 1280 on the link; below that the kernel silently removes it.
  void ipv6_mtu(const NodeSpec& n, const InterfaceSpec& i) {
    if (!i.first(Family::ipv6)) return;
    auto mtu = t_.effective_mtu(n.name, i.name);
    if (!mtu || *mtu >= kMinMtuIpv6 || *mtu < kMinMtuIpv4) return;  // below 68: reported
    SourcePos where = i.mtu ? i.mtu->pos : i.pos;
    if (!i.mtu)
      if (auto e = ends_.find({n.name, i.name}); e != ends_.end() && e->second.link->mtu)
        where = e->second.link->mtu->pos;
    d_.error(where, fmt::format("mtu {} of '{}:{}' is below 1280, the IPv6 minimum, and the "
                                "interface has IPv6 addresses",
                                *mtu, n.name, i.name));
  }

  void check_mtu_range(int mtu, const SourcePos& pos, const char* what) {
    if (mtu < kMinMtuIpv4)
      d_.error(pos, fmt::format("{} {} is below 68, the IPv4 minimum", what, mtu));
    else if (mtu > kMaxMtu)
      d_.error(pos, fmt::format("{} {} is above {}, the largest a veth or bridge takes", what, mtu,
                                kMaxMtu));
  }

  void routes(const NodeSpec& n) {
    std::map<std::tuple<Family, std::string, std::uint32_t, std::uint32_t>, const RouteSpec*> seen;
    for (const auto& r : n.routes) {
      if (!r.is_default && r.to.network() != r.to)
        d_.error(r.pos, fmt::format("route destination '{}' has host bits set (did you mean "
                                    "'{}'?)",
                                    r.to.str(), r.to.network().str()));
      auto key = std::make_tuple(r.family, r.to.network().str(), r.table_id(), r.metric_value());
      if (auto [it, fresh] = seen.emplace(key, &r); !fresh)
        d_.error(r.pos, fmt::format("duplicate route to {} (first at {})", r.str(),
                                    it->second->pos.line_col()));
      if (r.dev && !interface_exists(n, r.dev->value))
        d_.error(r.dev->pos, fmt::format("route dev '{}' is not an interface of node '{}'",
                                         r.dev->value, n.name));
      if (r.mtu) {
        check_mtu_range(r.mtu->value, r.mtu->pos, "route mtu");
        if (r.family == Family::ipv6 && r.mtu->value < kMinMtuIpv6 && r.mtu->value >= kMinMtuIpv4)
          d_.error(r.mtu->pos,
                   fmt::format("route mtu {} is below 1280, the IPv6 minimum", r.mtu->value));
      }
      if (r.src) source(n, r);
      if (r.type != RouteType::unicast) {
        if (r.via)
          d_.error(r.via->pos, fmt::format("a {} route has no gateway", route_type_name(r.type)));
        if (!r.multipath.empty() || r.nexthop)
          d_.error(r.pos, fmt::format("a {} route takes no multipath or nexthop",
                                      route_type_name(r.type)));
        continue;
      }
      if (r.via) gateway(n, r.family, *r.via, r.dev);
      for (const auto& p : r.multipath) {
        if (p.dev && !interface_exists(n, p.dev->value))
          d_.error(p.dev->pos, fmt::format("path dev '{}' is not an interface of node '{}'",
                                           p.dev->value, n.name));
        if (p.via) gateway(n, r.family, *p.via, p.dev);
      }
      if (r.nexthop) route_nexthop(n, r);
      if (!r.via && !r.dev && r.multipath.empty() && !r.nexthop)
        d_.error(r.pos, "a route needs 'via', 'dev', 'multipath' or 'nexthop'");
    }
  }

  void route_nexthop(const NodeSpec& n, const RouteSpec& r) {
    const NexthopSpec* nh = n.nexthop(r.nexthop->value);
    if (!nh) {
      d_.error(r.nexthop->pos, fmt::format("route {}: node '{}' has no nexthop {}", r.str(), n.name,
                                           r.nexthop->value));
      return;
    }
    // The kernel: "IPv6 routes can not use an IPv4 nexthop" (an IPv4 route may use IPv6 ones).
    auto v4 = [&](const NexthopSpec& x) { return !x.is_group() && x.family == Family::ipv4; };
    bool has_v4 = v4(*nh);
    for (const auto& m : nh->group)
      if (const NexthopSpec* x = n.nexthop(m.id.value)) has_v4 = has_v4 || v4(*x);
    if (r.family == Family::ipv6 && has_v4)
      d_.error(r.nexthop->pos,
               fmt::format("route {} is IPv6 but nexthop {} has an IPv4 gateway or family", r.str(),
                           r.nexthop->value));
  }

  void source(const NodeSpec& n, const RouteSpec& r) {
    const IpAddress& src = r.src->value;
    if (src.family != r.family) {
      d_.error(r.src->pos, fmt::format("source {} is {} but the destination is {}", src.str(),
                                       family_name(src.family), family_name(r.family)));
      return;
    }
    for (const auto& i : n.interfaces)
      for (const auto& a : i.addresses)
        if (a.prefix.address == src) return;
    d_.error(r.src->pos,
             fmt::format("source {} is not an address of node '{}'", src.str(), n.name));
  }

  void rules(const NodeSpec& n) {
    std::map<std::pair<Family, std::uint32_t>, const RuleSpec*> seen;
    for (const auto& r : n.rules) {
      if (auto [it, fresh] = seen.emplace(std::pair{r.family, r.priority.value}, &r); !fresh)
        d_.error(r.priority.pos,
                 fmt::format("duplicate {} rule priority {} (first at {})", family_name(r.family),
                             r.priority.value, it->second->pos.line_col()));
      for (const auto* dev : {&r.iif, &r.oif})
        if (*dev && !interface_exists(n, (*dev)->value))
          d_.error((*dev)->pos, fmt::format("rule interface '{}' is not an interface of node '{}'",
                                            (*dev)->value, n.name));
      // IPv4 rules match the old TOS selector (mask 0x1e: dscp 0-7 in the upper bits); the
      // kernel refuses others with "Invalid tos". IPv6 rules match the whole traffic class.
      if (r.dscp && r.family == Family::ipv4 && ((r.dscp->value << 2) & ~0x1e))
        d_.error(r.dscp->pos, fmt::format("an IPv4 rule matches dscp 0-7 only (the kernel's TOS "
                                          "selector), not {}",
                                          r.dscp->value));
      for (const auto* p : {&r.from, &r.to})
        if (*p && (*p)->value.network() != (*p)->value)
          d_.error((*p)->pos, fmt::format("rule prefix '{}' has host bits set (did you mean '{}'?)",
                                          (*p)->value.str(), (*p)->value.network().str()));
    }
  }

  void neighbours(const NodeSpec& n) {
    std::map<std::pair<std::string, std::string>, const NeighbourSpec*> seen;
    for (const auto& x : n.neighbours) {
      if (!interface_exists(n, x.dev.value) || x.dev.value == "lo") {
        d_.error(x.dev.pos, fmt::format("neighbour dev '{}' is not a link or bridge of node '{}'",
                                        x.dev.value, n.name));
        continue;
      }
      auto key = std::pair{x.dev.value, x.address.value.str()};
      if (auto [it, fresh] = seen.emplace(key, &x); !fresh)
        d_.error(x.pos,
                 fmt::format("duplicate neighbour {} on {} (first at {})", x.address.value.str(),
                             x.dev.value, it->second->pos.line_col()));
      if (!x.lladdr && x.state.value != NudState::noarp)
        d_.error(x.pos, fmt::format("a {} neighbour needs 'lladdr' (only noarp goes without)",
                                    kNudStates.name(x.state.value)));
    }
  }

  // A gateway of a route, a path or a nexthop: of the family it serves, on a connected subnet
  // (of `dev` when given), not the node's own address.
  void gateway(const NodeSpec& n, Family family, const Located<IpAddress>& via,
               const std::optional<Located<std::string>>& dev) {
    const IpAddress& gw = via.value;
    if (gw.family != family) {
      d_.error(via.pos, fmt::format("gateway {} is {} but the destination is {}", gw.str(),
                                    family_name(gw.family), family_name(family)));
      return;
    }
    if (gw.family == Family::ipv6 && gw.is_link_local()) {
      if (!dev) d_.error(via.pos, fmt::format("link-local gateway {} needs 'dev'", gw.str()));
      return;
    }
    bool on_subnet = false;
    for (const auto& i : n.interfaces) {
      if (dev && i.name != dev->value) continue;
      for (const auto& a : i.addresses) {
        if (a.prefix.address == gw) {
          d_.error(via.pos,
                   fmt::format("gateway {} is an address of node '{}' itself", gw.str(), n.name));
          return;
        }
        if (a.prefix.contains(gw)) on_subnet = true;
      }
    }
    if (!on_subnet)
      d_.error(via.pos,
               fmt::format("gateway {} is not on any connected subnet of node '{}'{}", gw.str(),
                           n.name, dev ? fmt::format(" (on dev '{}')", dev->value) : ""));
  }

  const Topology& t_;
  Diagnostics& d_;
  std::map<std::pair<std::string, std::string>, EndpointUse> ends_;
  std::map<std::tuple<std::string, std::string, std::string>, const AddressSpec*> addresses_;
  std::map<std::pair<std::string, std::string>, const VirtualSpec*> vrf_ports_;
};

}  // namespace

void validate_topology(const Topology& topology, Diagnostics& diags) {
  Validator(topology, diags).run();
}

}  // namespace nslab
