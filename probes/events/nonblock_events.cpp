// nonblock_events: what a non-blocking TCP socket sees, reported through poll() and epoll side
// by side. --role server (in one node) accepts and then holds, closes, half-closes or sends
// urgent data; --role client (in another) runs one --case: connect, refused, peer-close,
// half-close, send-after-close or urgent. --case full-buffer needs no server: both ends are in
// the probe, and it shows a full send buffer (EAGAIN, no POLLOUT until the peer reads).

#include <fcntl.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>

#include "../common/probe.hpp"

namespace {

probe::Json poll_flags(short ev) {
  probe::Json a = probe::Json::array();
  for (auto [bit, name] : {std::pair{POLLIN, "POLLIN"},
                           {POLLPRI, "POLLPRI"},
                           {POLLOUT, "POLLOUT"},
                           {POLLERR, "POLLERR"},
                           {POLLHUP, "POLLHUP"},
                           {POLLRDHUP, "POLLRDHUP"},
                           {POLLRDBAND, "POLLRDBAND"}})
    if (ev & bit) a.push_back(name);
  return a;
}

probe::Json epoll_flags(uint32_t ev) {
  probe::Json a = probe::Json::array();
  for (auto [bit, name] : {std::pair{EPOLLIN, "EPOLLIN"},
                           {EPOLLPRI, "EPOLLPRI"},
                           {EPOLLOUT, "EPOLLOUT"},
                           {EPOLLERR, "EPOLLERR"},
                           {EPOLLHUP, "EPOLLHUP"},
                           {EPOLLRDHUP, "EPOLLRDHUP"},
                           {EPOLLRDBAND, "EPOLLRDBAND"}})
    if (ev & static_cast<uint32_t>(bit)) a.push_back(name);
  return a;
}

// Waits (bounded) for any of `events` with poll(), then asks a level-triggered epoll about the
// same socket at that moment; reports both.
short wait_and_report(int fd, short events, const probe::Deadline& d, const std::string& what) {
  short ev = probe::wait_fd(fd, events, d);
  if (!ev) {
    probe::emit_timeout(what);
    return 0;
  }
  nslab::UniqueFd ep_owner(epoll_create1(EPOLL_CLOEXEC));
  const int ep = ep_owner.get();
  epoll_event e{};
  e.events = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
  epoll_event got{};
  int n = epoll_wait(ep, &got, 1, 0);
  ep_owner.reset();
  probe::emit("events", {{"waiting_for", what},
                         {"poll", poll_flags(ev)},
                         {"epoll", n == 1 ? epoll_flags(got.events) : probe::Json::array()}});
  return ev;
}

std::string so_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err ? probe::errno_name(err) : "0";
}

std::string result(ssize_t r) {
  return r < 0 ? probe::errno_name(errno) : std::to_string(r);
}

