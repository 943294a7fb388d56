// netem's request: delay and jitter in microseconds, loss as a probability scaled to 2^32 - 1
// (as tc sends it; libnl passes the int through), the queue limit in packets.

#include <netlink/route/qdisc/netem.h>

#include <cmath>
#include <limits>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

extern const QdiscKernelKind kNetemQdisc{
    .name = "netem",
    .fill =
        [](rtnl_qdisc* q, const QdiscRequest& req) {
          if (req.delay_us) rtnl_netem_set_delay(q, static_cast<int>(req.delay_us));
          if (req.jitter_us) rtnl_netem_set_jitter(q, static_cast<int>(req.jitter_us));
          if (req.loss_percent > 0) {
            double scaled =
                std::round(req.loss_percent / 100.0 *
                           static_cast<double>(std::numeric_limits<std::uint32_t>::max()));
            rtnl_netem_set_loss(q, static_cast<int>(static_cast<std::uint32_t>(scaled)));
          }
          if (req.limit) rtnl_netem_set_limit(q, static_cast<int>(req.limit));
        },
};

}  // namespace nslab::rtnl_detail
