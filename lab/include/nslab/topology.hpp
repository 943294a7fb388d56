#pragma once
// The topology model: plain data with the source position of everything a user wrote, so that
// every error can point at their YAML. It knows neither YAML nor the kernel.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nslab/ip.hpp"
#include "nslab/source.hpp"
#include "nslab/vocabulary.hpp"

namespace nslab {

// `flags: [noprefixroute]` (IFA_F_*)
enum class AddressFlag { nodad, noprefixroute, home, mngtmpaddr };
inline constexpr auto kAddressFlags =
    vocabulary<AddressFlag>("address flag", {{"nodad", AddressFlag::nodad},
                                             {"noprefixroute", AddressFlag::noprefixroute},
                                             {"home", AddressFlag::home},
                                             {"mngtmpaddr", AddressFlag::mngtmpaddr}});

struct AddressSpec {
  IpPrefix prefix;
  SourcePos pos;
  // Lifetimes in whole seconds (absent: forever), as `ip address add ... valid_lft 3
  // preferred_lft 1`; the kernel deletes the address when valid_lft runs out.
  std::optional<Located<std::uint32_t>> valid_lft, preferred_lft;
  std::vector<Located<AddressFlag>> flags;
  // IPv6 only: `dad: true` lets duplicate address detection run (absent or false: the address
  // is added with NODAD and usable at once). Readiness then waits until DAD has finished.
  std::optional<Located<bool>> dad;
  bool runs_dad() const { return dad && dad->value; }
};

// Configuration of one interface of a node; the interface itself is created by a link or bridge.
struct InterfaceSpec {
  std::string name;
  SourcePos pos;
  std::vector<AddressSpec> addresses;  // IPv4 first, then IPv6, each in the order written
  std::optional<Located<int>> mtu;
  std::optional<Located<bool>> up;  // absent: up
  // The ifindex to create it with (absent: nslab numbers it, unique across the lab). Written, it
  // may repeat another node's, which is how a topology shows what a colliding ifindex changes.
  std::optional<Located<int>> ifindex;

  std::optional<IpAddress> first(Family f) const;
  bool wanted_up() const { return !up || up->value; }
};

inline constexpr std::uint32_t kMainTable = 254;

enum class RouteType { unicast, blackhole, unreachable, prohibit };
inline constexpr auto kRouteTypes =
    vocabulary<RouteType>("route type", {{"unicast", RouteType::unicast},
                                         {"blackhole", RouteType::blackhole},
                                         {"unreachable", RouteType::unreachable},
                                         {"prohibit", RouteType::prohibit}});
inline const char* route_type_name(RouteType t) {
  return kRouteTypes.c_str(t);
}

struct RouteSpec {
  SourcePos pos;
  Family family = Family::ipv4;
  IpPrefix to;  // default route: length 0
  bool is_default = false;
  std::optional<Located<IpAddress>> via;
  std::optional<Located<std::string>> dev;
  std::optional<Located<int>> mtu;
  bool lock_mtu = false;
  std::optional<Located<std::uint32_t>> metric;
  std::optional<Located<std::uint32_t>> table;  // absent: main
  RouteType type = RouteType::unicast;
  std::optional<Located<int>> advmss, initcwnd;
  std::optional<Located<std::chrono::milliseconds>> rto_min;
  std::optional<Located<IpAddress>> src;  // preferred source address
  // `multipath: [{via: A, weight: 1}, {via: B, weight: 2}]`: ECMP paths, each with its weight.
  struct Path {
    SourcePos pos;
    std::optional<Located<IpAddress>> via;
    std::optional<Located<std::string>> dev;
    Located<int> weight{1, {}};
  };
  std::vector<Path> multipath;
  std::optional<Located<std::uint32_t>> nexthop;  // a nexthop object's id (RTA_NH_ID)

