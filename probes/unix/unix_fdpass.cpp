// unix_fdpass: file descriptors over Unix sockets (SCM_RIGHTS). --case local (socket pairs):
// stream and datagram with a 1-byte and a 0-byte payload, several fds in order, MSG_CTRUNC with a
// short control buffer, the SCM_MAX_FD limit, MSG_CMSG_CLOEXEC. --case give / take: the "remote
// dup": a socket created in one node's network namespace, passed over a filesystem socket to a
// process in another node, keeps working in its own namespace. --case inflight-limit: the
// per-user cap on fds in flight (ETOOMANYREFS). --case gc: cycles of sockets in flight freed by
// the garbage collector.

#include <fcntl.h>
#include <grp.h>
#include <linux/sockios.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "../common/probe.hpp"

namespace {

constexpr int kScmMaxFd = 253;

// Sends `fds` with a payload of `payload` bytes; returns sendmsg's result or -errno.
ssize_t send_fds(int sock, const std::vector<int>& fds, std::size_t payload) {
  char data[1] = {'x'};
  iovec iov{data, payload};
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  ssize_t r = sendmsg(sock, &msg, MSG_NOSIGNAL);
  return r < 0 ? -errno : r;
}

struct Received {
  ssize_t bytes = -1;
  int err = 0;
  bool ctrunc = false;
  std::vector<nslab::UniqueFd> fds;  // installed in this process by the kernel
};

Received receive_fds(int sock, std::size_t control_bytes, int flags = 0) {
  char data[16];
  iovec iov{data, sizeof data};
  std::vector<char> control(control_bytes);
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  Received r;
  r.bytes = recvmsg(sock, &msg, MSG_DONTWAIT | flags);
  if (r.bytes < 0) {
    r.err = errno;
    return r;
  }
  r.ctrunc = msg.msg_flags & MSG_CTRUNC;
  probe::for_each_cmsg(msg, [&](cmsghdr* c) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return;
    std::size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      r.fds.emplace_back(fd);
    }
  });
  return r;
}

std::string result_of(ssize_t r) {
  return r < 0 ? probe::errno_name(static_cast<int>(-r)) : std::to_string(r);
}

ino_t inode_of(int fd) {
  struct stat st {};
  fstat(fd, &st);
  return st.st_ino;
}

// Does the received fd work? It is the read end of a pipe whose write end we still hold.
bool pipe_works(int received, int write_end) {
  (void)!write(write_end, "y", 1);
  char c = 0;
  return read(received, &c, 1) == 1 && c == 'y';
}

std::vector<int> fds_of(const std::vector<nslab::UniqueFd>& owned) {
  std::vector<int> fds;
  for (const auto& fd : owned) fds.push_back(fd.get());
  return fds;
}

// How many of these pipe write ends have no reader left (POLLERR, at once).
int readerless(const std::vector<int>& writers) {
  int n = 0;
  for (int w : writers) {
    pollfd p{w, POLLOUT, 0};
    if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR)) ++n;
  }
  return n;
}

