// tbf's request: the rate and bucket, and the queue limit the rate drains in `latency`.

#include <netlink/route/qdisc/tbf.h>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

extern const QdiscKernelKind kTbfQdisc{
    .name = "tbf",
    .fill =
        [](rtnl_qdisc* q, const QdiscRequest& req) {
          rtnl_qdisc_tbf_set_rate(q, static_cast<int>(req.rate_bits / 8),
                                  static_cast<int>(req.burst_bytes), 0);
          // After the rate: the queue limit in bytes is what the rate drains in `latency`.
          rtnl_qdisc_tbf_set_limit_by_latency(q, static_cast<int>(req.latency_us));
        },
    .read =
        [](rtnl_qdisc* q, QdiscState& s) {
          s.rate_bytes = static_cast<std::uint64_t>(rtnl_qdisc_tbf_get_rate(q));
          s.burst_bytes = static_cast<std::uint32_t>(rtnl_qdisc_tbf_get_rate_bucket(q));
        },
};

}  // namespace nslab::rtnl_detail
