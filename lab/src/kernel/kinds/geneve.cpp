// geneve's request: the VNI, the remote end, the UDP port and the TTL.

#include <netlink/route/link/geneve.h>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

extern const LinkKind kGeneveLink{
    .name = "geneve",
    .alloc = rtnl_link_geneve_alloc,
    .fill =
        [](rtnl_link* l, const VirtualRequest& req) {
          rtnl_link_geneve_set_id(l, req.vni);
          if (req.remote) {
            NlAddrRef a(to_nl(*req.remote, req.remote->max_prefix()));
            rtnl_link_geneve_set_remote(l, a.get());
          }
          if (req.port) rtnl_link_geneve_set_port(l, static_cast<std::uint32_t>(req.port));
          if (req.ttl) rtnl_link_geneve_set_ttl(l, static_cast<std::uint8_t>(req.ttl));
        },
    .sample =
        [](VirtualRequest& req) {
          req.vni = 1;
          req.remote = IpAddress::parse("192.0.2.1");
        },
};

}  // namespace nslab::rtnl_detail