  std::uint32_t table_id() const { return table ? table->value : kMainTable; }
  std::uint32_t metric_value() const { return metric ? metric->value : 0; }
  // A route's identity (SPEC 7): family, destination, table and metric.
  bool same_route(const RouteSpec& o) const {
    return family == o.family && to.network() == o.to.network() && to.length == o.to.length &&
           table_id() == o.table_id() && metric_value() == o.metric_value();
  }
  std::string str() const;  // "10.0.0.0/24 table 100 metric 5", as `ip route` names it
};

// An ip rule (`ip rule add priority P ...`); its identity is its priority.
struct RuleSpec {
  enum class Action { table, blackhole, unreachable, prohibit };
  SourcePos pos;
  Located<std::uint32_t> priority;
  Family family = Family::ipv4;
  std::optional<Located<IpPrefix>> from, to;
  std::optional<Located<std::string>> iif, oif;
  std::optional<Located<int>> ipproto;
  std::optional<Located<std::pair<int, int>>> sport, dport;  // a port or a range
  std::optional<Located<int>> dscp;
  std::optional<Located<std::uint32_t>> fwmark;
  Action action = Action::table;
  std::optional<Located<std::uint32_t>> table;  // action table: required
};
inline constexpr auto kRuleActions =
    vocabulary<RuleSpec::Action>("rule action", {{"table", RuleSpec::Action::table},
                                                 {"blackhole", RuleSpec::Action::blackhole},
                                                 {"unreachable", RuleSpec::Action::unreachable},
                                                 {"prohibit", RuleSpec::Action::prohibit}});

// A neighbour entry's NUD state.
enum class NudState { permanent, reachable, stale, noarp };
inline constexpr auto kNudStates =
    vocabulary<NudState>("neighbour state", {{"permanent", NudState::permanent},
                                             {"reachable", NudState::reachable},
                                             {"stale", NudState::stale},
                                             {"noarp", NudState::noarp}});

// A static neighbour entry (`ip neigh add ADDRESS lladdr MAC dev DEV nud STATE`); its identity
// is dev + address.
struct NeighbourSpec {
  SourcePos pos;
  Located<std::string> dev;
  Located<IpAddress> address;
  std::optional<Located<std::string>> lladdr;  // "02:00:00:00:00:02"
  Located<NudState> state{NudState::permanent, {}};
};

// A nexthop object (`ip nexthop add id 1 via A dev D`, `ip nexthop add id 10 group 1/2,3`,
// `ip nexthop add id 5 blackhole`); its identity is its id.
struct NexthopSpec {
  struct Member {
    Located<std::uint32_t> id;
    Located<int> weight{1, {}};
  };
  SourcePos pos;
  Located<std::uint32_t> id;
  Family family = Family::ipv4;  // of the gateway; a group has none
  std::optional<Located<IpAddress>> via;
  std::optional<Located<std::string>> dev;
  bool blackhole = false;
  std::vector<Member> group;
  bool is_group() const { return !group.empty(); }
};

// The root qdisc of one interface (`tc qdisc replace dev D root tbf rate R burst B latency L`);
// its identity is the interface.
struct QdiscSpec {
  enum class Kind { tbf, htb, netem };
  Kind kind = Kind::tbf;
  std::string dev;
  SourcePos pos;
  std::optional<Located<std::uint64_t>> rate, ceil;                 // bits per second (tbf, htb)
  std::optional<Located<std::uint32_t>> burst;                      // bytes (tbf, htb)
  std::optional<Located<std::chrono::milliseconds>> latency;        // tbf
  std::optional<Located<std::chrono::milliseconds>> delay, jitter;  // netem
  std::optional<Located<double>> loss;                              // netem, percent
  std::optional<Located<std::uint32_t>> limit;                      // netem, packets
};
inline constexpr auto kQdiscKinds =
    vocabulary<QdiscSpec::Kind>("qdisc", {{"tbf", QdiscSpec::Kind::tbf},
                                          {"htb", QdiscSpec::Kind::htb},
                                          {"netem", QdiscSpec::Kind::netem}});
inline const char* qdisc_kind_name(QdiscSpec::Kind k) {  // also the feature's name
  return kQdiscKinds.c_str(k);
}

struct SysctlSpec {
  std::string key;  // dotted, e.g. net.ipv4.tcp_mtu_probing
  std::string value;
  SourcePos pos;
};

// An interface a node creates by itself (SPEC 6), keyed by its name under its kind:
// `vxlan: {vx0: {vni: 42, remote: 10.0.0.2, dev: eth0}}`, `macvlan: {mv0: {parent: eth0}}`,
// `ipvlan: {ipv0: {parent: eth0, mode: l3}}`, `vlan: {eth0.10: {parent: eth0, id: 10}}`,
// `tun: {tun0: {mode: tap}}`, `dummy: {dum0: {}}`, `vrf: {blue: {table: 10, ports: [eth1]}}`,
// `ifb: {ifb0: {}}`,
// and the IP tunnels under `tunnels: {gre1: {kind: gre, local: A, remote: B}}`.
// The modes of the interfaces that have one (IFLA_MACVLAN_MODE, IFLA_IPVLAN_MODE, tun's flags),
// and vxlan's outer DF bit (IFLA_VXLAN_DF).
enum class MacvlanMode { bridge, private_mode, vepa, passthru };
inline constexpr auto kMacvlanModes =
    vocabulary<MacvlanMode>("macvlan mode",
                            {{"bridge", MacvlanMode::bridge},
                             {"private", MacvlanMode::private_mode},
                             {"vepa", MacvlanMode::vepa},
                             {"passthru", MacvlanMode::passthru}},
                            Vocabulary<MacvlanMode, 4>::Listing::one_of);
enum class IpvlanMode { l2, l3, l3s };
inline constexpr auto kIpvlanModes = vocabulary<IpvlanMode>(
    "ipvlan mode", {{"l2", IpvlanMode::l2}, {"l3", IpvlanMode::l3}, {"l3s", IpvlanMode::l3s}},
    Vocabulary<IpvlanMode, 3>::Listing::one_of);
enum class TunMode { tun, tap };
inline constexpr auto kTunModes =
    vocabulary<TunMode>("tun mode", {{"tun", TunMode::tun}, {"tap", TunMode::tap}},
                        Vocabulary<TunMode, 2>::Listing::one_of);
enum class VxlanDf { unset, set, inherit };
inline constexpr auto kVxlanDf = vocabulary<VxlanDf>(
    "vxlan df", {{"set", VxlanDf::set}, {"unset", VxlanDf::unset}, {"inherit", VxlanDf::inherit}});

struct VirtualSpec {
  // What each kind is, reads and checks: nslab/interface_kinds.hpp.
  enum class Kind {
    dummy,
    vxlan,
    macvlan,
    ipvlan,
    vlan,
    tun,
    vrf,
    ifb,
    gre,
    ip6gre,
    ipip,
    sit,
    ip6tnl,
    geneve,
    gretap
  };
  Kind kind = Kind::dummy;
  std::string name;
  SourcePos pos;
  std::optional<Located<std::string>> parent;  // vxlan `dev`, macvlan and vlan `parent`
  std::optional<Located<std::uint32_t>> vni;   // vxlan
  std::optional<Located<IpAddress>> local, remote;
  std::optional<Located<int>> port;    // vxlan UDP port; the kernel's default is 8472
  std::optional<Located<VxlanDf>> df;  // vxlan (absent: the kernel's default, unset)
  std::optional<Located<int>> id;      // vlan
  // The mode of a macvlan, an ipvlan or a tun (the others have none); absent: the default.
  Located<MacvlanMode> macvlan_mode{MacvlanMode::bridge, {}};
  Located<IpvlanMode> ipvlan_mode{IpvlanMode::l3, {}};
  Located<TunMode> tun_mode{TunMode::tun, {}};
  std::optional<Located<std::uint32_t>> table;  // vrf
  std::vector<Located<std::string>> ports;      // vrf: the interfaces it enslaves
  std::optional<Located<int>> ttl;              // tunnels
};
inline constexpr auto kVirtualKinds =
    vocabulary<VirtualSpec::Kind>("interface kind", {{"dummy", VirtualSpec::Kind::dummy},
                                                     {"vxlan", VirtualSpec::Kind::vxlan},
                                                     {"macvlan", VirtualSpec::Kind::macvlan},
                                                     {"ipvlan", VirtualSpec::Kind::ipvlan},
                                                     {"vlan", VirtualSpec::Kind::vlan},
                                                     {"tun", VirtualSpec::Kind::tun},
                                                     {"vrf", VirtualSpec::Kind::vrf},
                                                     {"ifb", VirtualSpec::Kind::ifb},
                                                     {"gre", VirtualSpec::Kind::gre},
                                                     {"ip6gre", VirtualSpec::Kind::ip6gre},
                                                     {"ipip", VirtualSpec::Kind::ipip},
                                                     {"sit", VirtualSpec::Kind::sit},
                                                     {"ip6tnl", VirtualSpec::Kind::ip6tnl},
                                                     {"geneve", VirtualSpec::Kind::geneve},
                                                     {"gretap", VirtualSpec::Kind::gretap}});
inline const char* virtual_kind_name(VirtualSpec::Kind k) {  // also the feature's name
  return kVirtualKinds.c_str(k);
}
// Kernel features a scenario may require (`requires: [feature vxlan]`): the interface kinds and
// the qdisc kinds.
bool is_feature_name(const std::string& name);
std::string feature_names();  // "dummy, vxlan, ... or netem", for messages
// "a, b or c" (or "a, b and c" with conjunction "and").
std::string or_list(const std::vector<std::string_view>& words,
                    std::string_view conjunction = "or");

struct BridgeSpec {
  std::string name;
  SourcePos pos;
  std::vector<Located<std::string>> ports;
};

struct NftablesSpec {
  std::string text;
  SourcePos pos;       // the YAML value (for a block scalar, its indicator)
  int first_line = 0;  // 1-based file line of the ruleset's first line
  int indent = 0;      // columns to add to nft's column on every line
  // The YAML position of `line`:`column` (1-based) of the ruleset text.
  SourcePos at(int line, int column) const {
    if (line <= 0) return pos;
    return {pos.file, first_line + line - 1, indent + column};
  }
};

struct NodeSpec {
  std::string name;
  SourcePos pos;
  bool forwarding = false;
  std::vector<InterfaceSpec> interfaces;
  std::vector<RouteSpec> routes;
  std::vector<RuleSpec> rules;
  std::vector<NeighbourSpec> neighbours;
  std::vector<NexthopSpec> nexthops;
  std::vector<QdiscSpec> qdiscs;
  std::vector<SysctlSpec> sysctls;
  std::vector<BridgeSpec> bridges;
  std::vector<VirtualSpec> virtuals;
  std::optional<NftablesSpec> nftables;

