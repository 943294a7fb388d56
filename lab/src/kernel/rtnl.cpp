// The libnl-route-3 adapter. The only file that includes libnl.

#include "nslab/rtnl.hpp"

#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <netlink/version.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <tuple>

#include <fmt/format.h>

#include "kinds/link_kinds.hpp"
#include "nslab/error.hpp"
#include "rtnl_libnl.hpp"

namespace nslab {

using namespace rtnl_detail;

// What the kernel really said about the last failed request: errno and extended-ack text.
struct Rtnl::ErrorContext {
  int err = 0;
  std::string extack;
  nl_sock* events = nullptr;  // a second socket of the same namespace, for multicast events

  ErrorContext() = default;
  ErrorContext(const ErrorContext&) = delete;
  ErrorContext& operator=(const ErrorContext&) = delete;
  ~ErrorContext() {
    if (events) nl_socket_free(events);
  }
};

void Rtnl::SocketFree::operator()(nl_sock* sk) const {
  nl_socket_free(sk);
}

namespace {

int on_error(sockaddr_nl*, nlmsgerr* e, void* arg) {
  auto* ctx = static_cast<Rtnl::ErrorContext*>(arg);
  ctx->err = -e->error;
  ctx->extack.clear();
  auto* nlh = reinterpret_cast<nlmsghdr*>(reinterpret_cast<char*>(e) - NLMSG_HDRLEN);
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return NL_STOP;
  std::size_t off = sizeof(nlmsgerr);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - NLMSG_HDRLEN;
  const char* p = reinterpret_cast<char*>(e) + off;
  const char* end = reinterpret_cast<char*>(nlh) + nlh->nlmsg_len;
  while (p + sizeof(nlattr) <= end) {
    auto* a = reinterpret_cast<const nlattr*>(p);
    if (a->nla_len < sizeof(nlattr) || p + a->nla_len > end) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG)
      ctx->extack.assign(p + NLA_HDRLEN, strnlen(p + NLA_HDRLEN, a->nla_len - NLA_HDRLEN));
    p += NLA_ALIGN(a->nla_len);
  }
  return NL_STOP;
}

nl_sock* connect_socket() {
  nl_sock* sk = nl_socket_alloc();
  if (!sk) throw Error("nl_socket_alloc failed", ENOMEM);
  int err = nl_connect(sk, NETLINK_ROUTE);
  if (err < 0) {
    nl_socket_free(sk);
    throw Error(std::string("netlink connect: ") + nl_geterror(err), -err);
  }
  // One recvmsg per reply: libnl peeks first (MSG_PEEK|MSG_TRUNC) to size its buffer, which
  // doubles every receive. The kernel caps a dump's datagrams at 32 KiB (netlink_recvmsg's
  // max_recvmsg_len), so a 64 KiB buffer never truncates one.
  nl_socket_disable_msg_peek(sk);
  nl_socket_set_msg_buf_size(sk, 65536);
  return sk;
}

LinkState link_state(rtnl_link* l) {
  LinkState s;
  s.ifindex = rtnl_link_get_ifindex(l);
  s.name = rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "";
  s.kind = rtnl_link_get_type(l) ? rtnl_link_get_type(l) : "";
  s.mtu = static_cast<int>(rtnl_link_get_mtu(l));
  s.flags = rtnl_link_get_flags(l);
  s.operstate = rtnl_link_get_operstate(l);
  s.master = rtnl_link_get_master(l);
  s.tx_dropped = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED);
  return s;
}

}  // namespace

bool LinkState::up() const {
  return flags & IFF_UP;
}
bool LinkState::lower_up() const {
  return flags & IFF_LOWER_UP;
}
bool LinkState::can_send() const {
  if (!(flags & IFF_UP) || !(flags & IFF_LOWER_UP) || !(flags & IFF_RUNNING)) return false;
  if (operstate == IF_OPER_UP) return true;
  return operstate == IF_OPER_UNKNOWN && kind != "veth";
}

bool LinkState::settled_without_carrier() const {
  if (flags & (IFF_LOWER_UP | IFF_RUNNING)) return false;
  return operstate == IF_OPER_DOWN || operstate == IF_OPER_LOWERLAYERDOWN;
}

Rtnl::Rtnl(nl_sock* sk) : sk_(sk), ctx_(std::make_unique<ErrorContext>()) {
  int one = 1;
  int fd = nl_socket_get_fd(sk_.get());
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  nl_socket_modify_err_cb(sk_.get(), NL_CB_CUSTOM, on_error, ctx_.get());
}

Rtnl Rtnl::open_here() {
  Rtnl r(connect_socket());
  r.ctx_->events = connect_socket();
  nl_socket_set_nonblocking(r.ctx_->events);
  return r;
}

