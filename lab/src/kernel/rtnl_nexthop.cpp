// Nexthop objects (`ip nexthop`). libnl 3.7 has no type for them, so the messages are built
// here from <linux/nexthop.h>, with libnl's message and attribute functions.

#include <linux/nexthop.h>
#include <linux/rtnetlink.h>

#include <cstring>

#include <fmt/format.h>

#include "nslab/error.hpp"
#include "nslab/rtnl.hpp"
#include "rtnl_libnl.hpp"

namespace nslab {

using namespace rtnl_detail;

namespace {

MsgRef nexthop_message(int type, int flags, const NexthopRequest& req) {
  MsgRef msg(nlmsg_alloc_simple(type, flags));
  if (!msg.get()) throw Error("nlmsg_alloc failed", ENOMEM);
  nhmsg hdr{};
  // A group has no family of its own (the kernel: "Invalid family for group").
  // A deletion's header carries nothing but zeros (the kernel: "Invalid values in header").
  if (type == RTM_NEWNEXTHOP) {
    if (req.group.empty()) hdr.nh_family = static_cast<unsigned char>(family_af(req.family));
    hdr.nh_protocol = RTPROT_STATIC;
  }
  bool ok = nlmsg_append(msg.get(), &hdr, sizeof hdr, NLMSG_ALIGNTO) == 0 &&
            nla_put_u32(msg.get(), NHA_ID, req.id) == 0;
  if (type == RTM_NEWNEXTHOP) {
    if (!req.group.empty()) {
      std::vector<nexthop_grp> members;
      for (auto [id, weight] : req.group) {
        nexthop_grp g{};
        g.id = id;
        g.weight = static_cast<std::uint8_t>(weight - 1);  // the kernel's weight is this + 1
        members.push_back(g);
      }
      ok = ok && nla_put(msg.get(), NHA_GROUP, static_cast<int>(members.size() * sizeof members[0]),
                         members.data()) == 0;
    } else if (req.blackhole) {
      ok = ok && nla_put_flag(msg.get(), NHA_BLACKHOLE) == 0;
    } else {
      if (req.oif)
        ok = ok && nla_put_u32(msg.get(), NHA_OIF, static_cast<std::uint32_t>(req.oif)) == 0;
      if (req.via)
        ok = ok && nla_put(msg.get(), NHA_GATEWAY, req.via->family == Family::ipv4 ? 4 : 16,
                           req.via->bytes.data()) == 0;
    }
  }
  if (!ok) throw Error("nexthop message too long", ENOBUFS);
  return msg;
}

}  // namespace

std::vector<std::uint8_t> Rtnl::nexthop_request(const NexthopRequest& req, bool replace) {
  MsgRef msg =
      nexthop_message(RTM_NEWNEXTHOP, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL), req);
  return bytes_of(msg.get());
}

void Rtnl::add_nexthop(const NexthopRequest& req, bool replace) {
  MsgRef msg =
      nexthop_message(RTM_NEWNEXTHOP, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL), req);
  check(nl_send_sync(sk_.get(), msg.release()), fmt::format("add nexthop id {}", req.id));
}

void Rtnl::del_nexthop(std::uint32_t id) {
  MsgRef msg = nexthop_message(RTM_DELNEXTHOP, 0, NexthopRequest{.id = id});
  check(nl_send_sync(sk_.get(), msg.release()), fmt::format("delete nexthop id {}", id));
}

std::vector<NexthopState> Rtnl::nexthops() {
  nhmsg hdr{};
  std::vector<NexthopState> out;
  check(dump_raw(sk_.get(), RTM_GETNEXTHOP, &hdr, sizeof hdr,
                 [&](nlmsghdr* h) {
                   if (h->nlmsg_type != RTM_NEWNEXTHOP) return;
                   auto* nh = static_cast<nhmsg*>(nlmsg_data(h));
                   nlattr* tb[NHA_MAX + 1];
                   if (nlmsg_parse(h, sizeof(nhmsg), tb, NHA_MAX, nullptr) < 0 || !tb[NHA_ID])
                     return;
                   NexthopState s;
                   s.id = nla_get_u32(tb[NHA_ID]);
                   s.family = nh->nh_family;
                   s.blackhole = tb[NHA_BLACKHOLE] != nullptr;
                   if (tb[NHA_OIF]) s.oif = static_cast<int>(nla_get_u32(tb[NHA_OIF]));
                   if (tb[NHA_GATEWAY] &&
                       (nla_len(tb[NHA_GATEWAY]) == 4 || nla_len(tb[NHA_GATEWAY]) == 16)) {
                     IpAddress a;
                     a.family = nla_len(tb[NHA_GATEWAY]) == 4 ? Family::ipv4 : Family::ipv6;
                     std::memcpy(a.bytes.data(), nla_data(tb[NHA_GATEWAY]),
                                 static_cast<std::size_t>(nla_len(tb[NHA_GATEWAY])));
                     s.via = a;
                   }
                   if (tb[NHA_GROUP]) {
                     auto* g = static_cast<const nexthop_grp*>(nla_data(tb[NHA_GROUP]));
                     std::size_t n = static_cast<std::size_t>(nla_len(tb[NHA_GROUP])) / sizeof *g;
                     for (std::size_t i = 0; i < n; ++i)
                       s.group.emplace_back(g[i].id, g[i].weight + 1);
                   }
                   out.push_back(std::move(s));
                 }),
        "dump nexthops");
  return out;
}

}  // namespace nslab
