#include "nslab/graph.hpp"

#include <fmt/format.h>

#include "nslab/interface_kinds.hpp"
#include "nslab/qdisc_kinds.hpp"

namespace nslab {

namespace {

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string id(const std::string& node, const std::string& ifname) {
  return "\"" + esc(node + ":" + ifname) + "\"";
}

std::string route_text(const RouteSpec& r) {
  std::string s = r.is_default ? "default" : r.to.str();
  if (r.family == Family::ipv6 && r.is_default) s += " (v6)";
  if (r.via) s += " via " + r.via->value.str();
  if (r.dev) s += " dev " + r.dev->value;
  if (r.mtu) s += fmt::format(" mtu {}{}", r.mtu->value, r.lock_mtu ? " lock" : "");
  if (r.metric) s += fmt::format(" metric {}", r.metric->value);
  if (r.table) s += fmt::format(" table {}", r.table->value);
  if (r.nexthop) s += fmt::format(" nhid {}", r.nexthop->value);
  for (const auto& p : r.multipath)
    s += fmt::format(" nexthop{}{} weight {}", p.via ? " via " + p.via->value.str() : "",
                     p.dev ? " dev " + p.dev->value : "", p.weight.value);
  if (r.type != RouteType::unicast) s = std::string(route_type_name(r.type)) + " " + s;
  return s;
}

// As `ip nexthop` prints it: "id 1 via 10.0.0.2 dev eth0", "id 10 group 1/2,3".
std::string nexthop_text(const NexthopSpec& n) {
  std::string s = fmt::format("nexthop id {}", n.id.value);
  if (n.blackhole) s += " blackhole";
  if (n.via) s += " via " + n.via->value.str();
  if (n.dev) s += " dev " + n.dev->value;
  if (n.is_group()) {
    s += " group ";
    for (std::size_t i = 0; i < n.group.size(); ++i)
      s += fmt::format(
          "{}{}{}", i ? "/" : "", n.group[i].id.value,
          n.group[i].weight.value > 1 ? fmt::format(",{}", n.group[i].weight.value) : "");
  }
  return s;
}

// "tbf rate 10mbit", "netem delay 20ms loss 1%": the kind's name and its label.
std::string qdisc_text(const QdiscSpec& q) {
  const QdiscKind& kind = qdisc_kind(q.kind);
  std::string words = kind.label ? kind.label(q) : "";
  return words.empty() ? kind.name() : fmt::format("{} {}", kind.name(), words);
}

// What makes a created interface's kind: "[vxlan vni 42]", "[vrf table 10]", "[gre]".
std::string kind_text(const VirtualSpec& v) {
  const InterfaceKind& kind = interface_kind(v.kind);
  std::string words = kind.label ? kind.label(v) : "";
  return fmt::format("[{}{}{}]", kind.name(), words.empty() ? "" : " ", words);
}

}  // namespace

std::string topology_dot(const Topology& t) {
  std::string out;
  auto line = [&](const std::string& s) { out += s + "\n"; };
  line(fmt::format("graph \"{}\" {{", esc(t.name)));
  std::string title = t.name + (t.description.empty() ? "" : "\n" + t.description);
  line(fmt::format("  graph [rankdir=LR, fontname=\"monospace\", labelloc=t, label=\"{}\"];",
                   esc(title)));
  line("  node [fontname=\"monospace\", fontsize=10, shape=box, style=rounded];");
  line("  edge [fontname=\"monospace\", fontsize=9];");
  for (const auto& n : t.nodes) {
    std::string label = n.name;
    if (n.forwarding) label += " (forwarding)";
    for (const auto& r : n.routes) label += "\n" + route_text(r);
    for (const auto& r : n.rules) label += fmt::format("\nrule {}", r.priority.value);
    for (const auto& x : n.neighbours)
      label += fmt::format("\nneigh {} {}", x.address.value.str(), x.dev.value);
    for (const auto& x : n.nexthops) label += "\n" + nexthop_text(x);
    for (const auto& s : n.sysctls) label += "\n" + s.key + "=" + s.value;
    if (n.nftables) label += "\n[nftables]";
    line(fmt::format("  subgraph \"cluster_{}\" {{", esc(n.name)));
    line(fmt::format("    label=\"{}\"; style=rounded; color={};", esc(label),
                     n.nftables ? "firebrick" : "gray40"));
    if (n.nftables) line("    penwidth=2;");
    for (const auto& ifname : t.created_interfaces(n.name)) {
      std::string l = ifname;
      if (const auto* ifc = n.interface(ifname))
        for (const auto& a : ifc->addresses) l += "\n" + a.prefix.str();
      if (auto mtu = t.effective_mtu(n.name, ifname)) l += fmt::format("\nmtu {}", *mtu);
      for (const auto& q : n.qdiscs)
        if (q.dev == ifname) l += "\n{" + qdisc_text(q) + "}";
      const char* shape = n.bridge(ifname) ? "hexagon" : "box";
      if (const auto* v = n.virtual_interface(ifname)) {
        shape = "component";
        l += "\n" + kind_text(*v);
        if (v->remote) l += "\nremote " + v->remote->value.str();
      }
      line(fmt::format("    {} [label=\"{}\", shape={}];", id(n.name, ifname), esc(l), shape));
    }
    if (const auto* lo = n.interface("lo"); lo && !lo->addresses.empty()) {
      std::string l = "lo";
      for (const auto& a : lo->addresses) l += "\n" + a.prefix.str();
      line(fmt::format("    {} [label=\"{}\", shape=ellipse];", id(n.name, "lo"), esc(l)));
    }
    for (const auto& br : n.bridges)
      for (const auto& p : br.ports)
        line(fmt::format("    {} -- {} [style=dashed];", id(n.name, p.value), id(n.name, br.name)));
    for (const auto& v : n.virtuals) {
      if (v.parent)
        line(fmt::format("    {} -- {} [style=dotted];", id(n.name, v.name),
                         id(n.name, v.parent->value)));
      for (const auto& p : v.ports)  // a vrf's
        line(fmt::format("    {} -- {} [style=dashed];", id(n.name, p.value), id(n.name, v.name)));
    }

    line("  }");
  }
  for (const auto& l : t.links) {
    int mtu = l.mtu ? l.mtu->value : kDefaultMtu;
    line(fmt::format("  {} -- {} [label=\"mtu {}\"{}];", id(l.a.node, l.a.ifname),
                     id(l.b.node, l.b.ifname), mtu, mtu < kDefaultMtu ? ", color=orange" : ""));
  }
  line("}");
  return out;
}

}  // namespace nslab