Rtnl::Rtnl(Rtnl&&) noexcept = default;
Rtnl& Rtnl::operator=(Rtnl&&) noexcept = default;
Rtnl::~Rtnl() = default;

void Rtnl::check(int nlerr, const std::string& what) {
  if (nlerr >= 0) return;
  int err = ctx_->err ? ctx_->err : EINVAL;
  std::string msg =
      fmt::format("{}: {}", what, ctx_->err ? std::strerror(err) : nl_geterror(nlerr));
  if (!ctx_->extack.empty()) msg += " (" + ctx_->extack + ")";
  ctx_->err = 0;
  ctx_->extack.clear();
  throw Error(msg, err);
}

void Rtnl::add_veth(const VethRequest& req) {
  LinkRef link(rtnl_link_veth_alloc());
  if (!link.get()) throw Error("rtnl_link_veth_alloc failed", ENOMEM);
  LinkRef peer(rtnl_link_veth_get_peer(link.get()));  // a new reference
  rtnl_link_set_name(link.get(), req.name.c_str());
  if (req.ifindex) rtnl_link_set_ifindex(link.get(), req.ifindex);
  if (req.mtu) rtnl_link_set_mtu(link.get(), static_cast<unsigned>(*req.mtu));
  rtnl_link_set_name(peer.get(), req.peer_name.c_str());
  if (req.peer_ifindex) rtnl_link_set_ifindex(peer.get(), req.peer_ifindex);
  if (req.peer_mtu) rtnl_link_set_mtu(peer.get(), static_cast<unsigned>(*req.peer_mtu));
  // IFLA_NET_NS_FD inside the peer info: the peer is born in its node, never in ours.
  if (req.peer_netns_fd >= 0) rtnl_link_set_ns_fd(peer.get(), req.peer_netns_fd);
  check(rtnl_link_add(sk_.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL),
        fmt::format("create veth {} <-> {}", req.name, req.peer_name));
}

void Rtnl::add_bridge(const std::string& name, int ifindex, std::optional<int> mtu) {
  LinkRef link(rtnl_link_alloc());
  rtnl_link_set_type(link.get(), "bridge");
  rtnl_link_set_name(link.get(), name.c_str());
  if (ifindex) rtnl_link_set_ifindex(link.get(), ifindex);
  if (mtu) rtnl_link_set_mtu(link.get(), static_cast<unsigned>(*mtu));
  check(rtnl_link_add(sk_.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL),
        fmt::format("create bridge {}", name));
}

// For what libnl 3.7 cannot set (vxlan's DF): kinds/link_kinds.hpp.
void rtnl_detail::append_nested(std::vector<std::uint8_t>& m, std::size_t header, int outer,
                                int inner, int type, const void* payload, std::size_t len) {
  auto attr_at = [&](std::size_t at) {
    nlattr a;
    std::memcpy(&a, m.data() + at, sizeof a);
    return a;
  };
  auto grow = [&](std::size_t at, std::size_t by) {
    nlattr a = attr_at(at);
    a.nla_len = static_cast<std::uint16_t>(a.nla_len + by);
    std::memcpy(m.data() + at, &a, sizeof a);
  };
  // The attribute of `want` type among those in [from, to), or `to` when there is none.
  auto find = [&](std::size_t from, std::size_t to, int want) {
    for (std::size_t at = from; at + sizeof(nlattr) <= to;) {
      nlattr a = attr_at(at);
      if (a.nla_len < sizeof a) break;
      if ((a.nla_type & NLA_TYPE_MASK) == want) return at;
      at += NLA_ALIGN(a.nla_len);
    }
    return to;
  };
  const std::size_t end = m.size();
  std::size_t o = find(NLMSG_HDRLEN + NLMSG_ALIGN(header), end, outer);
  if (o == end) throw Error("request without the attribute to extend", EINVAL);
  std::size_t o_end = o + NLA_ALIGN(attr_at(o).nla_len);
  std::size_t i = find(o + NLA_HDRLEN, o_end, inner);
  if (i == o_end) throw Error("request without the nested attribute to extend", EINVAL);
  std::size_t at = i + NLA_ALIGN(attr_at(i).nla_len);
  std::vector<std::uint8_t> add(NLA_ALIGN(NLA_HDRLEN + len), 0);
  nlattr a{static_cast<std::uint16_t>(NLA_HDRLEN + len), static_cast<std::uint16_t>(type)};
  std::memcpy(add.data(), &a, sizeof a);
  std::memcpy(add.data() + NLA_HDRLEN, payload, len);
  m.insert(m.begin() + static_cast<std::ptrdiff_t>(at), add.begin(), add.end());
  grow(i, at - i - attr_at(i).nla_len + add.size());  // to the end of what it now holds
  grow(o, add.size());
  nlmsghdr h;
  std::memcpy(&h, m.data(), sizeof h);
  h.nlmsg_len = static_cast<std::uint32_t>(m.size());
  std::memcpy(m.data(), &h, sizeof h);
}

