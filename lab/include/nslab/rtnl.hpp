#pragma once
// Route netlink for one namespace, through libnl-route-3. libnl stays behind this header: callers
// see small structs of ours. Errors come back as nslab::Error carrying the kernel's errno and its
// extended-ack text (libnl alone would flatten ENETUNREACH into "Unspecific failure").

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nslab/ip.hpp"

struct nl_sock;

namespace nslab {

struct VethRequest {
  std::string name;
  int ifindex = 0;  // 0: the kernel chooses
  std::optional<int> mtu;
  std::string peer_name;
  int peer_ifindex = 0;
  std::optional<int> peer_mtu;
  int peer_netns_fd = -1;  // -1: the peer stays in this namespace
};

// An interface of another kind than veth and bridge (the kernel's link kind names).
struct VirtualRequest {
  std::string kind;  // dummy, vxlan, macvlan, ipvlan, vlan, vrf, gre, ip6gre, ipip, sit, ...
  std::string name;
  int ifindex = 0;
  std::optional<int> mtu;
  int parent = 0;         // vxlan and tunnel dev, macvlan, ipvlan and vlan lower device
  std::uint32_t vni = 0;  // vxlan, geneve
  std::optional<IpAddress> local, remote;
  int port = 0;
  // IFLA_MACVLAN_MODE or IFLA_IPVLAN_MODE, the kernel's number (absent: bridge, l3)
  std::optional<std::uint32_t> mode;
  int vlan_id = 0;
  std::uint32_t table = 0;      // vrf
  int ttl = 0;                  // tunnels; 0: inherit
  std::optional<int> vxlan_df;  // IFLA_VXLAN_DF: VXLAN_DF_* (libnl 3.7 lacks it)
};

// For `requires: [feature KIND]`: fills what a request of `req.kind` needs besides its name for
// the kernel to accept it in a fresh namespace (each kind's own, lab/src/kernel/kinds/); returns
// whether it also needs a lower device as `parent`.
bool sample_virtual_request(VirtualRequest& req);

// A nexthop object (RTM_NEWNEXTHOP; libnl 3.7 has none, so the message is built here).
struct NexthopRequest {
  std::uint32_t id = 0;
  Family family = Family::ipv4;
  std::optional<IpAddress> via;
  int oif = 0;
  bool blackhole = false;
  std::vector<std::pair<std::uint32_t, int>> group;  // {id, weight 1-256}
};

struct NexthopState {
  std::uint32_t id = 0;
  int family = 0;  // AF_*; AF_UNSPEC for a group
  std::optional<IpAddress> via;
  int oif = 0;
  bool blackhole = false;
  std::vector<std::pair<std::uint32_t, int>> group;  // {id, weight}
};

// The root qdisc of an interface (`tc qdisc replace dev D root KIND ...`).
struct QdiscRequest {
  std::string kind;  // tbf, htb, netem
  int ifindex = 0;
  std::uint64_t rate_bits = 0, ceil_bits = 0;  // tbf, htb (per second)
  std::uint32_t burst_bytes = 0;               // tbf bucket; htb burst (0: libnl computes)
  std::uint32_t latency_us = 0;                // tbf
  std::uint32_t delay_us = 0, jitter_us = 0;   // netem
  double loss_percent = 0;                     // netem
  std::uint32_t limit = 0;                     // netem, packets (0: the kernel's 1000)
};

struct QdiscState {
  int ifindex = 0;
  std::string kind;
  std::uint32_t handle = 0, parent = 0;
  std::uint64_t rate_bytes = 0;   // tbf: bytes per second
  std::uint32_t burst_bytes = 0;  // tbf bucket
};

struct AddressOptions {
  std::optional<std::uint32_t> valid_lft, preferred_lft;  // seconds; absent: forever
  unsigned flags = 0;                                     // IFA_F_*
  bool dad = false;  // IPv6: let duplicate address detection run (else IFA_F_NODAD)
};

struct LinkChange {
  std::optional<bool> up;
  std::optional<int> mtu;
  std::optional<int> master;  // bridge ifindex
};

struct PathRequest {
  std::optional<IpAddress> via;
  int oif = 0;
  int weight = 1;  // 1-256, as `ip route ... nexthop via A weight W`
};

struct RouteRequest {
  Family family = Family::ipv4;
  IpPrefix to;
  std::optional<IpAddress> via;
  int oif = 0;
  std::optional<int> mtu;
  bool lock_mtu = false;
  std::optional<std::uint32_t> metric;
  std::uint32_t table = 254;  // RT_TABLE_MAIN
  int type = 1;               // RTN_UNICAST, RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT
  std::optional<int> advmss, initcwnd, rto_min_ms;
  std::optional<IpAddress> src;          // preferred source (RTA_PREFSRC)
  std::vector<PathRequest> paths;        // multipath (RTA_MULTIPATH); then no via or oif
  std::optional<std::uint32_t> nexthop;  // a nexthop object's id (RTA_NH_ID)
};

struct RuleRequest {
  Family family = Family::ipv4;
  std::uint32_t priority = 0;
  std::optional<IpPrefix> from, to;
  std::string iif, oif;
  std::optional<int> ipproto;
  std::optional<std::pair<int, int>> sport, dport;
  std::optional<int> dscp;
  std::optional<std::uint32_t> fwmark;
  int action = 1;  // FR_ACT_TO_TBL, FR_ACT_BLACKHOLE, FR_ACT_UNREACHABLE, FR_ACT_PROHIBIT
  std::uint32_t table = 0;
};

struct NeighbourRequest {
  int ifindex = 0;
  IpAddress address;
  std::optional<std::array<std::uint8_t, 6>> lladdr;
  int state = 0x80;  // NUD_PERMANENT
};

struct LinkState {
  int ifindex = 0;
  std::string name;
  std::string kind;  // "veth", "bridge", "" for lo
  int mtu = 0;
  unsigned flags = 0;  // IFF_*
  int operstate = 0;   // IF_OPER_*
  int master = 0;
  std::uint64_t tx_dropped = 0;  // e.g. packets that met a queue not yet activated (noop qdisc)
  bool up() const;
  bool lower_up() const;
  // Up, with carrier, and its queue activated. A device whose carrier is driven by a peer (veth)
  // is activated by linkwatch when it processes the carrier event, which also sets operstate UP;
  // until then it reports RUNNING with operstate UNKNOWN, and what it sends meets the noop qdisc.
  // Other kinds keep UNKNOWN when their carrier never changed, and were activated when opened.
  bool can_send() const;
  // Without carrier, and linkwatch has said so: not RUNNING, operstate DOWN or LOWERLAYERDOWN.
  // Right after a veth end opens with its peer down (or is created), it reports RUNNING and
  // operstate UNKNOWN until linkwatch processes its carrier-off event.
  bool settled_without_carrier() const;
};

struct AddressState {
  int ifindex = 0;
  IpPrefix prefix;
  unsigned flags = 0;                                                  // IFA_F_*
  std::uint32_t valid_lft = 0xffffffffu, preferred_lft = 0xffffffffu;  // seconds left; ~0: forever
};

struct RouteState {
  Family family = Family::ipv4;
  IpPrefix to;
  std::optional<IpAddress> via;
  int oif = 0;
  int table = 0;
  int protocol = 0;
  int type = 0;
  std::uint32_t metric = 0;  // priority
  int mtu = 0;               // RTAX_MTU, 0 when absent
  bool lock_mtu = false;
  int advmss = 0, initcwnd = 0, rto_min_ms = 0;  // 0 when absent
  std::optional<IpAddress> src;
  std::vector<PathRequest> paths;  // each path of a multipath route (or of its nexthop group)
  std::uint32_t nexthop = 0;       // RTA_NH_ID, 0 when none
};

struct RuleState {
  Family family = Family::ipv4;
  std::uint32_t priority = 0;
  int action = 0;  // FR_ACT_*
  std::uint32_t table = 0;
  std::optional<IpPrefix> from, to;
  std::string iif, oif;
  int ipproto = 0;
  std::optional<std::pair<int, int>> sport, dport;
  int dsfield = 0;
  std::uint32_t fwmark = 0;
};

struct NeighbourState {
  int ifindex = 0;
  IpAddress address;
  std::string lladdr;  // "02:00:00:00:00:02", empty when none
  int state = 0;       // NUD_*
};

class Rtnl {
 public:
  // A socket bound to the calling thread's network namespace; it stays bound there whichever
  // thread uses it later.
  static Rtnl open_here();

