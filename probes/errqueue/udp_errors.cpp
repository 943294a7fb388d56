// udp_errors: how UDP reports ICMP errors. One socket sends a datagram to each --dst; then the
// probe waits (POLLERR, bounded) and reports what the kernel says: pending SO_ERROR and recv()
// results on a connected socket, or error-queue entries (sock_extended_err, the offender, and the
// original destination from msg_name) on an unconnected one with IP_RECVERR.

#include <time.h>

#include <linux/errqueue.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <set>
#include <vector>

#include "../common/probe.hpp"

namespace {

// "10.0.2.1:9000" or "[fd00:2::1]:9000"
probe::SocketAddress endpoint(const std::string& s) {
  std::size_t colon = s.rfind(':');
  if (colon == std::string::npos) probe::fail("--dst needs ADDRESS:PORT, got '" + s + "'", EINVAL);
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return probe::parse_address(host, std::stoi(s.substr(colon + 1)));
}

// What every datagram carries: --size bytes of a pattern, so that an error queue entry's copy of
// the original payload can be compared with it.
std::string g_payload = "nslab";

int read_errqueue(int fd) {
  int n = 0;
  for (;;) {
    char payload[2048];
    alignas(cmsghdr) char control[512];
    probe::SocketAddress original;
    iovec iov{payload, sizeof payload};
    msghdr msg{};
    msg.msg_name = original.get();
    msg.msg_namelen = sizeof original.storage;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t len = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (len < 0) return n;
    int cmsgs = 0;
    probe::for_each_cmsg(msg, [&](cmsghdr*) { ++cmsgs; });
    probe::for_each_cmsg(msg, [&](cmsghdr* c) {
      if (!((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)))
        return;
      auto* ee = reinterpret_cast<sock_extended_err*>(CMSG_DATA(c));
      const sockaddr* off = SO_EE_OFFENDER(ee);
      ++n;
      probe::emit("errqueue", {{"ee_errno", probe::errno_name(static_cast<int>(ee->ee_errno))},
                               {"ee_origin", probe::ee_origin_name(ee->ee_origin)},
                               {"ee_type", ee->ee_type},
                               {"ee_code", ee->ee_code},
                               {"ee_info", ee->ee_info},
                               {"offender", off->sa_family == AF_UNSPEC ? std::string("none")
                                                                        : probe::address_text(off)},
                               {"dst", probe::address_text(original.get())},
                               {"dst_port", probe::port_of(original.get())},
                               {"payload_len", len},
                               {"payload_matches",
                                std::string(payload, static_cast<std::size_t>(len)) == g_payload},
                               {"msg_errqueue", (msg.msg_flags & MSG_ERRQUEUE) != 0},
                               {"cmsgs", cmsgs}});
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("udp_errors",
                   "Send a UDP datagram to each destination and report how errors come back: "
                   "SO_ERROR and recv() on a connected socket, the error queue with --recverr.");
  o.value("dst", "ADDRESS:PORT[,ADDRESS:PORT...] ([v6]:port for IPv6)")
      .flag("connect", "connect() to the (single) destination and use send()")
      .flag("recverr", "turn on IP_RECVERR / IPV6_RECVERR")
      .flag("each", "wait for the error of each datagram before sending the next")
      .flag("leave-so-error", "on POLLERR, do not read SO_ERROR (leave the error pending)")
      .value("expect", "how many errors to wait for", "1")
      .value("size", "payload bytes of each datagram", "6")
      .flag("send-through-errors",
            "connected: send, wait for POLLERR, send twice, wait for POLLERR, send once more, "
            "reporting each send's result (gVisor's ConnectAndSendNoReceiver)")
      .value("timeout", "bound on waiting for errors", "1s");
  o.parse(argc, argv);

  std::vector<probe::SocketAddress> dsts;
  std::string list = o.str("dst");
  for (std::size_t at = 0; at <= list.size();) {
    auto comma = list.find(',', at);
    dsts.push_back(endpoint(list.substr(at, comma - at)));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  int family = dsts.front().family();
  bool v6 = family == AF_INET6;
  nslab::UniqueFd fd_owner(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int fd = fd_owner.get();
  if (fd < 0) probe::fail("socket", errno);
  if (o.on("recverr")) {
    int one = 1;
    setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_RECVERR : IP_RECVERR, &one,
               sizeof one);
  }
  g_payload.assign(static_cast<std::size_t>(o.integer("size")), '\0');
  for (std::size_t i = 0; i < g_payload.size(); ++i) g_payload[i] = static_cast<char>('a' + i % 26);
  bool connected = o.on("connect");
  if (connected && connect(fd, dsts.front().get(), dsts.front().length) < 0)
    probe::fail("connect", errno);

  // Waits (bounded) for up to `want` errors and reports them.
  auto collect = [&](long want) {
    long got = 0;
    probe::Deadline deadline(o.duration("timeout"));
    while (got < want) {
      short ev = probe::wait_fd(fd, POLLIN, deadline);
      if (!ev) {
        probe::emit_timeout("error");
        return;
      }
      probe::emit("poll", {{"pollerr", (ev & POLLERR) != 0}, {"pollin", (ev & POLLIN) != 0}});
      if (o.on("recverr")) {
        int n = read_errqueue(fd);
        got += n;
        if (n) {
          // Dequeuing took the socket's pending error with it.
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
          probe::emit("so_error",
                      {{"error", err ? probe::errno_name(err) : "0"}, {"after_errqueue", true}});
          continue;
        }
      }
      if (o.on("leave-so-error")) {
        ++got;
        continue;
      }
      // Without the error queue the error is pending on the socket: SO_ERROR reads and clears it.
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      probe::emit("so_error", {{"error", err ? probe::errno_name(err) : "0"}});
      ++got;
      err = 0;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      probe::emit("so_error", {{"error", err ? probe::errno_name(err) : "0"}, {"again", true}});
    }
  };

  if (o.on("send-through-errors")) {
    if (!connected) probe::fail("--send-through-errors needs --connect", EINVAL);
    int n = 0;
    auto send_one = [&] {
      ssize_t r = send(fd, g_payload.data(), g_payload.size(), 0);
      probe::emit("send", {{"n", ++n}, {"result", r < 0 ? probe::errno_name(errno) : "ok"}});
    };
    auto wait_err = [&] {
      probe::Deadline deadline(o.duration("timeout"));
      short ev = probe::wait_fd(fd, POLLERR, deadline);
      probe::emit("poll", {{"pollerr", (ev & POLLERR) != 0}});
    };
    send_one();
    wait_err();
    send_one();  // carries the pending error
    send_one();  // the error was taken by the one before
    wait_err();
    send_one();
    return probe::kRan;
  }
  for (const auto& d : dsts) {
    ssize_t r = connected ? send(fd, g_payload.data(), g_payload.size(), 0)
                          : sendto(fd, g_payload.data(), g_payload.size(), 0, d.get(), d.length);
    probe::emit("send", {{"dst", probe::address_text(d.get())},
                         {"dst_port", probe::port_of(d.get())},
                         {"result", r < 0 ? probe::errno_name(errno) : "ok"}});
    if (o.on("each")) collect(1);
  }
  if (!o.on("each")) collect(o.integer("expect"));
  if (connected) {
    // The next send on a connected socket after an ICMP error: does it carry the error?
    char buf[16];
    ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    probe::emit("recv", {{"result", r < 0 ? probe::errno_name(errno) : std::to_string(r)}});
  }
  // Whatever the options, what the error queue still holds (with IP_RECVERR off the kernel
  // queues nothing: an observation, not an assumption).
  probe::emit("errqueue_left", {{"entries", read_errqueue(fd)}});
  return probe::kRan;
}