namespace {

// The link object of a VirtualRequest, in the kind's libnl type (kinds/).
LinkRef virtual_link(const VirtualRequest& req, const LinkKind* kind) {
  LinkRef link(kind ? kind->alloc() : rtnl_link_alloc());
  if (!link.get()) throw Error("out of memory", ENOMEM);
  rtnl_link* l = link.get();
  if (!kind) rtnl_link_set_type(l, req.kind.c_str());  // dummy, ifb: no libnl type
  rtnl_link_set_name(l, req.name.c_str());
  if (req.ifindex) rtnl_link_set_ifindex(l, req.ifindex);
  if (req.mtu) rtnl_link_set_mtu(l, static_cast<unsigned>(*req.mtu));
  if (kind) kind->fill(l, req);
  return link;
}

}  // namespace

void Rtnl::add_virtual(const VirtualRequest& req) {
  std::vector<std::uint8_t> bytes = virtual_request(req);
  MsgRef msg(nlmsg_convert(reinterpret_cast<nlmsghdr*>(bytes.data())));
  if (!msg.get()) throw Error("out of memory", ENOMEM);
  check(nl_send_sync(sk_.get(), msg.release()),  // frees the message
        fmt::format("create {} {}", req.kind, req.name));
}

std::vector<std::uint8_t> Rtnl::virtual_request(const VirtualRequest& req) {
  const LinkKind* kind = link_kind(req.kind);
  LinkRef link = virtual_link(req, kind);
  std::vector<std::uint8_t> bytes = built_request(
      [&](nl_msg** m) {
        return rtnl_link_build_add_request(link.get(), NLM_F_CREATE | NLM_F_EXCL, m);
      },
      req.kind);
  if (kind && kind->extend) kind->extend(bytes, req);
  return bytes;
}

void Rtnl::change_link(int ifindex, const LinkChange& change) {
  LinkRef orig(rtnl_link_alloc());
  LinkRef changes(rtnl_link_alloc());
  rtnl_link_set_ifindex(orig.get(), ifindex);
  if (change.up) {
    if (*change.up)
      rtnl_link_set_flags(changes.get(), IFF_UP);
    else
      rtnl_link_unset_flags(changes.get(), IFF_UP);
  }
  if (change.mtu) rtnl_link_set_mtu(changes.get(), static_cast<unsigned>(*change.mtu));
  if (change.master) rtnl_link_set_master(changes.get(), *change.master);
  check(rtnl_link_change(sk_.get(), orig.get(), changes.get(), 0),
        fmt::format("change link {}", ifindex));
}

namespace {
AddrRef address_object(int ifindex, const IpPrefix& prefix) {
  AddrRef addr(rtnl_addr_alloc());
  NlAddrRef local(to_nl(prefix.address, prefix.length));
  rtnl_addr_set_ifindex(addr.get(), ifindex);
  rtnl_addr_set_family(addr.get(), family_af(prefix.address.family));
  rtnl_addr_set_local(addr.get(), local.get());
  rtnl_addr_set_prefixlen(addr.get(), prefix.length);
  return addr;
}
}  // namespace

void Rtnl::add_address(int ifindex, const IpPrefix& prefix, const AddressOptions& options) {
  AddrRef addr = address_object(ifindex, prefix);
  // No duplicate address detection unless asked for: the address is usable at once.
  unsigned flags = options.flags;
  if (prefix.address.family == Family::ipv6 && !options.dad) flags |= IFA_F_NODAD;
  if (flags) rtnl_addr_set_flags(addr.get(), flags);
  // IFA_CACHEINFO carries both lifetimes: one given alone leaves the other forever.
  if (options.valid_lft || options.preferred_lft) {
    rtnl_addr_set_valid_lifetime(addr.get(), options.valid_lft.value_or(0xffffffffu));
    rtnl_addr_set_preferred_lifetime(
        addr.get(), options.preferred_lft.value_or(options.valid_lft.value_or(0xffffffffu)));
  }
  check(rtnl_addr_add(sk_.get(), addr.get(), NLM_F_CREATE | NLM_F_EXCL),
        fmt::format("add address {}", prefix.str()));
}

void Rtnl::del_address(int ifindex, const IpPrefix& prefix) {
  AddrRef addr = address_object(ifindex, prefix);
  check(rtnl_addr_delete(sk_.get(), addr.get(), 0), fmt::format("delete address {}", prefix.str()));
}