int local() {
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    const char* t = type == SOCK_STREAM ? "stream" : "dgram";
    for (std::size_t payload : {1u, 0u}) {
      probe::FdPair sp = probe::FdPair::socketpair(type | SOCK_CLOEXEC);
      probe::FdPair pp = probe::FdPair::pipe();
      ssize_t s = send_fds(sp[0], {pp[0]}, payload);
      Received r = receive_fds(sp[1], 256);
      probe::Json rec = {{"type", t},
                         {"payload", payload},
                         {"sent", result_of(s)},
                         {"received_bytes", r.bytes < 0 ? probe::Json(probe::errno_name(r.err))
                                                        : probe::Json(r.bytes)},
                         {"fds", r.fds.size()}};
      if (!r.fds.empty()) rec["works"] = pipe_works(r.fds[0].get(), pp[1]);
      probe::emit("pass_one", rec);
    }
  }

  // Several fds in one message arrive in the order sent.
  {
    probe::FdPair sp = probe::FdPair::socketpair(SOCK_STREAM | SOCK_CLOEXEC);
    std::vector<probe::FdPair> pipes;
    std::vector<long> sent_inodes;
    for (int i = 0; i < 3; ++i) {
      const probe::FdPair& pp = pipes.emplace_back(probe::FdPair::pipe());
      sent_inodes.push_back(static_cast<long>(inode_of(pp[0])));
    }
    std::vector<int> to_send = {pipes[0][0], pipes[1][0], pipes[2][0]};
    send_fds(sp[0], to_send, 1);
    Received r = receive_fds(sp[1], 256);
    std::vector<long> got;
    for (const auto& fd : r.fds) got.push_back(static_cast<long>(inode_of(fd.get())));
    probe::emit(
        "pass_several",
        {{"sent", to_send.size()}, {"received", r.fds.size()}, {"in_order", got == sent_inodes}});
  }

  // A control buffer too short for what was sent: MSG_CTRUNC. The kernel installs the fds that
  // fit and closes the rest. The fds are pipes' read ends held only by the message, so a pipe
  // whose write end polls POLLERR has no reader left: the kernel closed that one.
  {
    probe::FdPair sp = probe::FdPair::socketpair(SOCK_DGRAM | SOCK_CLOEXEC);
    std::vector<nslab::UniqueFd> readers, writers;
    for (int i = 0; i < 4; ++i) {
      probe::FdPair pp = probe::FdPair::pipe();
      readers.push_back(pp.take(0));
      writers.push_back(pp.take(1));
    }
    send_fds(sp[0], fds_of(readers), 1);
    const std::size_t sent = readers.size();
    readers.clear();  // only the message holds them now
    int closed_before = readerless(fds_of(writers));
    std::size_t room = CMSG_SPACE(sizeof(int));  // 24 bytes on x86-64: room for two ints
    Received r = receive_fds(sp[1], room);
    probe::emit("ctrunc", {{"sent", sent},
                           {"control_bytes", room},
                           {"msg_ctrunc", r.ctrunc},
                           {"received", r.fds.size()},
                           {"closed_before", closed_before},
                           {"closed_by_kernel", readerless(fds_of(writers))}});
  }

  // SCM_MAX_FD: 253 per message; 254 is refused.
  for (int n : {kScmMaxFd, kScmMaxFd + 1}) {
    probe::FdPair sp = probe::FdPair::socketpair(SOCK_DGRAM | SOCK_CLOEXEC);
    const nslab::UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
    std::vector<int> fds(static_cast<std::size_t>(n), null.get());
    ssize_t s = send_fds(sp[0], fds, 1);
    Received r = receive_fds(sp[1], CMSG_SPACE(sizeof(int) * 300));
    probe::emit("max_fds", {{"sent_fds", n}, {"result", result_of(s)}, {"received", r.fds.size()}});
  }

  // FD_CLOEXEC on a received fd only with MSG_CMSG_CLOEXEC.
  for (bool flag : {false, true}) {
    probe::FdPair sp = probe::FdPair::socketpair(SOCK_DGRAM | SOCK_CLOEXEC);
    const nslab::UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
    send_fds(sp[0], {null.get()}, 1);
    Received r = receive_fds(sp[1], 64, flag ? MSG_CMSG_CLOEXEC : 0);
    probe::Json j = {{"msg_cmsg_cloexec", flag}, {"received", r.fds.size()}};
    if (r.bytes < 0) j["error"] = probe::errno_name(r.err);
    if (!r.fds.empty()) j["fd_cloexec"] = (fcntl(r.fds[0].get(), F_GETFD) & FD_CLOEXEC) != 0;
    probe::emit("cloexec", j);
  }
  return probe::kRan;
}

// Switches to uid and gid `id` with no capabilities (needs real root; skips otherwise).
void become(const std::string& as_uid) {
  if (as_uid.empty()) return;
  auto id = static_cast<uid_t>(std::stoul(as_uid));
  if (setgroups(0, nullptr) < 0 || setresgid(id, id, id) < 0 || setresuid(id, id, id) < 0) {
    if (errno == EPERM || errno == EINVAL) probe::skip("switching to another uid needs real root");
    probe::fail("setresuid", errno);
  }
}