int server(const probe::Options& o) {
  nslab::UniqueFd sfd_owner = probe::termination_signals();
  const int sfd = sfd_owner.get();
  nslab::UniqueFd ls_owner =
      probe::tcp_listener(o.str("bind"), static_cast<int>(o.integer("port")));
  const int ls = ls_owner.get();
  probe::emit("ready", {{"port", o.integer("port")}, {"action", o.str("action")}});
  probe::Deadline deadline(o.duration("timeout"));
  std::vector<nslab::UniqueFd> held;
  for (;;) {
    pollfd p[2] = {{ls, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(p, 2, deadline.ms_left()) <= 0 || (p[1].revents & POLLIN)) break;
    nslab::UniqueFd c_owner(accept4(ls, nullptr, nullptr, SOCK_CLOEXEC));
    const int c = c_owner.get();
    if (c < 0) continue;
    const std::string& a = o.str("action");
    // The record first: a client that sees the action's effect (EOF, urgent data) then knows
    // the record is already written, so a run always has it.
    probe::emit("accepted", {{"action", a}});
    if (a == "close") {
      c_owner.reset();
    } else if (a == "shutdown-write") {
      shutdown(c, SHUT_WR);
      held.push_back(std::move(c_owner));
    } else if (a == "urgent") {
      send(c, "ab", 2, 0);
      send(c, "!", 1, MSG_OOB);
      held.push_back(std::move(c_owner));
    } else {
      held.push_back(std::move(c_owner));
    }
  }
  held.clear();
  return probe::kRan;
}

// A full send buffer, in one process over --dst (a local address): the client writes until
// send() gives EAGAIN while the accepted end reads nothing; then POLLOUT stays away for --idle;
// then the accepted end reads everything and POLLOUT comes back.
int full_buffer(const probe::Options& o) {
  probe::Deadline d(o.duration("timeout"));
  int port = static_cast<int>(o.integer("port"));
  nslab::UniqueFd ls_owner = probe::tcp_listener(o.str("dst"), port);
  const int ls = ls_owner.get();
  auto dst = probe::parse_address(o.str("dst"), port);
  probe::Connected c = probe::tcp_connect(dst, d);
  if (c.result != "ok") probe::fail("connect: " + c.result);
  nslab::UniqueFd peer_owner(accept4(ls, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  const int peer = peer_owner.get();
  std::vector<char> chunk(65536, 'x');
  long queued = 0;
  ssize_t n;
  while ((n = send(c.fd.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL)) > 0) queued += n;
  std::string last = result(n);
  pollfd now{c.fd.get(), POLLOUT, 0};
  poll(&now, 1, 0);
  probe::emit("full", {{"queued", queued}, {"send", last}, {"poll", poll_flags(now.revents)}});
  // Nothing reads: POLLOUT must not come while --idle passes.
  probe::Deadline idle(o.duration("idle"));
  short early = probe::wait_fd(c.fd.get(), POLLOUT, idle);
  probe::emit("while_peer_idle",
              {{"idle_ms", o.duration("idle").count()}, {"poll", poll_flags(early)}});
  long drained = 0;
  char buf[65536];
  short ev = 0;
  while (
      !(ev = probe::wait_fd(c.fd.get(), POLLOUT, probe::Deadline(std::chrono::milliseconds(0))))) {
    if (!probe::wait_fd(peer, POLLIN, d)) break;
    while ((n = recv(peer, buf, sizeof buf, 0)) > 0) drained += n;
  }
  probe::emit("after_drain", {{"drained_before_pollout", drained > 0},
                              {"poll", poll_flags(ev)},
                              {"send", result(send(c.fd.get(), "x", 1, MSG_NOSIGNAL))}});
  peer_owner.reset();
  c.fd.reset();
  return probe::kRan;
}

int client(const probe::Options& o) {
  const std::string& c = o.str("case");
  if (c == "full-buffer") return full_buffer(o);
  auto dst = probe::parse_address(o.str("dst"), static_cast<int>(o.integer("port")));
  const nslab::UniqueFd sock(socket(dst.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const int fd = sock.get();
  probe::Deadline d(o.duration("timeout"));
  nslab::UniqueFd urgent_signals;  // SIGURG, for the urgent case
  int sfd = -1;
  if (c == "urgent") {
    // SIGURG to this process when urgent data arrives (F_SETOWN), read from a signalfd.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGURG);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    urgent_signals.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    sfd = urgent_signals.get();
    fcntl(fd, F_SETOWN, getpid());
  }
  int r = connect(fd, dst.get(), dst.length);
  probe::emit("connect", {{"result", r < 0 ? probe::errno_name(errno) : "ok"}});
  short ev = wait_and_report(fd, POLLOUT, d, "connect");
  probe::emit("so_error", {{"error", so_error(fd)}});
  if (c == "refused") {
    probe::emit("so_error", {{"error", so_error(fd)}, {"again", true}});
    // connect() again on the failed socket, twice: what each call says.
    probe::emit("connect_again", {{"result", result(connect(fd, dst.get(), dst.length))}});
    probe::emit("connect_again", {{"result", result(connect(fd, dst.get(), dst.length))}});
    return probe::kRan;
  }
  if (!ev) return probe::kRan;
  if (c == "connect") {
    probe::emit("connect_again", {{"result", result(connect(fd, dst.get(), dst.length))}});
    probe::emit("connect_again", {{"result", result(connect(fd, dst.get(), dst.length))}});
    char buf[16];
    probe::emit("read", {{"result", result(read(fd, buf, sizeof buf))}, {"data_waiting", false}});
    return probe::kRan;
  }
  if (c == "peer-close" || c == "half-close") {
    // The wakeup can come a moment before the kernel marks the receive side shut (poll reads
    // socket state without its lock): report it, and again once read() has returned 0.
    wait_and_report(fd, POLLIN | POLLRDHUP, d, "peer");
    char buf[16];
    probe::emit("read", {{"result", result(read(fd, buf, sizeof buf))}});
    pollfd settled{fd, POLLIN | POLLOUT | POLLRDHUP, 0};
    poll(&settled, 1, 0);
    probe::emit("after_read", {{"poll", poll_flags(settled.revents)}});
    return probe::kRan;
  }
  if (c == "send-after-close") {
    // The peer closed: its FIN is read, then what sending into the closed connection does.
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &pipe_set, nullptr);  // SIGPIPE stays pending: seen on a signalfd
    nslab::UniqueFd pipe_fd_owner(signalfd(-1, &pipe_set, SFD_CLOEXEC | SFD_NONBLOCK));
    const int pipe_fd = pipe_fd_owner.get();
    auto sigpipe_pending = [&] {
      signalfd_siginfo si;
      return read(pipe_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si);
    };
    wait_and_report(fd, POLLIN | POLLRDHUP, d, "peer");
    char buf[16];
    probe::emit("read", {{"result", result(read(fd, buf, sizeof buf))}});
    auto send_one = [&](int n, int flags) {
      ssize_t r = send(fd, "x", 1, flags);
      probe::emit("send", {{"n", n},
                           {"nosignal", (flags & MSG_NOSIGNAL) != 0},
                           {"result", result(r)},
                           {"sigpipe", sigpipe_pending()}});
    };
    send_one(1, MSG_NOSIGNAL);  // accepted: the peer answers it with a reset
    wait_and_report(fd, POLLERR, d, "reset");
    send_one(2, MSG_NOSIGNAL);
    send_one(3, 0);
    return probe::kRan;
  }
  if (c == "urgent") {
    wait_and_report(fd, POLLPRI, d, "urgent data");
    pollfd sp{sfd, POLLIN, 0};
    bool sigurg = poll(&sp, 1, d.ms_left()) == 1;
    probe::emit("sigurg", {{"received", sigurg}});
    int mark = 0;
    ioctl(fd, SIOCATMARK, &mark);
    char buf[16];
    ssize_t n = read(fd, buf, sizeof buf);
    probe::emit("read", {{"result", result(n)},
                         {"at_mark_before", mark == 1},
                         {"data", n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : ""}});
    ioctl(fd, SIOCATMARK, &mark);
    char oob = 0;
    ssize_t m = recv(fd, &oob, 1, MSG_OOB);
    probe::emit("read_oob", {{"at_mark", mark == 1},
                             {"result", result(m)},
                             {"data", m == 1 ? std::string(1, oob) : ""}});
    return probe::kRan;
  }
  std::fprintf(stderr, "nonblock_events: unknown --case '%s'\n", c.c_str());
  return probe::kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("nonblock_events",
                   "Non-blocking TCP events through poll and epoll. --role server --action "
                   "hold|close|shutdown-write|urgent; --role client --case "
                   "connect|refused|peer-close|half-close|send-after-close|urgent|full-buffer "
                   "(full-buffer: both ends in this process, over --dst).");
  o.value("role", "server or client")
      .value("port", "TCP port", "9400")
      .value("bind", "server: local address", "::")
      .value("action", "server: what to do with each connection", "hold")
      .optional("dst", "client: server address")
      .value("case", "client: which behaviour to observe", "connect")
      .value("idle", "full-buffer: how long POLLOUT must stay away while the peer reads nothing",
             "200ms")
      .value("timeout", "bound on every wait", "5s");
  o.parse(argc, argv);
  if (o.str("role") == "server") return server(o);
  if (o.str("role") == "client" && !o.str("dst").empty()) return client(o);
  std::fprintf(stderr, "nonblock_events: --role server, or --role client with --dst\n");
  return probe::kUsage;
}