namespace {
RouteRef route_object(const RouteRequest& req, bool for_delete = false) {
  RouteRef route(rtnl_route_alloc());
  rtnl_route_set_family(route.get(), static_cast<std::uint8_t>(family_af(req.family)));
  NlAddrRef dst(to_nl(req.to.network().address, req.to.length));
  rtnl_route_set_dst(route.get(), dst.get());
  rtnl_route_set_table(route.get(), req.table);
  rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
  rtnl_route_set_type(route.get(), static_cast<std::uint8_t>(req.type));
  if (req.metric) rtnl_route_set_priority(route.get(), *req.metric);
  unsigned locked = 0;
  if (req.mtu) {
    rtnl_route_set_metric(route.get(), RTAX_MTU, static_cast<unsigned>(*req.mtu));
    if (req.lock_mtu) locked |= 1u << RTAX_MTU;
  }
  if (req.advmss)
    rtnl_route_set_metric(route.get(), RTAX_ADVMSS, static_cast<unsigned>(*req.advmss));
  if (req.initcwnd)
    rtnl_route_set_metric(route.get(), RTAX_INITCWND, static_cast<unsigned>(*req.initcwnd));
  // Milliseconds, and locked, as `ip route ... rto_min` sends it: TCP takes a route's rto_min
  // only when it is locked (tcp_rto_min()).
  if (req.rto_min_ms) {
    rtnl_route_set_metric(route.get(), RTAX_RTO_MIN, static_cast<unsigned>(*req.rto_min_ms));
    locked |= 1u << RTAX_RTO_MIN;
  }
  if (locked) rtnl_route_set_metric(route.get(), RTAX_LOCK, locked);
  if (req.src) {
    NlAddrRef src(to_nl(*req.src, req.src->max_prefix()));
    rtnl_route_set_pref_src(route.get(), src.get());
  }
  auto add_path = [&](const std::optional<IpAddress>& via, int oif, int weight) {
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (via) {
      NlAddrRef gw(to_nl(*via, via->max_prefix()));
      rtnl_route_nh_set_gateway(nh, gw.get());
    }
    if (oif) rtnl_route_nh_set_ifindex(nh, oif);
    // libnl writes its weight into rtnh_hops as it is; the kernel's weight is rtnh_hops + 1.
    if (weight > 1) rtnl_route_nh_set_weight(nh, static_cast<std::uint8_t>(weight - 1));
    rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh now
  };
  if (req.via || req.oif) add_path(req.via, req.oif, 1);
  for (const auto& p : req.paths) add_path(p.via, p.oif, p.weight);
  // As iproute2: a deletion matches any scope; a unicast route without a gateway is on-link.
  std::uint8_t scope = RT_SCOPE_UNIVERSE;
  bool gateway = req.via || req.nexthop ||
                 std::any_of(req.paths.begin(), req.paths.end(), [](auto& p) { return p.via; });
  if (for_delete)
    scope = RT_SCOPE_NOWHERE;
  else if (req.type == RTN_UNICAST && !gateway)
    scope = RT_SCOPE_LINK;
  rtnl_route_set_scope(route.get(), scope);
  return route;
}

std::string route_text(const char* verb, const RouteRequest& req) {
  std::string what =
      fmt::format("{} route {}", verb, req.to.length == 0 ? "default" : req.to.str());
  if (req.via) what += " via " + req.via->str();
  if (req.nexthop) what += fmt::format(" nhid {}", *req.nexthop);
  return what;
}
}  // namespace

// libnl 3.7 knows no RTA_NH_ID: a route through a nexthop object gets it appended to the
// message libnl builds.
void Rtnl::send_route(const RouteRequest& req, int flags, const char* verb) {
  RouteRef route = route_object(req);
  if (!req.nexthop) {
    check(rtnl_route_add(sk_.get(), route.get(), flags), route_text(verb, req));
    return;
  }
  nl_msg* raw = nullptr;
  check(rtnl_route_build_add_request(route.get(), flags, &raw), route_text(verb, req));
  if (nla_put_u32(raw, RTA_NH_ID, *req.nexthop) < 0) {
    nlmsg_free(raw);
    throw Error("route message too long", ENOBUFS);
  }
  check(nl_send_sync(sk_.get(), raw), route_text(verb, req));  // frees the message
}

void Rtnl::add_route(const RouteRequest& req) {
  send_route(req, NLM_F_CREATE | NLM_F_EXCL, "add");
}

void Rtnl::replace_route(const RouteRequest& req) {
  send_route(req, NLM_F_CREATE | NLM_F_REPLACE, "replace");
}

