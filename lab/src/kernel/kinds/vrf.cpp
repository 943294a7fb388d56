// vrf's request: its routing table (IFLA_VRF_TABLE). Its ports are enslaved afterwards.

#include <netlink/route/link/vrf.h>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

extern const LinkKind kVrfLink{
    .name = "vrf",
    .alloc = rtnl_link_vrf_alloc,
    .fill = [](rtnl_link* l,
               const VirtualRequest& req) { rtnl_link_vrf_set_tableid(l, req.table); },
    .sample = [](VirtualRequest& req) { req.table = 1; },
};

}  // namespace nslab::rtnl_detail
