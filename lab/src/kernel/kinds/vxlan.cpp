// vxlan's request: the VNI, the unicast remote end (IFLA_VXLAN_GROUP, as iproute2's `remote`),
// the local address, the UDP port, the underlay device and the DF bit.

#include <linux/if_link.h>
#include <netlink/route/link/vxlan.h>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

extern const LinkKind kVxlanLink{
    .name = "vxlan",
    .alloc = rtnl_link_vxlan_alloc,
    .fill =
        [](rtnl_link* l, const VirtualRequest& req) {
          rtnl_link_vxlan_set_id(l, req.vni);
          if (req.remote) {
            NlAddrRef a(to_nl(*req.remote, req.remote->max_prefix()));
            rtnl_link_vxlan_set_group(l, a.get());
          }
          if (req.local) {
            NlAddrRef a(to_nl(*req.local, req.local->max_prefix()));
            rtnl_link_vxlan_set_local(l, a.get());
          }
          if (req.port) rtnl_link_vxlan_set_port(l, static_cast<std::uint32_t>(req.port));
          if (req.parent) rtnl_link_vxlan_set_link(l, static_cast<std::uint32_t>(req.parent));
        },
    // IFLA_VXLAN_DF: libnl 3.7 lacks it.
    .extend =
        [](std::vector<std::uint8_t>& bytes, const VirtualRequest& req) {
          if (!req.vxlan_df) return;
          auto df = static_cast<std::uint8_t>(*req.vxlan_df);
          append_nested(bytes, sizeof(ifinfomsg), IFLA_LINKINFO, IFLA_INFO_DATA, IFLA_VXLAN_DF, &df,
                        sizeof df);
        },
    .sample = [](VirtualRequest& req) { req.vni = 1; },
};

}  // namespace nslab::rtnl_detail