void Rtnl::del_route(const RouteRequest& req) {
  RouteRef route = route_object(req, /*for_delete=*/true);
  check(rtnl_route_delete(sk_.get(), route.get(), 0), route_text("delete", req));
}

namespace {
RuleRef rule_object(const RuleRequest& req) {
  RuleRef rule(rtnl_rule_alloc());
  rtnl_rule_set_family(rule.get(), family_af(req.family));
  rtnl_rule_set_prio(rule.get(), req.priority);
  rtnl_rule_set_action(rule.get(), static_cast<std::uint8_t>(req.action));
  if (req.table) rtnl_rule_set_table(rule.get(), req.table);
  if (req.from) {
    NlAddrRef a(to_nl(req.from->network().address, req.from->length));
    rtnl_rule_set_src(rule.get(), a.get());
  }
  if (req.to) {
    NlAddrRef a(to_nl(req.to->network().address, req.to->length));
    rtnl_rule_set_dst(rule.get(), a.get());
  }
  if (!req.iif.empty()) rtnl_rule_set_iif(rule.get(), req.iif.c_str());
  if (!req.oif.empty()) rtnl_rule_set_oif(rule.get(), req.oif.c_str());
  if (req.ipproto) rtnl_rule_set_ipproto(rule.get(), static_cast<std::uint8_t>(*req.ipproto));
  if (req.sport)
    rtnl_rule_set_sport_range(rule.get(), static_cast<std::uint16_t>(req.sport->first),
                              static_cast<std::uint16_t>(req.sport->second));
  if (req.dport)
    rtnl_rule_set_dport_range(rule.get(), static_cast<std::uint16_t>(req.dport->first),
                              static_cast<std::uint16_t>(req.dport->second));
  if (req.dscp) rtnl_rule_set_dsfield(rule.get(), static_cast<std::uint8_t>(*req.dscp << 2));
  if (req.fwmark) {
    rtnl_rule_set_mark(rule.get(), *req.fwmark);
    rtnl_rule_set_mask(rule.get(), 0xffffffffu);
  }
  return rule;
}

NeighRef neigh_object(const NeighbourRequest& req) {
  NeighRef n(rtnl_neigh_alloc());
  rtnl_neigh_set_ifindex(n.get(), req.ifindex);
  rtnl_neigh_set_family(n.get(), family_af(req.address.family));
  NlAddrRef dst(to_nl(req.address, req.address.max_prefix()));
  rtnl_neigh_set_dst(n.get(), dst.get());
  if (req.lladdr) {
    NlAddrRef ll(nl_addr_build(AF_LLC, req.lladdr->data(), req.lladdr->size()));
    rtnl_neigh_set_lladdr(n.get(), ll.get());
  }
  rtnl_neigh_set_state(n.get(), req.state);
  return n;
}
}  // namespace

void Rtnl::add_rule(const RuleRequest& req) {
  RuleRef rule = rule_object(req);
  check(rtnl_rule_add(sk_.get(), rule.get(), NLM_F_CREATE | NLM_F_EXCL),
        fmt::format("add rule priority {}", req.priority));
}

void Rtnl::del_rule(const RuleRequest& req) {
  RuleRef rule(rtnl_rule_alloc());
  rtnl_rule_set_family(rule.get(), family_af(req.family));
  rtnl_rule_set_prio(rule.get(), req.priority);
  check(rtnl_rule_delete(sk_.get(), rule.get(), 0),
        fmt::format("delete rule priority {}", req.priority));
}

void Rtnl::add_neighbour(const NeighbourRequest& req, bool replace) {
  NeighRef n = neigh_object(req);
  check(rtnl_neigh_add(sk_.get(), n.get(), NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL)),
        fmt::format("add neighbour {}", req.address.str()));
}

void Rtnl::del_neighbour(const NeighbourRequest& req) {
  NeighRef n = neigh_object(req);
  check(rtnl_neigh_delete(sk_.get(), n.get(), 0),
        fmt::format("delete neighbour {}", req.address.str()));
}

