// pmtu_udp: sends UDP datagrams of a given size with a given path-MTU discovery mode and reports
// what the kernel did: each send's result, each error-queue entry (sock_extended_err and the
// offender), and the socket's path MTU afterwards. IPv4 and IPv6.

#include <time.h>

#include <linux/errqueue.h>
#include <netinet/ip.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "../common/probe.hpp"

namespace {

const std::map<std::string, std::pair<int, int>> kModes = {
    {"want", {IP_PMTUDISC_WANT, IPV6_PMTUDISC_WANT}},
    {"do", {IP_PMTUDISC_DO, IPV6_PMTUDISC_DO}},
    {"dont", {IP_PMTUDISC_DONT, IPV6_PMTUDISC_DONT}},
    {"probe", {IP_PMTUDISC_PROBE, IPV6_PMTUDISC_PROBE}},
};

int path_mtu(int fd, bool v6) {
  int mtu = 0;
  socklen_t len = sizeof mtu;
  if (getsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_MTU : IP_MTU, &mtu, &len) < 0)
    return -errno;
  return mtu;
}

// Every datagram begins with its tag, "seq=N;", and an ICMP error quotes the start of the
// datagram it answers: that, not the moment it arrived, says which datagram an entry is for.
std::string tag_of(long seq) {
  return "seq=" + std::to_string(seq) + ";";
}

// The datagram a quoted payload names, or 0 when the quote is too short to hold a whole tag.
long seq_quoted(const char* data, std::size_t len) {
  std::string_view q(data, len);
  if (q.substr(0, 4) != "seq=") return 0;
  auto end = q.find(';', 4);
  if (end == std::string_view::npos || end == 4 || end > 24) return 0;
  long seq = 0;
  for (char c : q.substr(4, end - 4)) {
    if (c < '0' || c > '9') return 0;
    seq = seq * 10 + (c - '0');
  }
  return seq;
}

using Clock = std::chrono::steady_clock;

