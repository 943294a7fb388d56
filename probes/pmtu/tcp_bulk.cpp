// tcp_bulk: a TCP bulk transfer, server or client role. The client connects, sends --bytes,
// half-closes and waits for the server's close (proof that everything arrived), all within
// --timeout; it reports what TCP_INFO says (MSS, path MTU, retransmissions, reordering), the
// node's TcpExt counters that moved during the transfer (why a segment was retransmitted), and
// either `done` or `stalled`. The server reports `ready`, then what it received.

#include <fcntl.h>
#include <linux/tcp.h>  // the kernel's tcp_info (glibc's lacks tcpi_bytes_acked)
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "../common/probe.hpp"

namespace {

probe::Json info_of(int fd) {
  struct tcp_info ti {};
  socklen_t len = sizeof ti;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
    return {{"error", probe::errno_name(errno)}};
  return {{"snd_mss", ti.tcpi_snd_mss},
          {"rcv_mss", ti.tcpi_rcv_mss},
          {"pmtu", ti.tcpi_pmtu},
          {"advmss", ti.tcpi_advmss},
          {"total_retrans", ti.tcpi_total_retrans},
          {"retransmits", ti.tcpi_retransmits},
          {"probes", ti.tcpi_probes},
          {"bytes_acked", ti.tcpi_bytes_acked},
          {"rtt_us", ti.tcpi_rtt},
          {"reordering", ti.tcpi_reordering},
          {"reord_seen", ti.tcpi_reord_seen},
          {"dsack_dups", ti.tcpi_dsack_dups}};
}

// The TcpExt counters of this process's network namespace (/proc/net/netstat: a line of names,
// then a line of values). Only the node's own sockets move them, so a delta over the transfer
// says what the sender's TCP did: loss probes, fast retransmits, reordering seen, DSACKs.
std::map<std::string, long> tcp_ext() {
  std::map<std::string, long> counters;
  std::ifstream in("/proc/net/netstat");
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    if (names.rfind("TcpExt:", 0) != 0) continue;
    std::istringstream n(names), v(values);
    std::string name, value;
    n >> name;
    v >> value;
    while (n >> name && v >> value) counters[name] = std::stol(value);
  }
  return counters;
}

probe::Json moved(const std::map<std::string, long>& before,
                  const std::map<std::string, long>& after) {
  probe::Json delta = probe::Json::object();
  for (const auto& [name, value] : after) {
    auto it = before.find(name);
    long d = value - (it == before.end() ? 0 : it->second);
    if (d != 0) delta[name] = d;
  }
  return delta;
}