  const InterfaceSpec* interface(const std::string& ifname) const;
  const VirtualSpec* virtual_interface(const std::string& ifname) const;
  InterfaceSpec* interface(const std::string& ifname);
  const BridgeSpec* bridge(const std::string& ifname) const;
  const NexthopSpec* nexthop(std::uint32_t id) const;
  // Whether `ifname` is to be up: unless its configuration says `up: false`.
  bool wanted_up(const std::string& ifname) const {
    const InterfaceSpec* i = interface(ifname);
    return !i || i->wanted_up();
  }
};

struct Endpoint {
  std::string node;
  std::string ifname;
  SourcePos pos;
  std::string str() const { return node + ":" + ifname; }
};

struct LinkSpec {
  SourcePos pos;
  Endpoint a, b;
  std::optional<Located<int>> mtu;
};

struct Topology {
  std::string file;  // where it was read from ("<inline>" for text)
  std::string name;
  std::string description;
  std::vector<NodeSpec> nodes;
  std::vector<LinkSpec> links;
  // False when some link could not be read: checks that need every link are then skipped, so a
  // broken link is reported once instead of as a cascade of "not created by any link".
  bool links_complete = true;

  const NodeSpec* node(const std::string& name) const;
  NodeSpec* node(const std::string& name);
  // The MTU an interface gets: its own `mtu`, else its link's, else 1500 (bridges: the kernel's).
  std::optional<int> effective_mtu(const std::string& node, const std::string& ifname) const;
  // Every interface a node has: link endpoints, bridges, then the interfaces the node creates
  // (vxlan, macvlan, ...), each in declaration order.
  std::vector<std::string> created_interfaces(const std::string& node) const;
  // Every created interface's ifindex as the lab gives it: the one written under `interfaces:`,
  // else the next number from 2 up that no interface writes and `taken` does not hold, in
  // declaration order (lo is 1). `taken`: numbers that devices every new namespace gets already
  // hold (a kernel with ip_gre or sit loaded gives each one gre0, sit0, ...).
  std::map<std::pair<std::string, std::string>, int> assigned_ifindexes(
      const std::set<int>& taken = {}) const;
  bool has_interface(const std::string& node, const std::string& ifname) const;
  // The other end of the veth link that `node:ifname` is an end of, if it is one.
  std::optional<Endpoint> veth_peer(const std::string& node, const std::string& ifname) const;
  // Whether the interface gets carrier once the lab is built: not when it is down, nor when it
  // is a veth whose peer is down, nor when it is a bridge none of whose ports gets carrier.
  // Readiness then waits only for what it can be (up, without carrier).
  bool carrier_expected(const std::string& node, const std::string& ifname) const;
};

// How a change fragment changes a topology (SPEC 7): add creates, del removes (objects named by
// their identity), replace swaps or creates, set changes attributes; flush empties kernel state
// no topology names.
enum class ChangeOp { add, del, replace, set, flush };
const char* change_op_name(ChangeOp op);

inline constexpr int kDefaultMtu = 1500;
inline constexpr int kMinMtuIpv4 = 68;
inline constexpr int kMinMtuIpv6 = 1280;
inline constexpr int kMaxMtu = 65535;
inline constexpr std::size_t kMaxIfnameBytes = 15;

}  // namespace nslab
