// From the model to the kernel, one kind of object at a time (see apply.hpp).

#include "apply.hpp"

#include "kernel_values.hpp"

#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <cstdio>

#include <net/if.h>

#include <fmt/format.h>

#include "nslab/error.hpp"
#include "nslab/features.hpp"
#include "nslab/nft.hpp"
#include "nslab/sysctl.hpp"

namespace nslab::apply {

namespace {

std::optional<int> explicit_mtu(const Topology& t, const Endpoint& e, const LinkSpec& l) {
  if (const auto* n = t.node(e.node))
    if (const auto* i = n->interface(e.ifname); i && i->mtu) return i->mtu->value;
  if (l.mtu) return l.mtu->value;
  return std::nullopt;
}

// The interface whose subnet holds the gateway (validation guarantees there is one).
std::string reaching(const NodeSpec& spec, const std::optional<Located<IpAddress>>& via) {
  if (!via) return {};
  for (const auto& ifc : spec.interfaces)
    for (const auto& a : ifc.addresses)
      if (a.prefix.contains(via->value)) return ifc.name;
  return {};
}

// A qdisc kind or interface kind this kernel lacks: the error names the feature to require.
[[noreturn]] void rethrow_missing(const Error& e, const char* feature, const SourcePos& pos) {
  if (auto why = missing_feature(feature))
    throw Error(fmt::format("{}: declare `requires: [feature {}]` to skip the scenario where it "
                            "is missing",
                            *why, feature),
                EOPNOTSUPP, pos);
  if (e.pos()) throw e;
  throw Error(e.what(), e.err(), pos);
}

int route_type(RouteType t) {
  switch (t) {
    case RouteType::unicast:
      return RTN_UNICAST;
    case RouteType::blackhole:
      return RTN_BLACKHOLE;
    case RouteType::unreachable:
      return RTN_UNREACHABLE;
    case RouteType::prohibit:
      return RTN_PROHIBIT;
  }
  return RTN_UNICAST;
}

// ff02::1:ffXX:XXXX, the group a neighbour solicitation for `a` is sent to (RFC 4291 2.7.1).
IpAddress solicited_node(const IpAddress& a) {
  IpAddress g;
  g.family = Family::ipv6;
  g.bytes = {0xff, 0x02, 0, 0,    0,    0,           0,           0,
             0,    0,    0, 0x01, 0xff, a.bytes[13], a.bytes[14], a.bytes[15]};
  return g;
}

}  // namespace

void veth(Lab& lab, const Topology& model, const LinkSpec& l) {
  LabNode& a = lab.node(l.a.node);
  LabNode& b = lab.node(l.b.node);
  VethRequest req;
  req.name = l.a.ifname;
  req.ifindex = a.ifindex(l.a.ifname);
  req.mtu = explicit_mtu(model, l.a, l);
  req.peer_name = l.b.ifname;
  req.peer_ifindex = b.ifindex(l.b.ifname);
  req.peer_mtu = explicit_mtu(model, l.b, l);
  req.peer_netns_fd = b.netns().fd();
  at(l.pos, [&] { a.rtnl().add_veth(req); });
}

void virtual_interface(const Lab& lab, LabNode& node, const NodeSpec& model, const VirtualSpec& v) {
  const char* kind = virtual_kind_name(v.kind);
  std::optional<int> mtu;
  if (const auto* i = model.interface(v.name); i && i->mtu) mtu = i->mtu->value;
  try {
    if (v.kind == VirtualSpec::Kind::tun) {
      NetnsScope scope(node.netns(), lab.home());
      create_tun(v.name, node.ifindex(v.name), v.tun_mode.value == TunMode::tap);
      if (mtu) node.rtnl().change_link(node.ifindex(v.name), {.mtu = mtu});
      return;
    }
    VirtualRequest req;
    req.kind = kind;
    req.name = v.name;
    req.ifindex = node.ifindex(v.name);
    req.mtu = mtu;
    if (v.parent) req.parent = node.ifindex(v.parent->value);
    if (v.vni) req.vni = v.vni->value;
    if (v.local) req.local = v.local->value;
    if (v.remote) req.remote = v.remote->value;
    if (v.port) req.port = v.port->value;
    if (v.df) req.vxlan_df = kernel_value(kVxlanDfValues, v.df->value);
    if (v.id) req.vlan_id = v.id->value;
    if (v.table) req.table = v.table->value;
    if (v.ttl) req.ttl = v.ttl->value;
    if (v.kind == VirtualSpec::Kind::macvlan)
      req.mode = kernel_value(kMacvlanModeValues, v.macvlan_mode.value);
    if (v.kind == VirtualSpec::Kind::ipvlan)
      req.mode = kernel_value(kIpvlanModeValues, v.ipvlan_mode.value);
    node.rtnl().add_virtual(req);
    for (const auto& p : v.ports)  // a vrf's
      at(p.pos,
         [&] { node.rtnl().change_link(node.ifindex(p.value), {.master = node.ifindex(v.name)}); });
  } catch (const Error& e) {
    rethrow_missing(e, kind, v.pos);
  }
}

void address(const Lab& lab, LabNode& node, const std::string& ifname, const AddressSpec& a,
             ChangeOp op) {
  at(a.pos, [&] {
    int idx = node.ifindex(ifname);
    if (op == ChangeOp::del) {
      node.rtnl().del_address(idx, a.prefix);
      return;
    }
    if (op == ChangeOp::replace) node.rtnl().del_address(idx, a.prefix);
    AddressOptions o;
    if (a.valid_lft) o.valid_lft = a.valid_lft->value;
    if (a.preferred_lft) o.preferred_lft = a.preferred_lft->value;
    o.dad = a.runs_dad();
    // Every node starts with accept_dad 0 (its link-local addresses skip DAD too); the kernel
    // runs DAD only on an interface whose accept_dad is 1 or more.
    if (o.dad) {
      NetnsScope scope(node.netns(), lab.home());
      sysctl::write(fmt::format("net.ipv6.conf.{}.accept_dad", ifname), "1");
    }
    for (const auto& f : a.flags) o.flags |= kernel_value(kAddressFlagBits, f.value);
    node.rtnl().add_address(idx, a.prefix, o);
  });
}

void interface(LabNode& node, const InterfaceSpec& i) {
  LinkChange c;
  if (i.mtu) c.mtu = i.mtu->value;
  if (i.up) c.up = i.up->value;
  at(i.mtu  ? i.mtu->pos
     : i.up ? i.up->pos
            : i.pos,
     [&] { node.rtnl().change_link(node.ifindex(i.name), c); });
}

void route(LabNode& node, const NodeSpec& model, const RouteSpec& r, ChangeOp op) {
  RouteRequest req;
  req.family = r.family;
  req.to = r.to;
  req.table = r.table_id();
  req.type = route_type(r.type);
  if (r.metric) req.metric = r.metric->value;
  at(r.pos, [&] {
    if (op == ChangeOp::del) {
      node.rtnl().del_route(req);
      return;
    }
    if (r.via) req.via = r.via->value;
    if (r.mtu) req.mtu = r.mtu->value;
    req.lock_mtu = r.lock_mtu;
    if (r.advmss) req.advmss = r.advmss->value;
    if (r.initcwnd) req.initcwnd = r.initcwnd->value;
    if (r.rto_min) req.rto_min_ms = static_cast<int>(r.rto_min->value.count());
    if (r.src) req.src = r.src->value;
    std::string dev = r.dev ? r.dev->value : reaching(model, r.via);
    if (!dev.empty() && r.type == RouteType::unicast) req.oif = node.ifindex(dev);
    for (const auto& p : r.multipath) {
      std::string pdev = p.dev ? p.dev->value : reaching(model, p.via);
      req.paths.push_back({p.via ? std::optional(p.via->value) : std::nullopt,
                           pdev.empty() ? 0 : node.ifindex(pdev), p.weight.value});
    }
    if (r.nexthop) req.nexthop = r.nexthop->value;
    if (op == ChangeOp::replace)
      node.rtnl().replace_route(req);
    else
      node.rtnl().add_route(req);
  });
}

void rule(LabNode& node, const RuleSpec& r, ChangeOp op) {
  RuleRequest req;
  req.family = r.family;
  req.priority = r.priority.value;
  at(r.pos, [&] {
    if (op == ChangeOp::del || op == ChangeOp::replace) {
      node.rtnl().del_rule(req);
      if (op == ChangeOp::del) return;
    }
    if (r.from) req.from = r.from->value;
    if (r.to) req.to = r.to->value;
    if (r.iif) req.iif = r.iif->value;
    if (r.oif) req.oif = r.oif->value;
    if (r.ipproto) req.ipproto = r.ipproto->value;
    if (r.sport) req.sport = r.sport->value;
    if (r.dport) req.dport = r.dport->value;
    if (r.dscp) req.dscp = r.dscp->value;
    if (r.fwmark) req.fwmark = r.fwmark->value;
    switch (r.action) {
      case RuleSpec::Action::table:
        req.action = FR_ACT_TO_TBL;
        req.table = r.table ? r.table->value : kMainTable;
        break;
      case RuleSpec::Action::blackhole:
        req.action = FR_ACT_BLACKHOLE;
        break;
      case RuleSpec::Action::unreachable:
        req.action = FR_ACT_UNREACHABLE;
        break;
      case RuleSpec::Action::prohibit:
        req.action = FR_ACT_PROHIBIT;
        break;
    }
    node.rtnl().add_rule(req);
  });
}

void neighbour(LabNode& node, const NeighbourSpec& n, ChangeOp op) {
  NeighbourRequest req;
  req.address = n.address.value;
  at(n.pos, [&] {
    req.ifindex = node.ifindex(n.dev.value);
    if (op == ChangeOp::del) {
      node.rtnl().del_neighbour(req);
      return;
    }
    if (n.lladdr) {
      std::array<std::uint8_t, 6> mac{};
      unsigned v[6] = {};
      std::sscanf(n.lladdr->value.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3],
                  &v[4], &v[5]);  // validated: 6 hex pairs
      for (int i = 0; i < 6; ++i)
        mac[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v[i]);
      req.lladdr = mac;
    }
    req.state = kernel_value(kNudStateValues, n.state.value);
    node.rtnl().add_neighbour(req, op == ChangeOp::replace);
  });
}