int server(const probe::Options& o) {
  nslab::UniqueFd sfd_owner = probe::termination_signals();
  const int sfd = sfd_owner.get();
  nslab::UniqueFd ls_owner =
      probe::tcp_listener(o.str("bind"), static_cast<int>(o.integer("port")));
  const int ls = ls_owner.get();
  probe::emit("ready", {{"port", o.integer("port")}});
  probe::Deadline deadline(o.duration("timeout"));
  pollfd p[2] = {{ls, POLLIN, 0}, {sfd, POLLIN, 0}};
  if (poll(p, 2, deadline.ms_left()) <= 0 || (p[1].revents & POLLIN)) {
    if (!(p[1].revents & POLLIN)) probe::emit_timeout("connection");
    return probe::kRan;
  }
  probe::SocketAddress peer;
  peer.length = sizeof peer.storage;
  nslab::UniqueFd c_owner(accept4(ls, peer.get(), &peer.length, SOCK_CLOEXEC));
  const int c = c_owner.get();
  if (c < 0) probe::fail("accept", errno);
  probe::emit("accepted", {{"peer", probe::address_text(peer.get())}});
  auto t0 = std::chrono::steady_clock::now();
  long total = 0;
  std::vector<char> buf(1 << 16);
  for (;;) {
    pollfd q[2] = {{c, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(q, 2, deadline.ms_left()) <= 0 || (q[1].revents & POLLIN)) {
      probe::emit(
          "received",
          {{"bytes", total}, {"eof", false}, {"duration_ms", probe::micros_since(t0) / 1000}});
      return probe::kRan;
    }
    ssize_t n = read(c, buf.data(), buf.size());
    if (n <= 0) {
      probe::Json rec = {
          {"bytes", total}, {"eof", n == 0}, {"duration_ms", probe::micros_since(t0) / 1000}};
      if (n < 0) rec["result"] = probe::errno_name(errno);
      probe::emit("received", rec);
      break;
    }
    total += n;
  }
  return probe::kRan;
}

int client(const probe::Options& o) {
  auto dst = probe::parse_address(o.str("dst"), static_cast<int>(o.integer("port")));
  probe::Deadline deadline(o.duration("timeout"));
  auto counters = tcp_ext();
  auto t0 = std::chrono::steady_clock::now();
  auto [sock, result] = probe::tcp_connect(dst, deadline);
  const int fd = sock.get();
  if (result == "timeout") {
    probe::emit("connect", {{"result", "timeout"}});
    return probe::kRan;
  }
  probe::emit("connect", {{"result", result}, {"duration_ms", probe::micros_since(t0) / 1000}});
  if (result != "ok") return probe::kRan;

  long want = o.integer("bytes"), sent = 0;
  std::vector<char> buf(1 << 16, 'x');
  bool stalled = false;
  while (sent < want) {
    if (!(probe::wait_fd(fd, POLLOUT, deadline) & POLLOUT)) {
      stalled = true;
      break;
    }
    ssize_t n = send(fd, buf.data(),
                     std::min<std::size_t>(buf.size(), static_cast<std::size_t>(want - sent)),
                     MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      probe::emit("send", {{"result", probe::errno_name(errno)}, {"sent", sent}});
      stalled = true;
      break;
    }
    if (n > 0) sent += n;
  }
  // Everything is in the kernel's hands; the server's close says it all arrived.
  if (!stalled) {
    shutdown(fd, SHUT_WR);
    char c;
    short ev = probe::wait_fd(fd, POLLIN, deadline);
    stalled = !ev || read(fd, &c, 1) != 0;
  }
  probe::Json info = info_of(fd);
  info["tcp_ext"] = moved(counters, tcp_ext());
  probe::emit("tcp_info", info);
  long ms = probe::micros_since(t0) / 1000;
  // Done means the peer acknowledged every byte: tcpi_bytes_acked counts the SYN too (one more
  // than the data; the FIN, once acknowledged, another). The server's close alone is no proof:
  // one that gave up closes as well.
  const long acked = info.value("bytes_acked", 0L);
  const bool all_acked = acked >= sent + 1;
  if (stalled || !all_acked)
    probe::emit("stalled", {{"bytes_sent", sent},
                            {"bytes_acked", acked},
                            {"after_ms", ms},
                            {"reason", stalled ? "no progress within the timeout"
                                               : "the peer closed before acknowledging all"}});
  else
    probe::emit("done", {{"bytes", sent}, {"bytes_acked", acked}, {"duration_ms", ms}});
  // A client that gave up aborts (a reset, no FIN): an orphan still retransmitting its queue
  // would deliver it later, when a later step has changed the path (tcp_mtu_probing), and the
  // server's record would depend on when the scenario ended.
  if (stalled) {
    linger abort{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  }
  sock.reset();  // with SO_LINGER 0 when it gave up: a reset
  return probe::kRan;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("tcp_bulk",
                   "TCP bulk transfer. --role server listens and reports what it received; --role "
                   "client sends --bytes and reports done (with TCP_INFO) or stalled.");
  o.value("role", "server or client")
      .value("port", "TCP port", "9100")
      .value("bind", "server: local address (:: also accepts IPv4)", "::")
      .optional("dst", "client: server address")
      .value("bytes", "client: bytes to send", "1000000")
      .value("timeout", "bound on the whole transfer (client) or on waiting (server)", "10s");
  o.parse(argc, argv);
  if (o.str("role") == "server") return server(o);
  if (o.str("role") == "client") {
    if (o.str("dst").empty()) {
      std::fprintf(stderr, "tcp_bulk: --role client needs --dst\n");
      return probe::kUsage;
    }
    return client(o);
  }
  std::fprintf(stderr, "tcp_bulk: --role must be server or client\n");
  return probe::kUsage;
}