  // Movable, not copyable; the sockets are freed with the last owner (defaulted in rtnl.cpp,
  // where ErrorContext is complete).
  Rtnl(Rtnl&& o) noexcept;
  Rtnl& operator=(Rtnl&& o) noexcept;
  ~Rtnl();

  void add_veth(const VethRequest& req);
  void add_bridge(const std::string& name, int ifindex, std::optional<int> mtu);
  void add_virtual(const VirtualRequest& req);
  // The RTM_NEWLINK message add_virtual sends, for tests of kinds this kernel lacks.
  static std::vector<std::uint8_t> virtual_request(const VirtualRequest& req);
  void change_link(int ifindex, const LinkChange& change);
  void add_address(int ifindex, const IpPrefix& prefix, const AddressOptions& options = {});
  void del_address(int ifindex, const IpPrefix& prefix);
  void add_route(const RouteRequest& req);
  void replace_route(const RouteRequest& req);  // creates it when it does not exist
  void del_route(const RouteRequest& req);
  void add_rule(const RuleRequest& req);
  void del_rule(const RuleRequest& req);
  void add_neighbour(const NeighbourRequest& req, bool replace = false);
  void del_neighbour(const NeighbourRequest& req);
  void add_nexthop(const NexthopRequest& req, bool replace = false);
  void del_nexthop(std::uint32_t id);
  static std::vector<std::uint8_t> nexthop_request(const NexthopRequest& req, bool replace);
  // Puts `req` as the root qdisc of its interface, whatever was there (tc qdisc replace).
  void replace_qdisc(const QdiscRequest& req);
  void del_qdisc(int ifindex);  // the root qdisc: the interface gets its default back
  static std::vector<std::uint8_t> qdisc_request(const QdiscRequest& req);
  void del_link(int ifindex);
  // Deletes every route exception (RTM_F_CLONED: learned PMTUs, redirects) of `family`, as
  // `ip route flush cache` does; returns how many.
  int flush_route_exceptions(Family family);
  // Deletes every neighbour entry that is neither permanent nor noarp; returns how many.
  int flush_neighbours();