std::vector<RuleState> Rtnl::rules(Family family) {
  nl_cache* raw = nullptr;
  check(rtnl_rule_alloc_cache(sk_.get(), family_af(family), &raw), "dump rules");
  CacheRef cache(raw);
  std::vector<RuleState> out;
  for_each<rtnl_rule>(cache, [&](rtnl_rule* r) {
    RuleState s;
    s.family = family;
    s.priority = rtnl_rule_get_prio(r);
    s.action = rtnl_rule_get_action(r);
    s.table = rtnl_rule_get_table(r);
    auto prefix = [](nl_addr* a) -> std::optional<IpPrefix> {
      auto ip = from_nl(a);
      if (!ip) return std::nullopt;
      return IpPrefix{*ip, static_cast<int>(nl_addr_get_prefixlen(a))};
    };
    s.from = prefix(rtnl_rule_get_src(r));
    s.to = prefix(rtnl_rule_get_dst(r));
    if (const char* n = rtnl_rule_get_iif(r)) s.iif = n;
    if (const char* n = rtnl_rule_get_oif(r)) s.oif = n;
    std::uint8_t proto = 0;
    if (rtnl_rule_get_ipproto(r, &proto) == 0) s.ipproto = proto;
    std::uint16_t lo = 0, hi = 0;
    if (rtnl_rule_get_sport(r, &lo, &hi) == 0) s.sport = {lo, hi};
    if (rtnl_rule_get_dport(r, &lo, &hi) == 0) s.dport = {lo, hi};
    s.dsfield = rtnl_rule_get_dsfield(r);
    s.fwmark = rtnl_rule_get_mark(r);
    out.push_back(std::move(s));
  });
  return out;
}

std::vector<NeighbourState> Rtnl::neighbours() {
  nl_cache* raw = nullptr;
  check(rtnl_neigh_alloc_cache(sk_.get(), &raw), "dump neighbours");
  CacheRef cache(raw);
  std::vector<NeighbourState> out;
  for_each<rtnl_neigh>(cache, [&](rtnl_neigh* n) {
    auto ip = from_nl(rtnl_neigh_get_dst(n));
    if (!ip) return;
    NeighbourState s;
    s.ifindex = rtnl_neigh_get_ifindex(n);
    s.address = *ip;
    s.state = rtnl_neigh_get_state(n);
    if (nl_addr* ll = rtnl_neigh_get_lladdr(n)) {
      char buf[64];
      s.lladdr = nl_addr2str(ll, buf, sizeof buf);
    }
    out.push_back(std::move(s));
  });
  return out;
}

int Rtnl::flush_route_exceptions(Family family) {
  // Not through a libnl route cache: it keys routes by destination, table and metric, so an
  // exception whose destination is its own route's (a /128 route) collides with that route in
  // the cache and was never deleted. The exceptions are dumped raw and each is sent back as an
  // RTM_DELROUTE (RTM_F_CLONED makes the kernel delete the exception, not the route it hangs
  // on), as `ip route flush cache` does.
  rtmsg hdr{};
  hdr.rtm_family = static_cast<unsigned char>(family_af(family));
  hdr.rtm_flags = RTM_F_CLONED;
  std::vector<std::vector<std::uint8_t>> found;
  check(dump_raw(sk_.get(), RTM_GETROUTE, &hdr, sizeof hdr,
                 [&](nlmsghdr* h) {
                   if (h->nlmsg_type != RTM_NEWROUTE) return;
                   if (!(static_cast<rtmsg*>(nlmsg_data(h))->rtm_flags & RTM_F_CLONED)) return;
                   auto* body = static_cast<std::uint8_t*>(nlmsg_data(h));
                   found.emplace_back(body, body + nlmsg_datalen(h));
                 }),
        "dump route exceptions");
  int n = 0;
  for (auto& body : found) {
    MsgRef msg(nlmsg_alloc_simple(RTM_DELROUTE, 0));
    if (!msg.get() || nlmsg_append(msg.get(), body.data(), body.size(), NLMSG_ALIGNTO) < 0)
      throw Error("build a route exception deletion", ENOMEM);
    // One may expire between the dump and here: not an error.
    int err = nl_send_sync(sk_.get(), msg.release());  // frees the message
    if (err < 0 && ctx_->err != ESRCH) check(err, "delete a route exception");
    if (err >= 0) ++n;
  }
  return n;
}

int Rtnl::flush_neighbours() {
  nl_cache* raw = nullptr;
  check(rtnl_neigh_alloc_cache(sk_.get(), &raw), "dump neighbours");
  CacheRef cache(raw);
  int n = 0;
  for_each<rtnl_neigh>(cache, [&](rtnl_neigh* x) {
    if (rtnl_neigh_get_state(x) & (NUD_PERMANENT | NUD_NOARP)) return;
    int err = rtnl_neigh_delete(sk_.get(), x, 0);
    if (err < 0 && ctx_->err != ENOENT) check(err, "delete a neighbour");
    if (err >= 0) ++n;
  });
  return n;
}

void Rtnl::del_link(int ifindex) {
  LinkRef link(rtnl_link_alloc());
  rtnl_link_set_ifindex(link.get(), ifindex);
  check(rtnl_link_delete(sk_.get(), link.get()), fmt::format("delete link {}", ifindex));
}

