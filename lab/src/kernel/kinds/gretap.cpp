// gretap's request: gre's attributes (ends, TTL, underlay) in a link of kind gretap.

#include <netlink/route/link/ipgre.h>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

extern const LinkKind kGretapLink{
    .name = "gretap",
    .alloc = rtnl_link_ipgretap_alloc,
    .fill = fill_gre,
    .sample = ipv4_ends_sample,
};

}  // namespace nslab::rtnl_detail
