#include "nslab/topology.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace nslab {

const char* route_type_name(RouteType t) {
  switch (t) {
    case RouteType::unicast:
      return "unicast";
    case RouteType::blackhole:
      return "blackhole";
    case RouteType::unreachable:
      return "unreachable";
    case RouteType::prohibit:
      return "prohibit";
  }
  return "?";
}

std::string RouteSpec::str() const {
  std::string s = is_default ? std::string("default") : to.str();
  if (is_default && family == Family::ipv6) s += " (ipv6)";
  if (table) s += fmt::format(" table {}", table->value);
  if (metric) s += fmt::format(" metric {}", metric->value);
  return s;
}

const char* virtual_kind_name(VirtualSpec::Kind k) {
  switch (k) {
    case VirtualSpec::Kind::dummy:
      return "dummy";
    case VirtualSpec::Kind::vxlan:
      return "vxlan";
    case VirtualSpec::Kind::macvlan:
      return "macvlan";
    case VirtualSpec::Kind::vlan:
      return "vlan";
    case VirtualSpec::Kind::tun:
      return "tun";
  }
  return "?";
}

bool is_feature_name(const std::string& name) {
  for (auto k : {VirtualSpec::Kind::dummy, VirtualSpec::Kind::vxlan, VirtualSpec::Kind::macvlan,
                 VirtualSpec::Kind::vlan, VirtualSpec::Kind::tun})
    if (name == virtual_kind_name(k)) return true;
  return false;
}

const VirtualSpec* NodeSpec::virtual_interface(const std::string& ifname) const {
  for (const auto& v : virtuals)
    if (v.name == ifname) return &v;
  return nullptr;
}

InterfaceSpec* NodeSpec::interface(const std::string& ifname) {
  for (auto& i : interfaces)
    if (i.name == ifname) return &i;
  return nullptr;
}

NodeSpec* Topology::node(const std::string& n) {
  for (auto& x : nodes)
    if (x.name == n) return &x;
  return nullptr;
}

bool Topology::has_interface(const std::string& n, const std::string& ifname) const {
  if (ifname == "lo") return node(n) != nullptr;
  auto ifs = created_interfaces(n);
  return std::find(ifs.begin(), ifs.end(), ifname) != ifs.end();
}

std::optional<IpAddress> InterfaceSpec::first(Family f) const {
  for (const auto& a : addresses)
    if (a.prefix.address.family == f) return a.prefix.address;
  return std::nullopt;
}

const InterfaceSpec* NodeSpec::interface(const std::string& ifname) const {
  for (const auto& i : interfaces)
    if (i.name == ifname) return &i;
  return nullptr;
}

const BridgeSpec* NodeSpec::bridge(const std::string& ifname) const {
  for (const auto& b : bridges)
    if (b.name == ifname) return &b;
  return nullptr;
}

const NodeSpec* Topology::node(const std::string& n) const {
  for (const auto& x : nodes)
    if (x.name == n) return &x;
  return nullptr;
}

std::optional<int> Topology::effective_mtu(const std::string& n, const std::string& ifname) const {
  const NodeSpec* ns = node(n);
  if (ns) {
    if (const auto* i = ns->interface(ifname); i && i->mtu) return i->mtu->value;
    if (ns->bridge(ifname)) return std::nullopt;             // the kernel derives it from the ports
    if (ns->virtual_interface(ifname)) return std::nullopt;  // the kernel's default for the kind
  }
  if (ifname == "lo") return std::nullopt;
  for (const auto& l : links) {
    for (const Endpoint* e : {&l.a, &l.b}) {
      if (e->node == n && e->ifname == ifname) return l.mtu ? l.mtu->value : kDefaultMtu;
    }
  }
  return std::nullopt;
}

std::vector<std::string> Topology::created_interfaces(const std::string& n) const {
  std::vector<std::string> out;
  for (const auto& l : links) {
    if (l.a.node == n) out.push_back(l.a.ifname);
    if (l.b.node == n) out.push_back(l.b.ifname);
  }
  if (const NodeSpec* ns = node(n)) {
    for (const auto& b : ns->bridges) out.push_back(b.name);
    for (const auto& v : ns->virtuals) out.push_back(v.name);
  }
  return out;
}

}  // namespace nslab