void nexthop(LabNode& node, const NexthopSpec& n, ChangeOp op) {
  at(n.pos, [&] {
    if (op == ChangeOp::del) {
      node.rtnl().del_nexthop(n.id.value);
      return;
    }
    NexthopRequest req;
    req.id = n.id.value;
    req.family = n.family;
    req.blackhole = n.blackhole;
    if (n.via) req.via = n.via->value;
    if (n.dev) req.oif = node.ifindex(n.dev->value);
    for (const auto& m : n.group) req.group.emplace_back(m.id.value, m.weight.value);
    node.rtnl().add_nexthop(req, op == ChangeOp::replace);
  });
}

void qdisc(LabNode& node, const QdiscSpec& q, ChangeOp op) {
  const char* kind = qdisc_kind_name(q.kind);
  try {
    if (op == ChangeOp::del) {
      node.rtnl().del_qdisc(node.ifindex(q.dev));
      return;
    }
    QdiscRequest req;
    req.kind = kind;
    req.ifindex = node.ifindex(q.dev);
    auto us = [](const auto& d) {
      return d ? static_cast<std::uint32_t>(d->value.count() * 1000) : 0u;
    };
    if (q.rate) req.rate_bits = q.rate->value;
    if (q.ceil) req.ceil_bits = q.ceil->value;
    if (q.burst) req.burst_bytes = q.burst->value;
    req.latency_us = us(q.latency);
    req.delay_us = us(q.delay);
    req.jitter_us = us(q.jitter);
    if (q.loss) req.loss_percent = q.loss->value;
    if (q.limit) req.limit = q.limit->value;
    node.rtnl().replace_qdisc(req);
  } catch (const Error& e) {
    if (op == ChangeOp::del) {
      if (e.pos()) throw;
      throw Error(e.what(), e.err(), q.pos);
    }
    rethrow_missing(e, kind, q.pos);
  }
}