std::vector<LinkState> Rtnl::links() {
  nl_cache* raw = nullptr;
  check(rtnl_link_alloc_cache(sk_.get(), AF_UNSPEC, &raw), "dump links");
  CacheRef cache(raw);
  std::vector<LinkState> out;
  for_each<rtnl_link>(cache, [&](rtnl_link* l) { out.push_back(link_state(l)); });
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.ifindex < b.ifindex; });
  return out;
}

LinkState Rtnl::link(int ifindex) {
  rtnl_link* raw = nullptr;
  check(rtnl_link_get_kernel(sk_.get(), ifindex, nullptr, &raw),
        fmt::format("get link {}", ifindex));
  LinkRef l(raw);
  return link_state(l.get());
}

int rtnl_detail::dump_raw(nl_sock* sk, int type, const void* header, std::size_t len,
                          const std::function<void(nlmsghdr*)>& each) {
  if (int err = nl_send_simple(sk, type, NLM_F_DUMP, const_cast<void*>(header), len); err < 0)
    return err;
  nl_cb* base = nl_socket_get_cb(sk);  // a new reference
  nl_cb* cb = nl_cb_clone(base);
  nl_cb_put(base);
  if (!cb) throw Error("nl_cb_clone failed", ENOMEM);
  auto on_valid = [](nl_msg* msg, void* arg) -> int {
    (*static_cast<const std::function<void(nlmsghdr*)>*>(arg))(nlmsg_hdr(msg));
    return NL_OK;
  };
  nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid,
            const_cast<void*>(static_cast<const void*>(&each)));
  int err = nl_recvmsgs(sk, cb);
  nl_cb_put(cb);
  return err;
}

std::vector<std::pair<int, IpAddress>> Rtnl::ipv6_groups() {
  ifaddrmsg req{};
  req.ifa_family = AF_INET6;
  std::vector<std::pair<int, IpAddress>> groups;
  check(dump_raw(sk_.get(), RTM_GETMULTICAST, &req, sizeof req,
                 [&](nlmsghdr* h) {
                   // Kernels before 6.13 answer with RTM_GETMULTICAST, later ones with
                   // RTM_NEWMULTICAST (56; not in the headers this builds with).
                   constexpr int kNewMulticast = 56;
                   if (h->nlmsg_type != kNewMulticast && h->nlmsg_type != RTM_GETMULTICAST) return;
                   auto* ifa = static_cast<ifaddrmsg*>(nlmsg_data(h));
                   nlattr* tb[IFA_MAX + 1];
                   if (nlmsg_parse(h, sizeof(ifaddrmsg), tb, IFA_MAX, nullptr) < 0 ||
                       !tb[IFA_MULTICAST] || nla_len(tb[IFA_MULTICAST]) != 16)
                     return;
                   IpAddress a;
                   a.family = Family::ipv6;
                   std::memcpy(a.bytes.data(), nla_data(tb[IFA_MULTICAST]), 16);
                   groups.emplace_back(static_cast<int>(ifa->ifa_index), a);
                 }),
        "dump IPv6 multicast groups");
  return groups;
}

std::vector<AddressState> Rtnl::addresses() {
  nl_cache* raw = nullptr;
  check(rtnl_addr_alloc_cache(sk_.get(), &raw), "dump addresses");
  CacheRef cache(raw);
  std::vector<AddressState> out;
  for_each<rtnl_addr>(cache, [&](rtnl_addr* a) {
    auto ip = from_nl(rtnl_addr_get_local(a));
    if (!ip) return;
    out.push_back({rtnl_addr_get_ifindex(a), IpPrefix{*ip, rtnl_addr_get_prefixlen(a)},
                   rtnl_addr_get_flags(a), rtnl_addr_get_valid_lifetime(a),
                   rtnl_addr_get_preferred_lifetime(a)});
  });
  return out;
}

