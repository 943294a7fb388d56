// Change steps: a topology fragment checked against the model as the earlier steps left it
// (the same check as `nslab validate`), then applied through the builder's apply functions.

#include "change_step.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "../lab/apply.hpp"
#include "execution.hpp"
#include "nslab/change.hpp"
#include "nslab/error.hpp"

namespace nslab {

std::string apply_change(Lab& lab, const Topology& after, ChangeOp op, const Topology& fragment,
                         std::chrono::milliseconds ready_timeout) {
  std::vector<std::string> did;
  // node -> interfaces that must get ready (with their veth peers: both ends get carrier)
  std::map<std::string, std::set<std::string>> to_wait;
  const char* verb = change_op_name(op);

  for (const auto& l : fragment.links) {
    LabNode& a = lab.node(l.a.node);
    LabNode& b = lab.node(l.b.node);
    if (op == ChangeOp::add) {
      lab.number_interface(l.a.node, l.a.ifname);
      lab.number_interface(l.b.node, l.b.ifname);
      apply::veth(lab, after, l);
      for (const Endpoint* e : {&l.a, &l.b}) {
        LabNode& n = e == &l.a ? a : b;
        if (!after.node(e->node)->wanted_up(e->ifname)) continue;
        int idx = n.ifindex(e->ifname);
        apply::at(l.pos, [&] { n.rtnl().change_link(idx, {.up = true}); });
        to_wait[e->node].insert(e->ifname);
      }
    } else {  // del: the peer goes with it
      apply::at(l.pos, [&] { a.rtnl().del_link(a.ifindex(l.a.ifname)); });
      a.forget_ifindex(l.a.ifname);
      b.forget_ifindex(l.b.ifname);
    }
    did.push_back(fmt::format("{} link {} {}", verb, l.a.str(), l.b.str()));
  }

  for (const auto& f : fragment.nodes) {
    LabNode& node = lab.node(f.name);
    const NodeSpec& model = *after.node(f.name);
    for (const auto& i : f.interfaces) {
      if (op == ChangeOp::set) {
        apply::interface(node, i);
        did.push_back(fmt::format("set {}:{}{}{}", f.name, i.name,
                                  i.mtu ? fmt::format(" mtu {}", i.mtu->value) : "",
                                  i.up ? (i.up->value ? " up" : " down") : ""));
        if (i.up && i.up->value) to_wait[f.name].insert(i.name);
        continue;
      }
      for (const auto& a : i.addresses) {
        apply::address(lab, node, i.name, a, op);
        did.push_back(fmt::format("{} address {} on {}:{}", verb, a.prefix.str(), f.name, i.name));
        if (a.prefix.address.family == Family::ipv6 && op != ChangeOp::del)
          to_wait[f.name].insert(i.name);
      }
    }
    // Nexthops before the routes that use them, groups after their members; deleted in the
    // opposite order.
    auto nexthops = [&](bool groups) {
      for (const auto& n : f.nexthops) {
        if (n.is_group() != groups) continue;
        apply::nexthop(node, n, op);
        did.push_back(fmt::format("{} nexthop {} in {}", verb, n.id.value, f.name));
      }
    };
    if (op != ChangeOp::del) {
      nexthops(false);
      nexthops(true);
    }
    for (const auto& q : f.qdiscs) {
      apply::qdisc(node, q, op);
      did.push_back(op == ChangeOp::del ? fmt::format("del qdisc on {}:{}", f.name, q.dev)
                                        : fmt::format("{} {} qdisc on {}:{}", verb,
                                                      qdisc_kind_name(q.kind), f.name, q.dev));
    }
    for (const auto& r : f.routes) {
      apply::route(node, model, r, op);
      did.push_back(fmt::format("{} route {} in {}", verb, r.str(), f.name));
    }
    for (const auto& r : f.rules) {
      apply::rule(node, r, op);
      did.push_back(fmt::format("{} rule priority {} in {}", verb, r.priority.value, f.name));
    }
    for (const auto& n : f.neighbours) {
      apply::neighbour(node, n, op);
      did.push_back(fmt::format("{} neighbour {} on {}:{}", verb, n.address.value.str(), f.name,
                                n.dev.value));
    }
    if (op == ChangeOp::del) {
      nexthops(true);
      nexthops(false);
    }
    if (!f.sysctls.empty()) {
      apply::sysctls(lab, node, f.sysctls);
      std::string text = "sysctl";
      for (const auto& s : f.sysctls) text += fmt::format(" {}={}", s.key, s.value);
      did.push_back(text + " in " + f.name);
    }
    if (f.nftables) {
      apply::nftables(lab, node, *f.nftables);
      did.push_back("nftables in " + f.name);
    }
  }

  // An interface that comes up gives its veth peer carrier too; one without carrier by design
  // (down, or its peer is) has nothing to wait for.
  std::map<std::string, std::set<int>> ready, without_carrier;
  for (const auto& [name, ifnames] : to_wait)
    for (const auto& ifname : ifnames) {
      if (after.carrier_expected(name, ifname))
        ready[name].insert(lab.node(name).ifindex(ifname));
      else if (after.veth_peer(name, ifname))
        without_carrier[name].insert(lab.node(name).ifindex(ifname));
      if (auto peer = after.veth_peer(name, ifname);
          peer && after.carrier_expected(peer->node, peer->ifname))
        ready[peer->node].insert(lab.node(peer->node).ifindex(peer->ifname));
    }
  for (auto& [name, ifindexes] : without_carrier) ready[name];
  for (const auto& [name, ifindexes] : ready) {
    const auto& quiet = without_carrier[name];
    apply::wait_ready(lab.node(name), {ifindexes.begin(), ifindexes.end()},
                      /*with_addresses=*/true, ready_timeout, {quiet.begin(), quiet.end()});
  }

  std::string out;
  for (const auto& d : did) out += (out.empty() ? "" : "; ") + d;
  return out;
}

namespace exec {

// The fragment is parsed again with the lab's values for its templates, checked against the
// model, and applied; the model then becomes the one after the change.
void change_step(ScenarioState& s, const StepSpec& st, StepOutcome& o) {
  o.kind = "change";
  const ChangeSpec& c = st.change;
  if (c.op == ChangeOp::flush) {
    o.node = c.flush_node.value;
    try {
      o.command = apply::flush(*s.lab, s.lab->node(c.flush_node.value), c.flush);
    } catch (const Error& e) {
      o.passed = false;
      o.reason = e.what();
    }
    return;
  }
  Diagnostics d;
  Topology fragment = c.fragment(s.resolver(), d, nullptr);
  Topology after = s.model;
  if (d.empty()) change_model(after, c.op, fragment, d);
  if (!fragment.nodes.empty()) o.node = fragment.nodes.front().name;
  // Positions are the scenario's, given as (LINE:COL) like an expectation's.
  auto at = [](const std::string& what, const SourcePos& pos) {
    return pos.line ? fmt::format("{} ({})", what, pos.line_col()) : what;
  };
  if (!d.empty()) {
    auto all = d.sorted();
    o.passed = false;
    o.reason = at(all.front().message, all.front().pos);
    for (std::size_t i = 1; i < all.size(); ++i)
      o.details.push_back("also: " + at(all[i].message, all[i].pos));
    return;
  }
  try {
    o.command = apply_change(*s.lab, after, c.op, fragment,
                             scaled(BuildOptions{}.ready_timeout, s.options.time_scale));
    s.model = std::move(after);
  } catch (const Error& e) {
    o.passed = false;
    o.reason = e.pos() ? at(e.what(), *e.pos()) : e.what();
  }
}

}  // namespace exec

}  // namespace nslab