  std::vector<LinkState> links();
  // One link by RTM_GETLINK (not a dump): since Linux 6.8 the kernel first runs the device's
  // pending linkwatch work (carrier, operstate, queue activation), so the answer is what the
  // device will honour now.
  LinkState link(int ifindex);
  // IPv6 multicast groups joined per interface (RTM_GETMULTICAST dump): {ifindex, group}.
  std::vector<std::pair<int, IpAddress>> ipv6_groups();
  std::vector<AddressState> addresses();
  std::vector<RouteState> routes(Family family, std::uint32_t table = 254);  // default: main
  std::vector<RuleState> rules(Family family);
  std::vector<NeighbourState> neighbours();
  std::vector<NexthopState> nexthops();
  std::vector<QdiscState> qdiscs();  // root qdiscs

  // Waits until `pending()` returns an empty description, asking again after every link or IPv6
  // address notification of this namespace (joined before the first ask, so none is missed).
  // Throws Error(ETIMEDOUT) with the last description when `timeout` passes.
  void wait_until(const std::function<std::string()>& pending, std::chrono::milliseconds timeout);

 private:
  explicit Rtnl(nl_sock* sk);
  void check(int nlerr, const std::string& what);
  void send_route(const RouteRequest& req, int flags, const char* verb);

  struct SocketFree {
    void operator()(nl_sock* sk) const;
  };
  // An open netlink socket keeps its namespace alive: it goes with the Rtnl.
  std::unique_ptr<nl_sock, SocketFree> sk_;

 public:
  struct ErrorContext;  // defined in rtnl.cpp; public only so the libnl callback can name it

 private:
  std::unique_ptr<ErrorContext> ctx_;
};

// The version of the libnl-3 loaded (its runtime numbers, not the headers').
std::string libnl_version();

}  // namespace nslab