std::vector<RouteState> Rtnl::routes(Family family, std::uint32_t table) {
  nl_cache* raw = nullptr;
  check(rtnl_route_alloc_cache(sk_.get(), family_af(family), 0, &raw), "dump routes");
  CacheRef cache(raw);
  std::vector<RouteState> out;
  for_each<rtnl_route>(cache, [&](rtnl_route* r) {
    if (rtnl_route_get_table(r) != table) return;
    if (rtnl_route_get_flags(r) & RTM_F_CLONED) return;  // an IPv6 dump carries exceptions too
    RouteState s;
    s.family = family;
    nl_addr* dst = rtnl_route_get_dst(r);
    s.to = IpPrefix{from_nl(dst).value_or(IpAddress{family, {}}),
                    dst ? static_cast<int>(nl_addr_get_prefixlen(dst)) : 0};
    s.table = static_cast<int>(rtnl_route_get_table(r));
    s.protocol = rtnl_route_get_protocol(r);
    s.type = rtnl_route_get_type(r);
    s.metric = rtnl_route_get_priority(r);
    std::uint32_t v = 0;
    if (rtnl_route_get_metric(r, RTAX_MTU, &v) == 0) s.mtu = static_cast<int>(v);
    if (rtnl_route_get_metric(r, RTAX_LOCK, &v) == 0) s.lock_mtu = v & (1u << RTAX_MTU);
    if (rtnl_route_get_metric(r, RTAX_ADVMSS, &v) == 0) s.advmss = static_cast<int>(v);
    if (rtnl_route_get_metric(r, RTAX_INITCWND, &v) == 0) s.initcwnd = static_cast<int>(v);
    if (rtnl_route_get_metric(r, RTAX_RTO_MIN, &v) == 0) s.rto_min_ms = static_cast<int>(v);
    s.src = from_nl(rtnl_route_get_pref_src(r));
    const int paths = rtnl_route_get_nnexthops(r);
    for (int i = 0; i < paths; ++i) {
      rtnl_nexthop* nh = rtnl_route_nexthop_n(r, i);
      PathRequest p{from_nl(rtnl_route_nh_get_gateway(nh)), rtnl_route_nh_get_ifindex(nh),
                    rtnl_route_nh_get_weight(nh) + 1};
      if (i == 0) {
        s.oif = p.oif;
        s.via = p.via;
      }
      if (paths > 1) s.paths.push_back(p);
    }
    out.push_back(std::move(s));
  });
  // RTA_NH_ID, which libnl 3.7 drops from its route objects, from a dump of our own.
  rtmsg hdr{};
  hdr.rtm_family = static_cast<unsigned char>(family_af(family));
  std::vector<std::tuple<IpPrefix, std::uint32_t, std::uint32_t>> ids;  // to, metric, id
  check(dump_raw(sk_.get(), RTM_GETROUTE, &hdr, sizeof hdr,
                 [&](nlmsghdr* h) {
                   if (h->nlmsg_type != RTM_NEWROUTE) return;
                   auto* rt = static_cast<rtmsg*>(nlmsg_data(h));
                   nlattr* tb[RTA_MAX + 1];
                   if (nlmsg_parse(h, sizeof(rtmsg), tb, RTA_MAX, nullptr) < 0 || !tb[RTA_NH_ID])
                     return;
                   std::uint32_t t = tb[RTA_TABLE] ? nla_get_u32(tb[RTA_TABLE]) : rt->rtm_table;
                   if (t != table) return;
                   IpAddress dst{family, {}};
                   if (tb[RTA_DST])
                     std::memcpy(
                         dst.bytes.data(), nla_data(tb[RTA_DST]),
                         std::min<std::size_t>(16, static_cast<std::size_t>(nla_len(tb[RTA_DST]))));
                   ids.emplace_back(IpPrefix{dst, rt->rtm_dst_len},
                                    tb[RTA_PRIORITY] ? nla_get_u32(tb[RTA_PRIORITY]) : 0,
                                    nla_get_u32(tb[RTA_NH_ID]));
                 }),
        "dump routes");
  for (auto& s : out)
    for (const auto& [to, metric, id] : ids)
      if (to == s.to && metric == s.metric) s.nexthop = id;
  return out;
}

void Rtnl::wait_until(const std::function<std::string()>& pending,
                      std::chrono::milliseconds timeout) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + timeout;
  int fd = nl_socket_get_fd(ctx_->events);
  const unsigned groups[] = {RTNLGRP_LINK, RTNLGRP_IPV6_IFADDR};
  // Join before the first ask, so that no change between the two is missed.
  for (unsigned g : groups)
    if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof g) < 0)
      throw_errno("join rtnetlink group", errno);
  struct Leave {
    int fd;
    const unsigned* groups;
    ~Leave() {
      for (int i = 0; i < 2; ++i)
        setsockopt(fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &groups[i], sizeof groups[i]);
    }
  } leave{fd, groups};
  alignas(nlmsghdr) char buf[32768];
  for (std::string what = pending(); !what.empty(); what = pending()) {
    // Sleep until some notification arrives; its content does not matter, `pending` asks again.
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
      pollfd p{fd, POLLIN, 0};
      int n = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count()) + 1) : 0;
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error(fmt::format("{} after {} ms", what, timeout.count()), ETIMEDOUT);
      break;
    }
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0 || errno == ENOBUFS || errno == EINTR) {
    }
  }
}

std::string libnl_version() {
  return fmt::format("{}.{}.{}", nl_ver_maj, nl_ver_min, nl_ver_mic);
}

}  // namespace nslab
