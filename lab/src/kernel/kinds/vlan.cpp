// vlan's request: the lower device and the 802.1Q id.

#include <netlink/route/link/vlan.h>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

extern const LinkKind kVlanLink{
    .name = "vlan",
    .alloc = rtnl_link_vlan_alloc,
    .fill =
        [](rtnl_link* l, const VirtualRequest& req) {
          if (req.parent) rtnl_link_set_link(l, req.parent);
          rtnl_link_vlan_set_id(l, static_cast<std::uint16_t>(req.vlan_id));
        },
    .sample = [](VirtualRequest& req) { req.vlan_id = 1; },
    .needs_lower = true,
};

}  // namespace nslab::rtnl_detail
