// Root qdiscs (`tc qdisc replace dev D root ...`): tbf, htb (with one default class carrying the
// rate) and netem, through libnl-route's qdisc and class objects.

#include <linux/pkt_sched.h>
#include <netlink/route/qdisc/htb.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "nslab/error.hpp"
#include "nslab/rtnl.hpp"
#include "rtnl_libnl.hpp"

namespace nslab {

using namespace rtnl_detail;

namespace {

constexpr std::uint32_t kHtbHandle = 0x10000;   // 1:
constexpr std::uint32_t kHtbDefault = 0x10001;  // 1:1, the class all traffic goes to

rtnl_tc* tc(rtnl_qdisc* q) {
  return reinterpret_cast<rtnl_tc*>(q);
}

QdiscRef qdisc_object(const QdiscRequest& req) {
  QdiscRef q(rtnl_qdisc_alloc());
  if (!q.get()) throw Error("rtnl_qdisc_alloc failed", ENOMEM);
  rtnl_tc_set_ifindex(tc(q.get()), req.ifindex);
  rtnl_tc_set_parent(tc(q.get()), TC_H_ROOT);
  if (int err = rtnl_tc_set_kind(tc(q.get()), req.kind.c_str()); err < 0)
    throw Error(fmt::format("qdisc kind {}: {}", req.kind, nl_geterror(err)), EINVAL);
  if (req.kind == "tbf") {
    rtnl_qdisc_tbf_set_rate(q.get(), static_cast<int>(req.rate_bits / 8),
                            static_cast<int>(req.burst_bytes), 0);
    // After the rate: the queue limit in bytes is what the rate drains in `latency`.
    rtnl_qdisc_tbf_set_limit_by_latency(q.get(), static_cast<int>(req.latency_us));
  } else if (req.kind == "htb") {
    rtnl_tc_set_handle(tc(q.get()), kHtbHandle);
    rtnl_htb_set_defcls(q.get(), kHtbDefault & 0xffff);
  } else if (req.kind == "netem") {
    if (req.delay_us) rtnl_netem_set_delay(q.get(), static_cast<int>(req.delay_us));
    if (req.jitter_us) rtnl_netem_set_jitter(q.get(), static_cast<int>(req.jitter_us));
    if (req.loss_percent > 0) {
      // A probability scaled to 2^32 - 1 (as tc sends it); libnl passes the int through.
      double scaled = std::round(req.loss_percent / 100.0 *
                                 static_cast<double>(std::numeric_limits<std::uint32_t>::max()));
      rtnl_netem_set_loss(q.get(), static_cast<int>(static_cast<std::uint32_t>(scaled)));
    }
    if (req.limit) rtnl_netem_set_limit(q.get(), static_cast<int>(req.limit));
  }
  return q;
}

}  // namespace

std::vector<std::uint8_t> Rtnl::qdisc_request(const QdiscRequest& req) {
  QdiscRef q = qdisc_object(req);
  return built_request(
      [&](nl_msg** m) {
        return rtnl_qdisc_build_add_request(q.get(), NLM_F_CREATE | NLM_F_REPLACE, m);
      },
      req.kind);
}

void Rtnl::replace_qdisc(const QdiscRequest& req) {
  QdiscRef q = qdisc_object(req);
  const std::string what = fmt::format("set {} qdisc on interface {}", req.kind, req.ifindex);
  check(rtnl_qdisc_add(sk_.get(), q.get(), NLM_F_CREATE | NLM_F_REPLACE), what);
  if (req.kind != "htb") return;
  ClassRef c(rtnl_class_alloc());
  if (!c.get()) throw Error("rtnl_class_alloc failed", ENOMEM);
  auto* t = reinterpret_cast<rtnl_tc*>(c.get());
  rtnl_tc_set_ifindex(t, req.ifindex);
  rtnl_tc_set_parent(t, kHtbHandle);
  rtnl_tc_set_handle(t, kHtbDefault);
  rtnl_tc_set_kind(t, "htb");
  rtnl_htb_set_rate(c.get(), static_cast<std::uint32_t>(req.rate_bits / 8));
  rtnl_htb_set_ceil(
      c.get(), static_cast<std::uint32_t>((req.ceil_bits ? req.ceil_bits : req.rate_bits) / 8));
  if (req.burst_bytes) rtnl_htb_set_rbuffer(c.get(), req.burst_bytes);
  check(rtnl_class_add(sk_.get(), c.get(), NLM_F_CREATE), what + " (its class 1:1)");
}

void Rtnl::del_qdisc(int ifindex) {
  QdiscRef q(rtnl_qdisc_alloc());
  rtnl_tc_set_ifindex(tc(q.get()), ifindex);
  rtnl_tc_set_parent(tc(q.get()), TC_H_ROOT);
  check(rtnl_qdisc_delete(sk_.get(), q.get()),
        fmt::format("delete the root qdisc of interface {}", ifindex));
}

std::vector<QdiscState> Rtnl::qdiscs() {
  nl_cache* raw = nullptr;
  check(rtnl_qdisc_alloc_cache(sk_.get(), &raw), "dump qdiscs");
  CacheRef cache(raw);
  std::vector<QdiscState> out;
  for_each<rtnl_qdisc>(cache, [&](rtnl_qdisc* q) {
    if (rtnl_tc_get_parent(tc(q)) != TC_H_ROOT) return;
    QdiscState s;
    s.ifindex = rtnl_tc_get_ifindex(tc(q));
    s.kind = rtnl_tc_get_kind(tc(q)) ? rtnl_tc_get_kind(tc(q)) : "";
    s.handle = rtnl_tc_get_handle(tc(q));
    s.parent = TC_H_ROOT;
    if (s.kind == "tbf") {
      s.rate_bytes = static_cast<std::uint64_t>(rtnl_qdisc_tbf_get_rate(q));
      s.burst_bytes = static_cast<std::uint32_t>(rtnl_qdisc_tbf_get_rate_bucket(q));
    }
    out.push_back(std::move(s));
  });
  return out;
}

}  // namespace nslab
