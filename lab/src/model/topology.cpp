#include "nslab/topology.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "nslab/interface_kinds.hpp"

namespace nslab {

std::string RouteSpec::str() const {
  std::string s = is_default ? std::string("default") : to.str();
  if (is_default && family == Family::ipv6) s += " (ipv6)";
  if (table) s += fmt::format(" table {}", table->value);
  if (metric) s += fmt::format(" metric {}", metric->value);
  return s;
}

bool is_feature_name(const std::string& name) {
  return kVirtualKinds.parse(name) || kQdiscKinds.parse(name);
}

std::string feature_names() {
  std::vector<std::string_view> names;
  for (const auto* k : interface_kinds()) names.push_back(k->name());  // the registry's order
  for (const auto& w : kQdiscKinds) names.push_back(w.name);
  return or_list(names);
}

std::string or_list(const std::vector<std::string_view>& words, std::string_view conjunction) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i)
    out += i == 0                  ? fmt::format("{}", words[i])
           : i + 1 == words.size() ? fmt::format(" {} {}", conjunction, words[i])
                                   : fmt::format(", {}", words[i]);
  return out;
}

const NexthopSpec* NodeSpec::nexthop(std::uint32_t id) const {
  for (const auto& n : nexthops)
    if (n.id.value == id) return &n;
  return nullptr;
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

std::optional<Endpoint> Topology::veth_peer(const std::string& n, const std::string& ifname) const {
  for (const auto& l : links) {
    if (l.a.node == n && l.a.ifname == ifname) return l.b;
    if (l.b.node == n && l.b.ifname == ifname) return l.a;
  }
  return std::nullopt;
}

bool Topology::carrier_expected(const std::string& n, const std::string& ifname) const {
  const NodeSpec* spec = node(n);
  if (!spec || !spec->wanted_up(ifname)) return false;
  if (auto peer = veth_peer(n, ifname)) {
    const NodeSpec* other = node(peer->node);
    return other && other->wanted_up(peer->ifname);
  }
  if (const auto* br = spec->bridge(ifname))
    return std::any_of(br->ports.begin(), br->ports.end(),
                       [&](const auto& p) { return carrier_expected(n, p.value); });
  return true;
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

std::map<std::pair<std::string, std::string>, int> Topology::assigned_ifindexes(
    const std::set<int>& taken) const {
  std::map<std::pair<std::string, std::string>, int> out;
  std::set<int> written = taken;
  for (const auto& n : nodes)
    for (const auto& i : n.interfaces)
      if (i.ifindex) written.insert(i.ifindex->value);
  int next = 2;
  for (const auto& n : nodes)
    for (const auto& ifname : created_interfaces(n.name)) {
      const InterfaceSpec* i = n.interface(ifname);
      if (i && i->ifindex) {
        out[{n.name, ifname}] = i->ifindex->value;
        continue;
      }
      while (written.count(next)) ++next;
      out[{n.name, ifname}] = next++;
    }
  return out;
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
