// htb's request: qdisc 1: whose default class is 1:1, then that class with the rate, the ceil
// (absent: the rate) and the burst.

#include <netlink/route/class.h>
#include <netlink/route/qdisc/htb.h>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

namespace {
constexpr std::uint32_t kHtbHandle = 0x10000;   // 1:
constexpr std::uint32_t kHtbDefault = 0x10001;  // 1:1, the class all traffic goes to
}  // namespace

extern const QdiscKernelKind kHtbQdisc{
    .name = "htb",
    .fill =
        [](rtnl_qdisc* q, const QdiscRequest&) {
          rtnl_tc_set_handle(tc_of(q), kHtbHandle);
          rtnl_htb_set_defcls(q, kHtbDefault & 0xffff);
        },
    .after =
        [](nl_sock* sk, const QdiscRequest& req) {
          ClassRef c(rtnl_class_alloc());
          if (!c.get()) throw Error("rtnl_class_alloc failed", ENOMEM);
          auto* t = reinterpret_cast<rtnl_tc*>(c.get());
          rtnl_tc_set_ifindex(t, req.ifindex);
          rtnl_tc_set_parent(t, kHtbHandle);
          rtnl_tc_set_handle(t, kHtbDefault);
          rtnl_tc_set_kind(t, "htb");
          rtnl_htb_set_rate(c.get(), static_cast<std::uint32_t>(req.rate_bits / 8));
          rtnl_htb_set_ceil(c.get(), static_cast<std::uint32_t>(
                                         (req.ceil_bits ? req.ceil_bits : req.rate_bits) / 8));
          if (req.burst_bytes) rtnl_htb_set_rbuffer(c.get(), req.burst_bytes);
          return rtnl_class_add(sk, c.get(), NLM_F_CREATE);
        },
};

}  // namespace nslab::rtnl_detail
