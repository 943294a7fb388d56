// rtnl_request: rtnetlink requests and their answers, one --op at a time: NEWADDR / DELADDR /
// DELROUTE / GETROUTE (a lookup) / NEWLINK (bridge) / SETLINK mtu / GETLINK, with NLM_F_ACK (an
// NLMSG_ERROR with error 0), NLM_F_ECHO (the new object comes back first), errors as negative errno
// in nlmsgerr, and the extended-ack text with NETLINK_EXT_ACK. --op burst adds --count addresses
// without waiting.

#include <fcntl.h>
#include <poll.h>

#include <map>

#include "../common/rtnl.hpp"

extern "C" unsigned int if_nametoindex(const char* ifname) noexcept;

namespace {

// Extended-ack text after an nlmsgerr (NLM_F_ACK_TLVS; NLM_F_CAPPED: the request is not echoed).
std::string extack(const nlmsghdr* h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
  std::size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - NLMSG_HDRLEN;
  const char* base = reinterpret_cast<const char*>(h);
  int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(off);
  auto at = probe::rtnl::attrs(reinterpret_cast<const rtattr*>(base + off), len);
  if (auto* m = at[NLMSGERR_ATTR_MSG]) return static_cast<const char*>(RTA_DATA(m));
  return "";
}

// Reads what answers `seq` until its NLMSG_ERROR (an ack, or an error, which comes whether or
// not an ack was asked for) or the deadline. At the deadline: `timeout` when an answer was
// due, `no_reply` when nothing at all came (a silent success), `no_ack` when replies came but
// no NLMSG_ERROR.
void replies(probe::rtnl::Socket& s, unsigned seq, const probe::Deadline& d, bool expect_any) {
  alignas(nlmsghdr) char buf[65536];
  long seen = 0;  // messages for `seq`
  for (;;) {
    if (!probe::wait_fd(s.fd, POLLIN, d)) {
      const char* what = expect_any ? "timeout" : seen ? "no_ack" : "no_reply";
      probe::emit(what, {{"waiting_for", "reply"}, {"seq", seq}, {"messages", seen}});
      return;
    }
    ssize_t len = recv(s.fd, buf, sizeof buf, 0);
    if (len < 0) probe::fail("recv", errno);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(len));
         h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      ++seen;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        if (e->error == 0) {
          // NLM_F_CAPPED: the ack does not carry the request back.
          probe::emit("ack", {{"seq", seq},
                              {"error", 0},
                              {"capped", (h->nlmsg_flags & NLM_F_CAPPED) != 0},
                              {"length", h->nlmsg_len}});
        } else {
          probe::Json rec = {{"seq", seq},
                             {"error", probe::errno_name(-e->error)},
                             {"errno", -e->error},
                             {"ack_tlvs", (h->nlmsg_flags & NLM_F_ACK_TLVS) != 0}};
          if (auto t = extack(h); !t.empty()) rec["extack"] = t;
          probe::emit("error", rec);
          return;  // an error ends the exchange, asked-for ack or not
        }
        if (!expect_any) continue;  // an ack nobody asked for would be a finding: keep reading
        return;
      }
      probe::Json o = probe::rtnl::describe(h);
      o["seq"] = h->nlmsg_seq;
      o["port_id"] = h->nlmsg_pid;  // ours for an answer or an echo (NLM_F_ECHO)
      probe::emit("reply", o);
    }
  }
}

bool parse_prefix(const std::string& text, int& family, unsigned char* bytes, int& len) {
  auto slash = text.find('/');
  std::string a = text.substr(0, slash);
  len = slash == std::string::npos ? -1 : std::stoi(text.substr(slash + 1));
  family = a.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (len < 0) len = family == AF_INET ? 32 : 128;
  return inet_pton(family, a.c_str(), bytes) == 1;
}

