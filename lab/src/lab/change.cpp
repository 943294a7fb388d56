// A change that is not an `add` (Lab::apply; an add walks the build's phases in builder.cpp):
// del, replace and set of a fragment's objects, through the same apply functions as the build.

#include <fmt/format.h>

#include <map>
#include <set>

#include "apply.hpp"
#include "nslab/error.hpp"

namespace nslab::apply {

namespace {

class InPlace {
 public:
  InPlace(Lab& lab, const Topology& after, ChangeOp op, const Topology& fragment)
      : lab_(lab), after_(after), op_(op), f_(fragment), verb_(change_op_name(op)) {}

  std::string run(std::chrono::milliseconds ready_timeout) {
    for (const auto& l : f_.links) link(l);
    for (const auto& f : f_.nodes) node(f);
    forget_what_went();
    wait(ready_timeout);
    return done_text(did_);
  }

 private:
  void link(const LinkSpec& l) {  // del (the model allows nothing else): the peer goes with it
    LabNode& a = lab_.node(l.a.node);
    at(l.pos, [&] { a.rtnl().del_link(a.ifindex(l.a.ifname)); });
    did_.push_back(fmt::format("{} link {} {}", verb_, l.a.str(), l.b.str()));
  }

  void node(const NodeSpec& f) {
    LabNode& node = lab_.node(f.name);
    const NodeSpec& model = *after_.node(f.name);
    for (const auto& i : f.interfaces) {
      if (op_ == ChangeOp::set) {
        apply::interface(node, i);
        did_.push_back(fmt::format("set {}:{}{}{}", f.name, i.name,
                                   i.mtu ? fmt::format(" mtu {}", i.mtu->value) : "",
                                   i.up ? (i.up->value ? " up" : " down") : ""));
        if (i.up && i.up->value) to_wait_[f.name].insert(i.name);
        continue;
      }
      for (const auto& a : i.addresses) {
        apply::address(lab_, node, i.name, a, op_);
        did_.push_back(
            fmt::format("{} address {} on {}:{}", verb_, a.prefix.str(), f.name, i.name));
        if (a.prefix.address.family == Family::ipv6 && op_ != ChangeOp::del)
          to_wait_[f.name].insert(i.name);
      }
    }
    // Nexthops before the routes that use them, groups after their members; deleted in the
    // opposite order.
    auto nexthops = [&](bool groups) {
      for (const auto& n : f.nexthops) {
        if (n.is_group() != groups) continue;
        apply::nexthop(node, n, op_);
        did_.push_back(fmt::format("{} nexthop {} in {}", verb_, n.id.value, f.name));
      }
    };
    if (op_ != ChangeOp::del) {
      nexthops(false);
      nexthops(true);
    }
    for (const auto& q : f.qdiscs) {
      apply::qdisc(node, q, op_);
      did_.push_back(op_ == ChangeOp::del ? fmt::format("del qdisc on {}:{}", f.name, q.dev)
                                          : fmt::format("{} {} qdisc on {}:{}", verb_,
                                                        qdisc_kind_name(q.kind), f.name, q.dev));
    }
    for (const auto& r : f.routes) {
      apply::route(node, model, r, op_);
      did_.push_back(fmt::format("{} route {} in {}", verb_, r.str(), f.name));
    }
    for (const auto& r : f.rules) {
      apply::rule(node, r, op_);
      did_.push_back(fmt::format("{} rule priority {} in {}", verb_, r.priority.value, f.name));
    }
    for (const auto& n : f.neighbours) {
      apply::neighbour(node, n, op_);
      did_.push_back(fmt::format("{} neighbour {} on {}:{}", verb_, n.address.value.str(), f.name,
                                 n.dev.value));
    }
    if (op_ == ChangeOp::del) {
      nexthops(true);
      nexthops(false);
      // Interfaces the node created, then bridges (the model allows only del for them). What
      // the kernel deletes with one (a macvlan on it) is gone before its turn: forgotten below.
      for (const auto& v : f.virtuals)
        del_interface(node, f.name, v.name, virtual_kind_name(v.kind), v.pos);
      for (const auto& b : f.bridges) del_interface(node, f.name, b.name, "bridge", b.pos);
    }
    if (!f.sysctls.empty()) {
      apply::sysctls(lab_, node, f.sysctls);
      std::string text = "sysctl";
      for (const auto& s : f.sysctls) text += fmt::format(" {}={}", s.key, s.value);
      did_.push_back(text + " in " + f.name);
    }
    if (f.nftables) {
      apply::nftables(lab_, node, *f.nftables);
      did_.push_back("nftables in " + f.name);
    }
  }

  void del_interface(LabNode& node, const std::string& name, const std::string& ifname,
                     const char* kind, const SourcePos& pos) {
    at(pos, [&] { node.rtnl().del_link(node.ifindex(ifname)); });  // forgotten below
    did_.push_back(fmt::format("del {} {}:{}", kind, name, ifname));
  }

  // Every interface the model no longer has is gone from the kernel too: a link's two ends, and
  // what the kernel deleted with them (follow_kernel::deleted_with).
  void forget_what_went() {
    if (op_ != ChangeOp::del) return;
    for (auto& node : lab_.nodes()) {
      std::vector<std::string> gone;
      for (const auto& [ifname, idx] : node.ifindexes())
        if (ifname != "lo" && !after_.has_interface(node.name(), ifname)) gone.push_back(ifname);
      for (const auto& ifname : gone) node.forget_ifindex(ifname);
    }
  }

  // An interface that comes up gives its veth peer carrier too; one without carrier by design
  // (down, or its peer is) has nothing to wait for.
  void wait(std::chrono::milliseconds ready_timeout) {
    std::map<std::string, std::set<int>> ready, without_carrier;
    for (const auto& [name, ifnames] : to_wait_)
      for (const auto& ifname : ifnames) {
        if (after_.carrier_expected(name, ifname))
          ready[name].insert(lab_.node(name).ifindex(ifname));
        else if (after_.veth_peer(name, ifname))
          without_carrier[name].insert(lab_.node(name).ifindex(ifname));
        if (auto peer = after_.veth_peer(name, ifname);
            peer && after_.carrier_expected(peer->node, peer->ifname))
          ready[peer->node].insert(lab_.node(peer->node).ifindex(peer->ifname));
      }
    for (auto& [name, ifindexes] : without_carrier) ready[name];
    for (const auto& [name, ifindexes] : ready) {
      const auto& quiet = without_carrier[name];
      apply::wait_ready(lab_.node(name), {ifindexes.begin(), ifindexes.end()},
                        /*with_addresses=*/true, ready_timeout, {quiet.begin(), quiet.end()});
    }
  }

  Lab& lab_;
  const Topology& after_;
  ChangeOp op_;
  const Topology& f_;
  const char* verb_;
  // node -> interfaces that must get ready (with their veth peers: both ends get carrier)
  std::map<std::string, std::set<std::string>> to_wait_;
  std::vector<std::string> did_;
};

}  // namespace

std::string done_text(const std::vector<std::string>& did) {
  std::string out;
  for (const auto& d : did) out += (out.empty() ? "" : "; ") + d;
  return out;
}

std::string in_place(Lab& lab, const Topology& after, ChangeOp op, const Topology& fragment,
                     std::chrono::milliseconds ready_timeout) {
  return InPlace(lab, after, op, fragment).run(ready_timeout);
}

}  // namespace nslab::apply