void sysctls(const Lab& lab, LabNode& node, const std::vector<SysctlSpec>& list) {
  if (list.empty()) return;
  NetnsScope scope(node.netns(), lab.home());
  for (const auto& s : list) at(s.pos, [&] { sysctl::write(s.key, s.value); });
}

std::string flush(const Lab& lab, LabNode& node, ChangeSpec::Flush what) {
  switch (what) {
    case ChangeSpec::Flush::route_exceptions: {
      // IPv6 exceptions are deleted one by one (RTM_DELROUTE of each RTM_F_CLONED route); IPv4
      // has no such dump through libnl, but a write to route.flush starts a new exception
      // generation (fnhe_genid), which voids every IPv4 exception at once.
      {
        NetnsScope scope(node.netns(), lab.home());
        sysctl::write("net.ipv4.route.flush", "1");
      }
      int v6 = node.rtnl().flush_route_exceptions(Family::ipv6);
      return fmt::format("flush route-exceptions in {}: all IPv4, {} IPv6", node.name(), v6);
    }
    case ChangeSpec::Flush::route_cache: {
      // IPv4: a new generation of cached routes and exceptions. IPv6 caches nothing but its
      // exceptions (RTF_CACHE), deleted one by one: net.ipv6.route.flush would only run the
      // garbage collector, and an unprivileged user namespace does not even have it.
      {
        NetnsScope scope(node.netns(), lab.home());
        sysctl::write("net.ipv4.route.flush", "1");
      }
      int v6 = node.rtnl().flush_route_exceptions(Family::ipv6);
      return fmt::format("flush route-cache in {}: all IPv4, {} IPv6", node.name(), v6);
    }
    case ChangeSpec::Flush::neighbours:
      return fmt::format("flush neighbours in {}: {}", node.name(), node.rtnl().flush_neighbours());
  }
  return {};
}

