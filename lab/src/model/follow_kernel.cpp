// What the kernel removes on its own (follow_kernel.hpp). Measured with ip(8) on this machine's
// kernel (Linux 6.x), in fresh namespaces, for each rule below; the kernel functions are named
// so that a reader can check another kernel's source.

#include "follow_kernel.hpp"

#include "nslab/interface_kinds.hpp"

#include <algorithm>
#include <cstdlib>

namespace nslab::follow_kernel {

namespace {

using Path = RouteSpec::Path;

// A path leaves through `ifname` when it names it, or names no device and its gateway is on a
// subnet of one of `addresses` (the kernel resolves the device from the gateway).
bool through(const std::optional<Located<std::string>>& dev,
             const std::optional<Located<IpAddress>>& via, const std::string& ifname,
             const std::vector<AddressSpec>& addresses) {
  if (dev) return dev->value == ifname;
  return via && std::any_of(addresses.begin(), addresses.end(),
                            [&](const AddressSpec& a) { return a.prefix.contains(via->value); });
}

// A route's paths: its multipath list, or itself as one path. A route through a nexthop object
// has none here: it goes with its nexthop (nexthop_deleted).
std::vector<Path> paths_of(const RouteSpec& r) {
  if (r.nexthop) return {};
  if (!r.multipath.empty()) return r.multipath;
  return {Path{.pos = r.pos, .via = r.via, .dev = r.dev}};
}

std::size_t paths_through(const RouteSpec& r, const std::string& ifname,
                          const std::vector<AddressSpec>& addresses,
                          std::optional<Family> family = std::nullopt) {
  if (family && r.family != *family) return 0;
  auto paths = paths_of(r);
  return static_cast<std::size_t>(std::count_if(paths.begin(), paths.end(), [&](const Path& p) {
    return through(p.dev, p.via, ifname, addresses);
  }));
}

// Routes (of `family`, or all) whose every path leaves through `ifname`: fib_sync_down_dev marks
// those paths dead and fib_flush removes a route once all its paths are (IPv6: fib6_ifdown). A
// multipath route with a path elsewhere stays, its dead path listed "dead linkdown".
void routes_all_through_removed(NodeSpec& n, const std::string& ifname,
                                const std::vector<AddressSpec>& addresses,
                                std::optional<Family> family = std::nullopt) {
  std::erase_if(n.routes, [&](const RouteSpec& r) {
    std::size_t k = paths_through(r, ifname, addresses, family);
    return k > 0 && k == paths_of(r).size();
  });
}

void neighbours_flushed(NodeSpec& n, const std::string& ifname,
                        std::optional<Family> family = std::nullopt) {
  std::erase_if(n.neighbours, [&](const NeighbourSpec& x) {
    return x.dev.value == ifname && (!family || x.address.value.family == *family);
  });
}

// nexthop_flush_dev: every nexthop object on the device goes, with what uses it.
void nexthops_on_flushed(NodeSpec& n, const std::string& ifname) {
  std::vector<std::uint32_t> dead;
  for (const auto& nh : n.nexthops)
    if (nh.dev && nh.dev->value == ifname) dead.push_back(nh.id.value);
  for (std::uint32_t id : dead) nexthop_deleted(n, id);
}

bool node_has_address(const NodeSpec& n, const IpAddress& address) {
  return std::any_of(n.interfaces.begin(), n.interfaces.end(), [&](const InterfaceSpec& i) {
    return std::any_of(i.addresses.begin(), i.addresses.end(),
                       [&](const AddressSpec& a) { return a.prefix.address == address; });
  });
}

// An address that is no longer the node's stops being a route's preferred source. IPv4
// (fib_del_ifaddr -> fib_sync_down_addr): the routes that named it go. IPv6 keeps the route; the
// model forgets its source, because a route whose source is no address of the node is one the
// validator refuses to write (after `del` of the address the kernel drops it too,
// rt6_remove_prefsrc; after the interface goes or goes down it keeps showing it).
void source_gone(NodeSpec& n, const IpAddress& address) {
  if (node_has_address(n, address)) return;
  if (address.family == Family::ipv4) {
    std::erase_if(n.routes, [&](const RouteSpec& r) { return r.src && r.src->value == address; });
    return;
  }
  for (auto& r : n.routes)
    if (r.src && r.src->value == address) r.src.reset();
}

void ipv6_addresses_removed(NodeSpec& n, InterfaceSpec& i) {
  std::vector<IpAddress> gone;
  std::erase_if(i.addresses, [&](const AddressSpec& a) {
    if (a.prefix.address.family != Family::ipv6) return false;
    gone.push_back(a.prefix.address);
    return true;
  });
  for (const auto& a : gone) source_gone(n, a);
}

// net.ipv6.conf.all.keep_addr_on_down when it is not 0, else the interface's own (addrconf.c:
// keep_addr_on_down()); positive keeps the IPv6 addresses of an interface set down.
bool keeps_ipv6_addresses(const NodeSpec& n, const std::string& ifname) {
  auto value = [&](const std::string& key) {
    for (const auto& s : n.sysctls)
      if (s.key == key) return std::atoi(s.value.c_str());
    return 0;
  };
  int all = value("net.ipv6.conf.all.keep_addr_on_down");
  return (all != 0 ? all : value("net.ipv6.conf." + ifname + ".keep_addr_on_down")) > 0;
}

}  // namespace

void nexthop_deleted(NodeSpec& n, std::uint32_t id) {
  std::erase_if(n.nexthops, [&](const NexthopSpec& x) { return x.id.value == id; });
  std::erase_if(n.routes, [&](const RouteSpec& r) { return r.nexthop && r.nexthop->value == id; });
  std::vector<std::uint32_t> emptied;
  for (auto& g : n.nexthops) {
    if (!g.is_group()) continue;
    std::erase_if(g.group, [&](const NexthopSpec::Member& m) { return m.id.value == id; });
    if (!g.is_group()) emptied.push_back(g.id.value);
  }
  for (std::uint32_t e : emptied) nexthop_deleted(n, e);
}

void interface_deleted(NodeSpec& n, const std::string& ifname,
                       const std::vector<AddressSpec>& gone) {
  // fib_sync_down_dev on NETDEV_UNREGISTER: one IPv4 path through the device and the whole
  // route is dead, multipath or not. fib6_ifdown: an IPv6 multipath route loses that path only
  // (with one left, `ip -6 route` shows it as a plain route through the other).
  std::erase_if(n.routes, [&](RouteSpec& r) {
    std::size_t k = paths_through(r, ifname, gone);
    if (k == 0) return false;
    if (r.family == Family::ipv4 || r.multipath.empty() || k == r.multipath.size()) return true;
    std::erase_if(r.multipath, [&](const Path& p) { return through(p.dev, p.via, ifname, gone); });
    if (r.multipath.size() == 1) {
      r.via = r.multipath.front().via;
      r.dev = r.multipath.front().dev;
      r.multipath.clear();
    }
    return false;
  });
  for (const auto& a : gone) source_gone(n, a.prefix.address);
  neighbours_flushed(n, ifname);
  std::erase_if(n.qdiscs, [&](const QdiscSpec& q) { return q.dev == ifname; });
  nexthops_on_flushed(n, ifname);
  // br_device_event (NETDEV_UNREGISTER -> br_del_if): a port leaves its bridge, which stays;
  // a vrf's port leaves it the same way (vrf_device_event).
  for (auto& br : n.bridges)
    std::erase_if(br.ports, [&](const Located<std::string>& p) { return p.value == ifname; });
  for (auto& v : n.virtuals)
    std::erase_if(v.ports, [&](const Located<std::string>& p) { return p.value == ifname; });
}

std::vector<std::string> deleted_with(const NodeSpec& n, const std::string& ifname) {
  std::vector<std::string> out;
  for (const auto& v : n.virtuals)
    if (v.parent && v.parent->value == ifname && interface_kind(v.kind).goes_with_lower)
      out.push_back(v.name);
  return out;
}

void interface_down(NodeSpec& n, InterfaceSpec& i) {
  // Which routes leave through the interface is decided by its addresses before any go.
  routes_all_through_removed(n, i.name, i.addresses);
  nexthops_on_flushed(n, i.name);
  neighbours_flushed(n, i.name);  // neigh_ifdown: the permanent entries too
  // addrconf_ifdown: the IPv6 addresses go (IPv4 ones stay), unless keep_addr_on_down.
  if (!keeps_ipv6_addresses(n, i.name)) ipv6_addresses_removed(n, i);
}

void ipv6_disabled(NodeSpec& n, InterfaceSpec& i) {
  routes_all_through_removed(n, i.name, i.addresses, Family::ipv6);
  ipv6_addresses_removed(n, i);
}

void carrier_lost(NodeSpec& n, const std::string& ifname) {
  // nh_netdev_event, NETDEV_CHANGE without carrier: nexthop_flush_dev. Routes, addresses and
  // permanent neighbours stay (the routes are marked linkdown).
  nexthops_on_flushed(n, ifname);
}

void address_deleted(NodeSpec& n, const std::string& ifname, const AddressSpec& address) {
  source_gone(n, address.prefix.address);
  if (address.prefix.address.family != Family::ipv4) return;
  const InterfaceSpec* i = n.interface(ifname);
  bool last = !i || std::none_of(i->addresses.begin(), i->addresses.end(), [](const auto& a) {
    return a.prefix.address.family == Family::ipv4;
  });
  if (!last) return;
  // fib_inetaddr_event: the interface's last IPv4 address gone, fib_disable_ip turns IPv4 off
  // on it as if it went down (its routes as at NETDEV_DOWN) and arp_ifdown flushes its ARP
  // entries, permanent ones too. Its nexthop objects and IPv6 neighbours stay.
  std::vector<AddressSpec> had = i ? i->addresses : std::vector<AddressSpec>{};
  had.push_back(address);
  routes_all_through_removed(n, ifname, had, Family::ipv4);
  neighbours_flushed(n, ifname, Family::ipv4);
}

}  // namespace nslab::follow_kernel