// Reads every queued error and prints it with the datagram it answers (sent_at[seq - 1] is when
// datagram seq was sent; the last one's send() just returned). Adds the datagrams that got an
// entry to `answered`; returns how many entries there were.
int drain_errqueue(int fd, const std::vector<Clock::time_point>& sent_at,
                   std::set<long>& answered) {
  int entries = 0;
  const long sending = static_cast<long>(sent_at.size());
  std::vector<char> payload(65536);
  for (;;) {
    alignas(cmsghdr) char control[512];
    iovec iov{payload.data(), payload.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t len = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (len < 0) break;
    ++entries;
    probe::for_each_cmsg(msg, [&](cmsghdr* c) {
      bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
      bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) return;
      auto* ee = reinterpret_cast<sock_extended_err*>(CMSG_DATA(c));
      auto* offender = SO_EE_OFFENDER(ee);
      probe::Json rec;
      // A local error quotes nothing (ip_local_error, ipv6_local_error): the send() that just
      // returned queued it. Any other entry names its datagram by the quote, or is left unnamed.
      long seq = seq_quoted(payload.data(), static_cast<std::size_t>(len));
      const char* by = "payload";
      if (seq == 0 && ee->ee_origin == SO_EE_ORIGIN_LOCAL) {
        seq = sending;
        by = "local send";
      }
      if (seq > sending) seq = 0;  // a quote no datagram of ours carried
      if (seq != 0) {
        rec["seq"] = seq;
        rec["seq_from"] = by;
        answered.insert(seq);
      }
      rec.update({{"ee_errno", probe::errno_name(static_cast<int>(ee->ee_errno))},
                  {"ee_origin", probe::ee_origin_name(ee->ee_origin)},
                  {"ee_type", ee->ee_type},
                  {"ee_code", ee->ee_code},
                  {"ee_info", ee->ee_info},
                  {"ee_data", ee->ee_data},
                  {"offender", offender->sa_family == AF_UNSPEC ? std::string("none")
                                                                : probe::address_text(offender)},
                  {"payload_len", len},
                  {"elapsed_us", probe::micros_since(sent_at[(seq ? seq : sending) - 1])}});
      probe::emit("errqueue", rec);
    });
  }
  return entries;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("pmtu_udp",
                   "Send UDP datagrams with a path-MTU discovery mode and report send results, "
                   "error-queue entries and the path MTU.");
  o.value("dst", "destination address (IPv4 or IPv6)")
      .value("port", "destination port", "9000")
      .value("size", "payload bytes per datagram", "1400")
      .value("pmtudisc", "want, do, dont or probe", "want")
      .value("count", "datagrams to send", "1")
      .optional("sizes",
                "comma-separated payload sizes, one datagram each (instead of --size, --count)")
      .value("watch", "after sending, wait this long for the path MTU to change (expiry)", "0")
      .value("timeout", "how long to wait for an error after each send", "1s")
      .optional("src", "bind to this source address before connecting")
      .flag("no-recverr", "leave IP_RECVERR off")
      .flag("send-after-watch", "after the watch, send 1 byte and report the path MTU again");
  o.parse(argc, argv);
  auto mode = kModes.find(o.str("pmtudisc"));
  if (mode == kModes.end()) {
    std::fprintf(stderr, "pmtu_udp: --pmtudisc must be want, do, dont or probe\n");
    return probe::kUsage;
  }

  auto dst = probe::parse_address(o.str("dst"), static_cast<int>(o.integer("port")));
  bool v6 = dst.family() == AF_INET6;
  int level = v6 ? IPPROTO_IPV6 : IPPROTO_IP;
  nslab::UniqueFd fd_owner(socket(dst.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int fd = fd_owner.get();
  if (fd < 0) probe::fail("socket", errno);
  int on = !o.on("no-recverr");
  if (setsockopt(fd, level, v6 ? IPV6_RECVERR : IP_RECVERR, &on, sizeof on) < 0)
    probe::fail("setsockopt RECVERR", errno);
  int m = v6 ? mode->second.second : mode->second.first;
  if (setsockopt(fd, level, v6 ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER, &m, sizeof m) < 0)
    probe::fail("setsockopt MTU_DISCOVER", errno);
  if (!o.str("src").empty()) {
    auto src = probe::parse_address(o.str("src"), 0);
    if (bind(fd, src.get(), src.length) < 0) probe::fail("bind " + o.str("src"), errno);
  }
  // connect() looks the route up: a blackhole, unreachable or prohibit route, or a rule with
  // such an action, refuses here, and that is an observation, not a broken precondition.
  if (connect(fd, dst.get(), dst.length) < 0) {
    probe::emit("connect", {{"result", probe::errno_name(errno)}});
    return probe::kRan;
  }
  probe::emit("socket", {{"family", v6 ? "ipv6" : "ipv4"},
                         {"pmtudisc", o.str("pmtudisc")},
                         {"recverr", on == 1},
                         {"mtu", path_mtu(fd, v6)}});

  std::vector<std::size_t> sizes;
  if (!o.str("sizes").empty()) {
    std::string list = o.str("sizes");
    for (std::size_t at = 0; at <= list.size();) {
      auto comma = list.find(',', at);
      sizes.push_back(std::stoul(list.substr(at, comma - at)));
      if (comma == std::string::npos) break;
      at = comma + 1;
    }
  } else {
    sizes.assign(static_cast<std::size_t>(o.integer("count")),
                 static_cast<std::size_t>(o.integer("size")));
  }
  long seq = 0;
  std::set<long> answered;
  std::vector<Clock::time_point> sent_at;
  for (std::size_t size : sizes) {
    ++seq;
    std::string tag = tag_of(seq);
    std::vector<char> payload(size, 'x');
    std::copy_n(tag.begin(), std::min(tag.size(), size), payload.begin());
    sent_at.push_back(Clock::now());
    ssize_t r = send(fd, payload.data(), payload.size(), 0);
    int err = errno;
    probe::Json rec = {{"seq", seq}, {"size", payload.size()}};
    rec["result"] = r < 0 ? probe::errno_name(err) : "ok";
    probe::emit("send", rec);
    // The ICMP error (or a local one) arrives as POLLERR; wait, bounded, for this datagram's
    // own entry (an earlier datagram's may come first).
    probe::Deadline deadline(o.duration("timeout"));
    while (!answered.count(seq) && (probe::wait_fd(fd, 0, deadline) & POLLERR)) {
      if (drain_errqueue(fd, sent_at, answered) > 0) continue;
      // Nothing queued (no IP_RECVERR): POLLERR is the pending sk_err, which names no datagram.
      int so_error = 0;
      socklen_t len = sizeof so_error;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      probe::emit("so_error", {{"error", so_error ? probe::errno_name(so_error) : "0"},
                               {"while_waiting_for", seq}});
      answered.insert(seq);
    }
  }
  // A datagram timed out only if no entry named it while the probe ran, not just during its
  // own wait.
  for (long s = 1; s <= seq; ++s)
    if (!answered.count(s)) probe::emit("timeout", {{"waiting_for", "error"}, {"seq", s}});
  // A learned path MTU expires on a kernel timer; nothing signals it, so sample IP_MTU on a
  // timerfd every 50 ms until it changes or the bound passes.
  if (auto watch = o.duration("watch"); watch.count() > 0) {
    int before = path_mtu(fd, v6);
    auto t0 = std::chrono::steady_clock::now();
    probe::Deadline deadline(watch);
    nslab::UniqueFd tfd_owner(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    const int tfd = tfd_owner.get();
    itimerspec every{{0, 50'000'000}, {0, 50'000'000}};
    timerfd_settime(tfd, 0, &every, nullptr);
    int now = before;
    while (now == before && probe::wait_fd(tfd, POLLIN, deadline)) {
      uint64_t ticks;
      (void)!read(tfd, &ticks, sizeof ticks);
      now = path_mtu(fd, v6);
    }
    tfd_owner.reset();
    if (now != before)
      probe::emit("ip_mtu_changed",
                  {{"from", before}, {"to", now}, {"after_ms", probe::micros_since(t0) / 1000}});
    else
      probe::emit("timeout", {{"waiting_for", "ip_mtu change"}, {"mtu", now}});
  }
  probe::emit("ip_mtu", {{"family", v6 ? "ipv6" : "ipv4"}, {"mtu", path_mtu(fd, v6)}});
  if (o.on("send-after-watch")) {
    // A send checks the socket's cached route; an expired one is looked up again.
    ssize_t r = send(fd, "x", 1, 0);
    probe::emit("sent_again",
                {{"result", r < 0 ? probe::errno_name(errno) : "ok"}, {"mtu", path_mtu(fd, v6)}});
  }
  return probe::kRan;
}
