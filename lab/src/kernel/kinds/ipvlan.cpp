// ipvlan's request: the lower device and the mode, the kernel's number (absent: l3), not
// libnl's name: libnl 3.7 does not know l3s.

#include <linux/if_link.h>
#include <netlink/route/link/ipvlan.h>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

extern const LinkKind kIpvlanLink{
    .name = "ipvlan",
    .alloc = rtnl_link_ipvlan_alloc,
    .fill =
        [](rtnl_link* l, const VirtualRequest& req) {
          if (req.parent) rtnl_link_set_link(l, req.parent);
          rtnl_link_ipvlan_set_mode(l,
                                    static_cast<std::uint16_t>(req.mode.value_or(IPVLAN_MODE_L3)));
        },
    .needs_lower = true,
};

}  // namespace nslab::rtnl_detail