void nftables(const Lab& lab, LabNode& node, const NftablesSpec& n) {
  NetnsScope scope(node.netns(), lab.home());
  if (auto f = nft::apply_here(n.text))
    throw Error("nftables: " + f->message, EINVAL, n.at(f->line, f->column));
}

// Ready means a packet sent now is transmitted and answered without a retry, so this waits,
// on events, for what the kernel finishes asynchronously after our requests returned:
//  - each interface's queue activation (LinkState::can_send, asked per device so that the
//    kernel first runs the device's pending linkwatch work);
//  - with addresses: each IPv6 address no longer tentative and its solicited-node group
//    joined. Both happen in addrconf's DAD work, which runs after the address exists even with
//    NODAD; a neighbour solicitation that arrives before the join is dropped, and the sender
//    tries again only a second later.
void wait_ready(LabNode& node, const std::vector<int>& ifindexes, bool with_addresses,
                std::chrono::milliseconds timeout, const std::vector<int>& without_carrier) {
  if (ifindexes.empty() && without_carrier.empty()) return;
  Rtnl& rtnl = node.rtnl();
  auto pending = [&]() -> std::string {
    for (int idx : without_carrier) {
      LinkState l = rtnl.link(idx);
      if (!l.settled_without_carrier())
        return fmt::format(
            "interface {} does not report its lack of carrier yet (operstate {}, "
            "flags {:#x})",
            l.name, l.operstate, l.flags);
    }
    for (int idx : ifindexes) {
      LinkState l = rtnl.link(idx);
      if (!l.can_send())
        return fmt::format("interface {} cannot send yet (operstate {}, flags {:#x})", l.name,
                           l.operstate, l.flags);
    }
    if (!with_addresses) return {};
    std::optional<std::vector<std::pair<int, IpAddress>>> groups;
    for (const auto& a : rtnl.addresses()) {
      if (a.prefix.address.family != Family::ipv6) continue;
      if (std::find(ifindexes.begin(), ifindexes.end(), a.ifindex) == ifindexes.end()) continue;
      // An address with `dad: true` stays tentative until DAD is over (a second or two); one
      // that another node on the link holds is never usable, and waiting would not help.
      if (a.flags & IFA_F_DADFAILED)
        throw Error(fmt::format("IPv6 address {} failed duplicate address detection: another "
                                "node on the link has it",
                                a.prefix.str()),
                    EADDRINUSE);
      if (a.flags & IFA_F_TENTATIVE)
        return fmt::format("IPv6 address {} is still tentative", a.prefix.str());
      // A device without multicast (a dummy) or without neighbour discovery never joins the
      // solicited-node group, and needs not: nobody solicits its addresses.
      if (unsigned f = rtnl.link(a.ifindex).flags; !(f & IFF_MULTICAST) || (f & IFF_NOARP))
        continue;
      if (!groups) groups = rtnl.ipv6_groups();
      IpAddress solicited = solicited_node(a.prefix.address);
      if (std::find(groups->begin(), groups->end(), std::pair{a.ifindex, solicited}) ==
          groups->end())
        return fmt::format("IPv6 address {} has not joined its group {} yet", a.prefix.str(),
                           solicited.str());
    }
    return {};
  };
  try {
    rtnl.wait_until(pending, timeout);
  } catch (const Error& e) {
    throw Error(fmt::format("node '{}': {}", node.name(), e.what()), e.err());
  }
}

}  // namespace nslab::apply