// The fds a user has in flight are capped at the sender's RLIMIT_NOFILE, unless it has
// CAP_SYS_RESOURCE or CAP_SYS_ADMIN in the initial user namespace. With the limit lowered to
// --limit, one fd per message is sent and nothing received, until a send fails or --count were
// sent; then the receiver takes them all and one more send is tried.
int inflight_limit(const probe::Options& o) {
  become(o.str("as-uid"));
  auto limit = static_cast<rlim_t>(o.integer("limit"));
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = limit;
  if (setrlimit(RLIMIT_NOFILE, &rl) < 0) probe::fail("setrlimit", errno);
  probe::FdPair sp = probe::FdPair::socketpair(SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK);
  const nslab::UniqueFd null_owner(open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int null = null_owner.get();
  long sent = 0;
  ssize_t r = 0;
  for (long i = 0; i < o.integer("count"); ++i) {
    if ((r = send_fds(sp[0], {null}, 1)) < 0) break;
    ++sent;
  }
  probe::emit("inflight", {{"uid", getuid()},
                           {"limit", limit},
                           {"sent", sent},
                           {"result", r < 0 ? result_of(r) : "ok"}});
  long drained = 0;
  for (Received got; (got = receive_fds(sp[1], 64)).bytes > 0;) {
    drained += static_cast<long>(got.fds.size());
    got.fds.clear();  // closed before the next receive: RLIMIT_NOFILE is tight
  }
  probe::emit("after_drain",
              {{"received", drained}, {"send", result_of(send_fds(sp[0], {null}, 1))}});
  return probe::kRan;
}

// Sockets that hold each other in flight and nothing else: a cycle only the garbage collector
// frees. `none` (a pipe in flight on a pair that is then closed, no cycle), `self` (a socket
// holding itself) or `triangle` (three receivers, each holding the next). A pipe's read end
// rides in the cycle; once the collector frees the cycle, the pipe's write end polls POLLERR.
int gc(const probe::Options& o) {
  const std::string& cycle = o.str("cycle");
  probe::FdPair pp = probe::FdPair::pipe();
  std::vector<nslab::UniqueFd> senders, receivers;
  auto pair = [&] {
    probe::FdPair sp = probe::FdPair::socketpair(SOCK_STREAM | SOCK_CLOEXEC);
    const std::pair ends{sp[0], sp[1]};
    senders.push_back(sp.take(0));
    receivers.push_back(sp.take(1));
    return ends;
  };
  std::vector<ssize_t> sends;
  if (cycle == "none") {
    auto [a0, a1] = pair();
    sends.push_back(send_fds(a0, {pp[0]}, 1));
  } else if (cycle == "self") {  // a1 receives itself
    auto [a0, a1] = pair();
    sends.push_back(send_fds(a0, {a1, pp[0]}, 1));
  } else if (cycle == "triangle") {  // a1 holds b1, b1 holds c1, c1 holds a1
    auto [a0, a1] = pair();
    auto [b0, b1] = pair();
    auto [c0, c1] = pair();
    sends.push_back(send_fds(a0, {b1, pp[0]}, 1));
    sends.push_back(send_fds(b0, {c1}, 1));
    sends.push_back(send_fds(c0, {a1}, 1));
  } else {
    std::fprintf(stderr, "unix_fdpass: --cycle must be none, self or triangle\n");
    return probe::kUsage;
  }
  bool all_sent = std::all_of(sends.begin(), sends.end(), [](ssize_t r) { return r == 1; });
  pp.close(0);
  int held = 1 - readerless({pp[1]});
  // The receivers first: closing a socket that is in flight drops only our reference, and
  // starts nothing. Closing a sender releases it, and a release is what schedules the collector
  // while fds are in flight; by then the cycle is unreachable.
  receivers.clear();
  senders.clear();
  auto t0 = std::chrono::steady_clock::now();
  probe::Deadline deadline(o.duration("timeout"));
  pollfd p{pp[1], 0, 0};  // no events asked: only POLLERR, when the last reader is gone
  bool collected = poll(&p, 1, deadline.ms_left()) == 1 && (p.revents & POLLERR);
  probe::emit("gc", {{"cycle", cycle},
                     {"sent", all_sent},
                     {"held_in_flight", held == 1},
                     {"collected", collected},
                     {"micros", probe::micros_since(t0)}});
  pp.close(1);
  return probe::kRan;
}

// The inode of the network namespace a socket belongs to (SIOCGSKNS), or of ours (fd -1), as
// fields named `name`: NAME with the inode, or NAME_error with the errno when the kernel refused
// (SIOCGSKNS needs CAP_NET_ADMIN over the socket's namespace). Returns the inode, or -1.
long netns_of(int sock, const char* name, probe::Json& out) {
  const nslab::UniqueFd ns(sock < 0 ? open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
                                    : ioctl(sock, SIOCGSKNS));
  if (!ns) {
    out[std::string(name) + "_error"] = probe::errno_name(errno);
    return -1;
  }
  long ino = static_cast<long>(inode_of(ns.get()));
  out[name] = ino;
  return ino;
}

int give(const probe::Options& o) {
  nslab::UniqueFd sfd_owner = probe::termination_signals();
  const int sfd = sfd_owner.get();
  nslab::UniqueFd ls_owner = probe::unix_listener(o.str("path"));
  const int ls = ls_owner.get();
  // The socket to give away is born here, in this node's network namespace.
  nslab::UniqueFd udp_owner(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int udp = udp_owner.get();
  probe::Json ready = {{"path", o.str("path")}};
  netns_of(-1, "netns", ready);
  probe::emit("ready", ready);
  probe::Deadline deadline(o.duration("timeout"));
  pollfd p[2] = {{ls, POLLIN, 0}, {sfd, POLLIN, 0}};
  if (poll(p, 2, deadline.ms_left()) > 0 && (p[0].revents & POLLIN)) {
    nslab::UniqueFd c_owner(accept4(ls, nullptr, nullptr, SOCK_CLOEXEC));
    const int c = c_owner.get();
    ssize_t s = send_fds(c, {udp}, 1);
    probe::Json given = {{"result", result_of(s)}};
    netns_of(udp, "socket_netns", given);
    probe::emit("given", given);
    // Wait for the taker to finish with it (it closes the connection).
    probe::wait_fd(c, POLLIN, deadline);
    c_owner.reset();
  } else {
    probe::emit_timeout("taker");
  }
  unlink(o.str("path").c_str());
  return probe::kRan;
}

int take(const probe::Options& o) {
  socklen_t len;
  sockaddr_un a = probe::unix_path(o.str("path"), len);
  nslab::UniqueFd c_owner(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int c = c_owner.get();
  if (connect(c, reinterpret_cast<sockaddr*>(&a), len) < 0)
    probe::fail("connect " + o.str("path"), errno);
  probe::Deadline deadline(o.duration("timeout"));
  if (!probe::wait_fd(c, POLLIN, deadline)) {
    probe::emit_timeout("fd");
    return probe::kRan;
  }
  Received r = receive_fds(c, 64, MSG_CMSG_CLOEXEC);
  if (r.fds.empty()) probe::fail("no fd received", r.err);
  const int sock = r.fds[0].get();
  become(o.str("as-uid"));  // what an unprivileged holder of the socket can learn
  // same_netns only when both inodes were read: a refused SIOCGSKNS is an error field, never a
  // comparison with -1.
  probe::Json received = probe::Json::object();
  long own = netns_of(-1, "own_netns", received), theirs = netns_of(sock, "socket_netns", received);
  if (own >= 0 && theirs >= 0) received["same_netns"] = own == theirs;
  probe::emit("received", received);
  // Use it, and a socket of our own, towards the same address.
  auto dst = probe::parse_address(o.str("dst"), static_cast<int>(o.integer("port")));
  const char msg[] = "passed";
  ssize_t s1 = sendto(sock, msg, sizeof msg, 0, dst.get(), dst.length);
  probe::emit("sendto",
              {{"socket", "passed"}, {"result", s1 < 0 ? probe::errno_name(errno) : "ok"}});
  nslab::UniqueFd mine_owner(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int mine = mine_owner.get();
  const char own_msg[] = "own-socket";
  ssize_t s2 = sendto(mine, own_msg, sizeof own_msg, 0, dst.get(), dst.length);
  probe::emit("sendto", {{"socket", "own"}, {"result", s2 < 0 ? probe::errno_name(errno) : "ok"}});
  return probe::kRan;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("unix_fdpass",
                   "SCM_RIGHTS over Unix sockets: --case local|give|take|inflight-limit|gc.");
  o.value("case", "local, give or take")
      .value("path", "give, take: filesystem socket path", "/tmp/nslab-fdpass.sock")
      .value("dst", "take: IPv4 address to send to with the passed socket", "127.0.0.1")
      .value("port", "take: UDP port", "9000")
      .value("timeout", "bound on waiting", "10s")
      .value("limit", "inflight-limit: RLIMIT_NOFILE to set", "10")
      .value("count", "inflight-limit: fds to try to keep in flight", "30")
      .optional("as-uid",
                "inflight-limit: switch to this uid (and gid) first; take: once the fd arrived; "
                "needs real root")
      .value("cycle", "gc: none, self or triangle", "self");
  o.parse(argc, argv);
  const std::string& c = o.str("case");
  if (c == "local") return local();
  if (c == "give") return give(o);
  if (c == "take") return take(o);
  if (c == "inflight-limit") return inflight_limit(o);
  if (c == "gc") return gc(o);
  std::fprintf(stderr, "unix_fdpass: unknown --case '%s'\n", c.c_str());
  return probe::kUsage;
}
