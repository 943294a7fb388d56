// The IP tunnels' requests: gre, ipip and sit (IPv4 ends), ip6gre and ip6tnl (IPv6 ends), each
// with its ends, TTL and underlay device, through libnl's setters of that type.

#include <netlink/route/link/ip6gre.h>
#include <netlink/route/link/ip6tnl.h>
#include <netlink/route/link/ipgre.h>
#include <netlink/route/link/ipip.h>
#include <netlink/route/link/sit.h>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

namespace {

// One tunnel type's setters: Addr is uint32_t (IPv4 ends) or in6_addr* (IPv6 ends).
template <class Addr>
struct Setters {
  int (*local)(rtnl_link*, Addr);
  int (*remote)(rtnl_link*, Addr);
  int (*ttl)(rtnl_link*, std::uint8_t);
  int (*link)(rtnl_link*, std::uint32_t);
};

void fill_tunnel(rtnl_link* l, const VirtualRequest& req, const Setters<std::uint32_t>& set) {
  if (req.local) set.local(l, ipv4_of(req.local));
  if (req.remote) set.remote(l, ipv4_of(req.remote));
  if (req.ttl) set.ttl(l, static_cast<std::uint8_t>(req.ttl));
  if (req.parent) set.link(l, static_cast<std::uint32_t>(req.parent));
}

void fill_tunnel(rtnl_link* l, const VirtualRequest& req, const Setters<in6_addr*>& set) {
  in6_addr local = ipv6_of(req.local), remote = ipv6_of(req.remote);
  if (req.local) set.local(l, &local);
  if (req.remote) set.remote(l, &remote);
  if (req.ttl) set.ttl(l, static_cast<std::uint8_t>(req.ttl));
  if (req.parent) set.link(l, static_cast<std::uint32_t>(req.parent));
}

}  // namespace

void fill_gre(rtnl_link* l, const VirtualRequest& req) {
  fill_tunnel(l, req,
              Setters<std::uint32_t>{rtnl_link_ipgre_set_local, rtnl_link_ipgre_set_remote,
                                     rtnl_link_ipgre_set_ttl, rtnl_link_ipgre_set_link});
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
    .fill =
        [](rtnl_link* l, const VirtualRequest& req) {
          fill_tunnel(l, req,
                      Setters<std::uint32_t>{rtnl_link_ipip_set_local, rtnl_link_ipip_set_remote,
                                             rtnl_link_ipip_set_ttl, rtnl_link_ipip_set_link});
        },
    .sample = ipv4_ends_sample,
};

extern const LinkKind kSitLink{
    .name = "sit",
    .alloc = rtnl_link_sit_alloc,
    .fill =
        [](rtnl_link* l, const VirtualRequest& req) {
          fill_tunnel(l, req,
                      Setters<std::uint32_t>{rtnl_link_sit_set_local, rtnl_link_sit_set_remote,
                                             rtnl_link_sit_set_ttl, rtnl_link_sit_set_link});
        },
    .sample = ipv4_ends_sample,
};

extern const LinkKind kIp6greLink{
    .name = "ip6gre",
    .alloc = rtnl_link_ip6gre_alloc,
    .fill =
        [](rtnl_link* l, const VirtualRequest& req) {
          fill_tunnel(l, req,
                      Setters<in6_addr*>{rtnl_link_ip6gre_set_local, rtnl_link_ip6gre_set_remote,
                                         rtnl_link_ip6gre_set_ttl, rtnl_link_ip6gre_set_link});
        },
    .sample = ipv6_ends_sample,
};

extern const LinkKind kIp6tnlLink{
    .name = "ip6tnl",
    .alloc = rtnl_link_ip6_tnl_alloc,
    .fill =
        [](rtnl_link* l, const VirtualRequest& req) {
          fill_tunnel(l, req,
                      Setters<in6_addr*>{rtnl_link_ip6_tnl_set_local, rtnl_link_ip6_tnl_set_remote,
                                         rtnl_link_ip6_tnl_set_ttl, rtnl_link_ip6_tnl_set_link});
        },
    .sample = ipv6_ends_sample,
};

}  // namespace nslab::rtnl_detail
