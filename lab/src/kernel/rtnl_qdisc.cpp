// Root qdiscs (`tc qdisc replace dev D root ...`) through libnl-route's qdisc objects; each
// kind's options, and what follows its creation, are its kernel half (kinds/tbf.cpp, htb.cpp,
// netem.cpp).

#include <linux/pkt_sched.h>

#include <fmt/format.h>

#include "kinds/link_kinds.hpp"
#include "nslab/error.hpp"
#include "nslab/rtnl.hpp"
#include "rtnl_libnl.hpp"

namespace nslab {

using namespace rtnl_detail;

namespace {

rtnl_tc* tc(rtnl_qdisc* q) {
  return tc_of(q);
}

// The root qdisc object of a request, with its kind's options (kinds/).
QdiscRef qdisc_object(const QdiscRequest& req) {
  QdiscRef q(rtnl_qdisc_alloc());
  if (!q.get()) throw Error("rtnl_qdisc_alloc failed", ENOMEM);
  rtnl_tc_set_ifindex(tc(q.get()), req.ifindex);
  rtnl_tc_set_parent(tc(q.get()), TC_H_ROOT);
  if (int err = rtnl_tc_set_kind(tc(q.get()), req.kind.c_str()); err < 0)
    throw Error(fmt::format("qdisc kind {}: {}", req.kind, nl_geterror(err)), EINVAL);
  if (const QdiscKernelKind* kind = qdisc_kernel_kind(req.kind)) kind->fill(q.get(), req);
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
  if (const QdiscKernelKind* kind = qdisc_kernel_kind(req.kind); kind && kind->after)
    check(kind->after(sk_.get(), req), what + " (its class 1:1)");
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
    if (const QdiscKernelKind* kind = qdisc_kernel_kind(s.kind); kind && kind->read)
      kind->read(q, s);
    out.push_back(std::move(s));
  });
  return out;
}

}  // namespace nslab
