// macvlan's request: the lower device and the mode, the kernel's number (absent: bridge).

#include <linux/if_link.h>
#include <netlink/route/link/macvlan.h>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

extern const LinkKind kMacvlanLink{
    .name = "macvlan",
    .alloc = rtnl_link_macvlan_alloc,
    .fill =
        [](rtnl_link* l, const VirtualRequest& req) {
          if (req.parent) rtnl_link_set_link(l, req.parent);
          rtnl_link_macvlan_set_mode(l, req.mode.value_or(MACVLAN_MODE_BRIDGE));
        },
    .needs_lower = true,
};

}  // namespace nslab::rtnl_detail
