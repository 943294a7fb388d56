// The IP tunnels' requests: gre, ipip and sit (IPv4 ends), ip6gre and ip6tnl (IPv6 ends), each
// with its ends, TTL and underlay device, through libnl's setters of that type.

#include <netlink/route/link/ip6gre.h>
#include <netlink/route/link/ip6tnl.h>
#include <netlink/route/link/ipgre.h>
#include <netlink/route/link/ipip.h>
#include <netlink/route/link/sit.h>

#include <type_traits>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

namespace {

// The fill of one tunnel type, from its libnl setters: the ends (uint32_t for IPv4, in6_addr*
// for IPv6), the TTL and the underlay device.
template <auto SetLocal, auto SetRemote, auto SetTtl, auto SetLink>
void fill_tunnel(rtnl_link* l, const VirtualRequest& req) {
  if constexpr (std::is_invocable_v<decltype(SetLocal), rtnl_link*, std::uint32_t>) {
    if (req.local) SetLocal(l, ipv4_of(req.local));
    if (req.remote) SetRemote(l, ipv4_of(req.remote));
  } else {
    in6_addr local = ipv6_of(req.local), remote = ipv6_of(req.remote);
    if (req.local) SetLocal(l, &local);
    if (req.remote) SetRemote(l, &remote);
  }
  if (req.ttl) SetTtl(l, static_cast<std::uint8_t>(req.ttl));
  if (req.parent) SetLink(l, static_cast<std::uint32_t>(req.parent));
}

}  // namespace

void fill_gre(rtnl_link* l, const VirtualRequest& req) {
  fill_tunnel<rtnl_link_ipgre_set_local, rtnl_link_ipgre_set_remote, rtnl_link_ipgre_set_ttl,
              rtnl_link_ipgre_set_link>(l, req);
}

extern const LinkKind kGreLink{
    .name = "gre",
    .alloc = rtnl_link_ipgre_alloc,
    .fill = fill_gre,
    .sample = ipv4_ends_sample,
};

extern const LinkKind kIpipLink{
    .name = "ipip",
    .alloc = rtnl_link_ipip_alloc,
    .fill = fill_tunnel<rtnl_link_ipip_set_local, rtnl_link_ipip_set_remote, rtnl_link_ipip_set_ttl,
                        rtnl_link_ipip_set_link>,
    .sample = ipv4_ends_sample,
};

extern const LinkKind kSitLink{
    .name = "sit",
    .alloc = rtnl_link_sit_alloc,
    .fill = fill_tunnel<rtnl_link_sit_set_local, rtnl_link_sit_set_remote, rtnl_link_sit_set_ttl,
                        rtnl_link_sit_set_link>,
    .sample = ipv4_ends_sample,
};

extern const LinkKind kIp6greLink{
    .name = "ip6gre",
    .alloc = rtnl_link_ip6gre_alloc,
    .fill = fill_tunnel<rtnl_link_ip6gre_set_local, rtnl_link_ip6gre_set_remote,
                        rtnl_link_ip6gre_set_ttl, rtnl_link_ip6gre_set_link>,
    .sample = ipv6_ends_sample,
};

extern const LinkKind kIp6tnlLink{
    .name = "ip6tnl",
    .alloc = rtnl_link_ip6_tnl_alloc,
    .fill = fill_tunnel<rtnl_link_ip6_tnl_set_local, rtnl_link_ip6_tnl_set_remote,
                        rtnl_link_ip6_tnl_set_ttl, rtnl_link_ip6_tnl_set_link>,
    .sample = ipv6_ends_sample,
};

}  // namespace nslab::rtnl_detail