// The first datagram of a link dump read into a --buffer-byte buffer, three ways, each on a
// fresh dump: plainly (cut, MSG_TRUNC in msg_flags), with MSG_TRUNC (the real length, and still
// cut), and with MSG_PEEK|MSG_TRUNC (the real length, and the datagram stays). The next read,
// into a large buffer, says whether the first datagram is still there or gone.
int small_buffer(const probe::Options& o) {
  probe::Deadline d(o.duration("timeout"));
  auto room = static_cast<std::size_t>(o.integer("buffer"));
  for (const std::string how : {"plain", "trunc", "peek-trunc"}) {
    probe::rtnl::Socket s;
    probe::rtnl::Request r;
    auto* ifi = r.start<ifinfomsg>(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
    ifi->ifi_family = AF_UNSPEC;
    s.send(r.h);
    if (!probe::wait_fd(s.fd, POLLIN, d)) {
      probe::emit_timeout("dump");
      return probe::kRan;
    }
    std::vector<char> small(room);
    iovec iov{small.data(), small.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    int flags = how == "plain" ? 0 : how == "trunc" ? MSG_TRUNC : MSG_PEEK | MSG_TRUNC;
    ssize_t n = recvmsg(s.fd, &msg, MSG_DONTWAIT | flags);
    probe::Json rec = {{"read", how},
                       {"buffer", room},
                       {"result", n < 0 ? probe::errno_name(errno) : std::to_string(n)},
                       {"msg_trunc", (msg.msg_flags & MSG_TRUNC) != 0}};
    if (n >= static_cast<ssize_t>(sizeof(nlmsghdr)))
      rec["first_type"] =
          probe::rtnl::type_name(reinterpret_cast<const nlmsghdr*>(small.data())->nlmsg_type);
    alignas(nlmsghdr) char big[65536];
    ssize_t next = probe::wait_fd(s.fd, POLLIN, d) ? recv(s.fd, big, sizeof big, MSG_DONTWAIT) : -1;
    rec["next_read"] = next < 0 ? probe::errno_name(errno) : std::to_string(next);
    if (next >= static_cast<ssize_t>(sizeof(nlmsghdr)))
      rec["next_type"] = probe::rtnl::type_name(reinterpret_cast<const nlmsghdr*>(big)->nlmsg_type);
    probe::emit("small_buffer", rec);
  }
  return probe::kRan;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("rtnl_request", "One rtnetlink request and its answers over raw netlink.");
  o.value("op",
          "add-address, del-address, del-route, get-route, add-bridge, set-mtu, get-link, burst "
          "or small-buffer")
      .value("dev", "interface name", "eth0")
      .value("address", "add/del-address: prefix, e.g. 10.0.9.1/24", "10.0.9.1/24")
      .value("to", "del-route: destination prefix; get-route: destination address", "10.99.0.0/16")
      .value("mtu", "set-mtu: the MTU to ask for", "1400")
      .value("count", "burst: how many addresses to add", "100")
      .value("buffer", "small-buffer: bytes to read a dump's first datagram into", "64")
      .optional("touch", "burst: create this file once all are acknowledged")
      .flag("echo", "set NLM_F_ECHO")
      .flag("no-ack", "leave NLM_F_ACK off")
      .flag("no-ext-ack", "leave NETLINK_EXT_ACK off")
      .value("timeout", "bound on waiting for replies", "2s");
  o.parse(argc, argv);
  probe::rtnl::Socket s;
  if (!o.on("no-ext-ack")) s.enable(NETLINK_EXT_ACK);
  probe::Deadline d(o.duration("timeout"));
  unsigned short flags =
      NLM_F_REQUEST | (o.on("no-ack") ? 0 : NLM_F_ACK) | (o.on("echo") ? NLM_F_ECHO : 0);
  const std::string& op = o.str("op");
  unsigned ifindex = if_nametoindex(o.str("dev").c_str());
  probe::rtnl::Request r;

  if (op == "add-address" || op == "del-address" || op == "burst") {
    long count = op == "burst" ? o.integer("count") : 1;
    std::vector<unsigned> seqs;
    for (long i = 0; i < count; ++i) {
      probe::rtnl::Request q;
      unsigned char bytes[16] = {};
      int family = 0, len = 0;
      std::string text = op == "burst" ? "10.200." + std::to_string(i / 250) + "." +
                                             std::to_string(i % 250 + 1) + "/32"
                                       : o.str("address");
      if (!parse_prefix(text, family, bytes, len)) probe::fail("bad address " + text, EINVAL);
      bool add = op != "del-address";
      auto* ifa = q.start<ifaddrmsg>(add ? RTM_NEWADDR : RTM_DELADDR,
                                     flags | (add ? NLM_F_CREATE | NLM_F_EXCL : 0));
      ifa->ifa_family = static_cast<unsigned char>(family);
      ifa->ifa_prefixlen = static_cast<unsigned char>(len);
      ifa->ifa_index = ifindex;
      std::size_t n = family == AF_INET ? 4 : 16;
      q.attr(IFA_LOCAL, bytes, n);
      q.attr(IFA_ADDRESS, bytes, n);
      seqs.push_back(s.send(q.h));
      if (op != "burst")
        probe::emit("request", {{"op", op},
                                {"seq", seqs.back()},
                                {"address", text},
                                {"ack", !o.on("no-ack")},
                                {"echo", o.on("echo")},
                                {"port_id", s.port}});
    }
    if (op == "burst") {
      // Each request ends in one NLMSG_ERROR: an ack (error 0) or an error.
      long acked = 0, failed = 0;
      std::map<std::string, long> errors;
      alignas(nlmsghdr) char buf[65536];
      while (acked + failed < count && probe::wait_fd(s.fd, POLLIN, d)) {
        ssize_t len = recv(s.fd, buf, sizeof buf, 0);
        for (auto* h = reinterpret_cast<nlmsghdr*>(buf);
             len > 0 && NLMSG_OK(h, static_cast<unsigned>(len)); h = NLMSG_NEXT(h, len)) {
          if (h->nlmsg_type != NLMSG_ERROR) continue;
          int err = static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
          if (err == 0) {
            ++acked;
          } else {
            ++failed;
            ++errors[probe::errno_name(-err)];
          }
        }
      }
      probe::emit("burst",
                  {{"requests", count}, {"acked", acked}, {"failed", failed}, {"errors", errors}});
      if (!o.str("touch").empty())
        nslab::UniqueFd(open(o.str("touch").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
      return probe::kRan;
    }
    replies(s, seqs.back(), d, !o.on("no-ack"));
    return probe::kRan;
  }
  if (op == "del-route" || op == "get-route") {  // get-route: a lookup, as `ip route get`
    unsigned char bytes[16] = {};
    int family = 0, len = 0;
    if (!parse_prefix(o.str("to"), family, bytes, len)) probe::fail("bad prefix", EINVAL);
    auto* rt = r.start<rtmsg>(op == "del-route" ? RTM_DELROUTE : RTM_GETROUTE, flags);
    rt->rtm_family = static_cast<unsigned char>(family);
    rt->rtm_dst_len = static_cast<unsigned char>(len);
    if (op == "del-route") {
      rt->rtm_table = RT_TABLE_MAIN;
      rt->rtm_scope = RT_SCOPE_NOWHERE;
    }
    r.attr(RTA_DST, bytes, family == AF_INET ? 4 : 16);
  } else if (op == "add-bridge") {
    auto* ifi = r.start<ifinfomsg>(RTM_NEWLINK, flags | NLM_F_CREATE | NLM_F_EXCL);
    ifi->ifi_family = AF_UNSPEC;
    r.attr(IFLA_IFNAME, o.str("dev").c_str(), o.str("dev").size() + 1);
    // IFLA_LINKINFO { IFLA_INFO_KIND "bridge" }, nested by hand.
    char nested[64] = {};
    auto* kind = reinterpret_cast<rtattr*>(nested);
    kind->rta_type = IFLA_INFO_KIND;
    kind->rta_len = static_cast<unsigned short>(RTA_LENGTH(7));
    std::memcpy(RTA_DATA(kind), "bridge", 7);
    r.attr(IFLA_LINKINFO, nested, RTA_ALIGN(kind->rta_len));
  } else if (op == "set-mtu") {
    auto* ifi = r.start<ifinfomsg>(RTM_NEWLINK, flags);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = static_cast<int>(ifindex);
    unsigned mtu = static_cast<unsigned>(o.integer("mtu"));
    r.attr(IFLA_MTU, &mtu, sizeof mtu);
  } else if (op == "small-buffer") {
    return small_buffer(o);
  } else if (op == "get-link") {
    auto* ifi = r.start<ifinfomsg>(RTM_GETLINK, NLM_F_REQUEST | (o.on("no-ack") ? 0 : NLM_F_ACK));
    ifi->ifi_family = AF_UNSPEC;
    r.attr(IFLA_IFNAME, o.str("dev").c_str(), o.str("dev").size() + 1);
  } else {
    std::fprintf(stderr, "rtnl_request: unknown --op '%s'\n", op.c_str());
    return probe::kUsage;
  }
  unsigned seq = s.send(r.h);
  probe::emit("request", {{"op", op},
                          {"seq", seq},
                          {"ack", !o.on("no-ack")},
                          {"echo", o.on("echo")},
                          {"port_id", s.port}});
  replies(s, seq, d, !o.on("no-ack") || op == "get-link" || op == "get-route");
  return probe::kRan;
}
