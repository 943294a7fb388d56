// unix_creds: credentials over Unix sockets. --case local (socket pairs in one process):
// SO_PEERCRED; SO_PASSCRED with SCM_CREDENTIALS filled in by the kernel on datagram and stream
// sockets; forged pid/uid/gid refused or accepted; SO_PEERPIDFD and SCM_PIDFD where the kernel
// has them. --as-uid N drops to another uid first (needs real root). --case server / client
// do SO_PEERCRED across nodes over a filesystem socket.

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "../common/probe.hpp"

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

namespace {

probe::Json creds(const ucred& c) {
  return {{"pid", c.pid}, {"uid", c.uid}, {"gid", c.gid}};
}

// The "Pid:" a pidfd refers to, from /proc/self/fdinfo, into out["pid"] (-1 is the kernel's
// word for a process that is gone). When fdinfo cannot be read, out["pid_error"] says why and
// there is no "pid": a failed read must never look like a reaped process.
void pidfd_pid(int fd, probe::Json& out) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  if (!in) {
    out["pid_error"] = probe::errno_name(errno ? errno : ENOENT);
    return;
  }
  for (std::string line; std::getline(in, line);)
    if (line.rfind("Pid:", 0) == 0) {
      out["pid"] = std::stol(line.substr(4));
      return;
    }
  out["pid_error"] = "no Pid line in fdinfo";
}

// What a pidfd says of its process: the pid (-1 once it is gone) and whether it has exited
// (a pidfd polls readable then).
probe::Json pidfd_facts(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  probe::Json out = probe::Json::object();
  pidfd_pid(pidfd, out);
  out["exited"] = poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
  return out;
}

// Sends one byte, with SCM_CREDENTIALS `c` when given. Returns 0 or errno.
int send_with(int fd, const ucred* c) {
  char byte = 'x';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (c) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_CREDENTIALS;
    cm->cmsg_len = CMSG_LEN(sizeof(ucred));
    std::memcpy(CMSG_DATA(cm), c, sizeof(ucred));
  }
  return sendmsg(fd, &msg, 0) < 0 ? errno : 0;
}

// Receives one message and reports its SCM_CREDENTIALS / SCM_PIDFD.
probe::Json receive(int fd) {
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[256];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  probe::Json out = probe::Json::object();
  if (recvmsg(fd, &msg, MSG_DONTWAIT) < 0) return {{"result", probe::errno_name(errno)}};
  out["result"] = "ok";
  probe::for_each_cmsg(msg, [&](cmsghdr* c) {
    if (c->cmsg_level != SOL_SOCKET) return;
    if (c->cmsg_type == SCM_CREDENTIALS) {
      ucred u;
      std::memcpy(&u, CMSG_DATA(c), sizeof u);
      out["scm_credentials"] = creds(u);
    } else if (c->cmsg_type == SCM_PIDFD) {
      int pfd;
      std::memcpy(&pfd, CMSG_DATA(c), sizeof pfd);
      // Before 6.16 a sender that was already reaped gives no fd: the cmsg carries the negative
      // errno of the failed pidfd_prepare() (scm_pidfd_recv() puts it as it is).
      if (pfd < 0) {
        out["scm_pidfd"] = {{"fd", pfd}, {"error", probe::errno_name(-pfd)}};
        return;
      }
      const nslab::UniqueFd received(pfd);  // the kernel installed it in this process
      out["scm_pidfd"] = pidfd_facts(pfd);
      out["scm_pidfd"]["cloexec"] = (fcntl(pfd, F_GETFD) & FD_CLOEXEC) != 0;
    }
  });
  return out;
}

int local(const probe::Options& o) {
  if (!o.str("as-uid").empty()) {
    auto id = static_cast<uid_t>(o.integer("as-uid"));
    if (setgroups(0, nullptr) < 0 || setresgid(id, id, id) < 0 || setresuid(id, id, id) < 0) {
      if (errno == EPERM || errno == EINVAL)
        probe::skip("switching to another uid needs real root");
      probe::fail("setresuid", errno);
    }
  }
  ucred self{getpid(), getuid(), getgid()};
  probe::emit("self", creds(self));
  probe::FdPair sp = probe::FdPair::socketpair(SOCK_STREAM | SOCK_CLOEXEC);
  ucred peer{};
  socklen_t len = sizeof peer;
  if (getsockopt(sp[0], SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0)
    probe::emit("so_peercred", creds(peer));
  else
    probe::emit("so_peercred", {{"result", probe::errno_name(errno)}});

  int pidfd = -1;
  len = sizeof pidfd;
  if (getsockopt(sp[0], SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0) {
    const nslab::UniqueFd owned(pidfd);
    probe::Json j = {{"result", "ok"}};
    pidfd_pid(pidfd, j);
    probe::emit("so_peerpidfd", j);
  } else {
    probe::emit("so_peerpidfd", {{"result", probe::errno_name(errno)}});
  }
  sp.close(0);
  sp.close(1);

  for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
    const char* t = type == SOCK_DGRAM ? "dgram" : "stream";
    probe::FdPair p = probe::FdPair::socketpair(type | SOCK_CLOEXEC);
    int one = 1;
    setsockopt(p[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    // The kernel fills in the sender's credentials when it sends none.
    send_with(p[0], nullptr);
    probe::Json r = receive(p[1]);
    r["type"] = t;
    r["sent"] = "none";
    probe::emit("received", r);
    // Forgeries: another existing pid (our parent's; when the parent is outside our PID
    // namespace, getppid() is 0 and the namespace's init, 1, is the other pid we can name),
    // a pid that exists nowhere in our PID namespace (the largest pid_max allows, in a lab
    // namespace of a handful of processes), another uid, another gid.
    const pid_t other = getppid() > 0 ? getppid() : 1;
    const pid_t missing = 4194303;
    if (kill(missing, 0) == 0 || errno != ESRCH) probe::fail("pid 4194303 exists here", EEXIST);
    struct {
      const char* what;
      ucred c;
    } forged[] = {{"own", self},
                  {"pid", {other, self.uid, self.gid}},
                  {"missing-pid", {missing, self.uid, self.gid}},
                  {"uid", {self.pid, self.uid + 4242, self.gid}},
                  {"gid", {self.pid, self.uid, self.gid + 4242}}};
    for (const auto& f : forged) {
      int err = send_with(p[0], &f.c);
      probe::Json rec = {{"type", t},
                         {"forged", f.what},
                         {"claimed", creds(f.c)},
                         {"result", err ? probe::errno_name(err) : "ok"}};
      if (!err) rec["received"] = receive(p[1]).value("scm_credentials", probe::Json());
      probe::emit("send_credentials", rec);
    }
    if (type == SOCK_DGRAM) {
      int on = 1;
      if (setsockopt(p[1], SOL_SOCKET, SO_PASSPIDFD, &on, sizeof on) == 0) {
        send_with(p[0], nullptr);
        probe::Json r2 = receive(p[1]);
        r2["type"] = t;
        r2["passpidfd"] = true;
        probe::emit("received", r2);
      } else {
        probe::emit("so_passpidfd", {{"result", probe::errno_name(errno)}});
      }
    }
    p.close(0);
    p.close(1);
  }
  return probe::kRan;
}

int server(const probe::Options& o) {
  nslab::UniqueFd sfd_owner = probe::termination_signals();
  const int sfd = sfd_owner.get();
  const std::string& path = o.str("path");
  nslab::UniqueFd ls_owner = probe::unix_listener(path);
  const int ls = ls_owner.get();
  chmod(path.c_str(), 0777);  // a client of another uid may connect
  probe::emit("ready", {{"path", o.str("path")}});
  probe::Deadline deadline(o.duration("timeout"));
  pollfd p[2] = {{ls, POLLIN, 0}, {sfd, POLLIN, 0}};
  if (poll(p, 2, deadline.ms_left()) > 0 && (p[0].revents & POLLIN)) {
    nslab::UniqueFd c_owner(accept4(ls, nullptr, nullptr, SOCK_CLOEXEC));
    const int c = c_owner.get();
    ucred peer{};
    socklen_t l = sizeof peer;
    int peercred_err = getsockopt(c, SOL_SOCKET, SO_PEERCRED, &peer, &l) < 0 ? errno : 0;
    // The client writes its own pid: compare what it says with what the kernel says (only
    // when both were read).
    char buf[32] = {};
    probe::wait_fd(c, POLLIN, deadline);
    ssize_t n = read(c, buf, sizeof buf - 1);
    probe::Json rec =
        peercred_err ? probe::Json{{"result", probe::errno_name(peercred_err)}} : creds(peer);
    if (n > 0) rec["client_says_pid"] = std::atol(buf);
    if (n > 0 && !peercred_err) rec["same_pid"] = std::atol(buf) == peer.pid;
    probe::emit("peer", rec);
    c_owner.reset();
  } else {
    probe::emit_timeout("client");
  }
  unlink(path.c_str());
  return probe::kRan;
}

int client(const probe::Options& o) {
  socklen_t len;
  sockaddr_un a = probe::unix_path(o.str("path"), len);
  nslab::UniqueFd fd_owner(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int fd = fd_owner.get();
  int r = connect(fd, reinterpret_cast<sockaddr*>(&a), len);
  probe::emit("connect", {{"result", r < 0 ? probe::errno_name(errno) : "ok"}, {"pid", getpid()}});
  if (r == 0) {
    std::string pid = std::to_string(getpid());
    (void)!write(fd, pid.data(), pid.size());
  }
  return probe::kRan;
}

// A stream listener on an abstract name, with `passpidfd` inherited by what it accepts.
nslab::UniqueFd abstract_listener(const std::string& name, bool passpidfd, sockaddr_un& a,
                                  socklen_t& len) {
  a = sockaddr_un{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path + 1, name.data(), name.size());
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  nslab::UniqueFd ls(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int on = 1;
  if (passpidfd) setsockopt(ls.get(), SOL_SOCKET, SO_PASSPIDFD, &on, sizeof on);
  if (bind(ls.get(), reinterpret_cast<sockaddr*>(&a), len) < 0 || listen(ls.get(), 4) < 0)
    probe::fail("abstract listener", errno);
  return ls;
}

// A stream socket connected to `a`, or none.
nslab::UniqueFd connect_to(const sockaddr_un& a, socklen_t len) {
  nslab::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&a), len) < 0) fd.reset();
  return fd;
}

// One byte from a child through a pipe, within the deadline: '\0' when none came.
char byte_from(int fd, const probe::Deadline& d) {
  char c = '\0';
  if (probe::wait_fd(fd, POLLIN, d) && read(fd, &c, 1) != 1) c = '\0';
  return c;
}

probe::Json peercred_of(int fd) {
  ucred c{};
  socklen_t l = sizeof c;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &l) < 0)
    return {{"result", probe::errno_name(errno)}};
  return creds(c);
}

// SO_PEERCRED is what the peer was at connect(): a child connects as root, drops to --as-uid,
// connects again. The server's two accepted sockets keep the two sets of ids.
int peercred_fixed(const probe::Options& o) {
  sockaddr_un a;
  socklen_t len;
  nslab::UniqueFd ls_owner(abstract_listener("nslab-peercred-fixed", false, a, len));
  const int ls = ls_owner.get();
  probe::FdPair dropped = probe::FdPair::pipe();
  auto id = static_cast<uid_t>(o.str("as-uid").empty() ? 4242 : o.integer("as-uid"));
  pid_t kid = fork();
  if (kid == 0) {
    nslab::UniqueFd first_owner(connect_to(a, len));
    const int first = first_owner.get();
    bool ok =
        setgroups(0, nullptr) == 0 && setresgid(id, id, id) == 0 && setresuid(id, id, id) == 0;
    nslab::UniqueFd second_owner = ok ? connect_to(a, len) : nslab::UniqueFd();
    const int second = second_owner.get();
    (void)!write(dropped[1], ok && first >= 0 && second >= 0 ? "y" : "n", 1);
    _exit(0);
  }
  probe::Deadline deadline(o.duration("timeout"));
  char c = byte_from(dropped[0], deadline);
  waitpid(kid, nullptr, 0);
  if (c != 'y') probe::skip("switching to another uid needs real root");
  nslab::UniqueFd first_owner(accept4(ls, nullptr, nullptr, SOCK_CLOEXEC));
  const int first = first_owner.get();
  nslab::UniqueFd second_owner(accept4(ls, nullptr, nullptr, SOCK_CLOEXEC));
  const int second = second_owner.get();
  probe::emit("peercred_fixed", {{"child_pid", kid},
                                 {"connected_as_root", peercred_of(first)},
                                 {"connected_after_drop", peercred_of(second)}});
  return probe::kRan;
}

// A peer that has exited and been reaped: SO_PEERPIDFD and SCM_PIDFD for it.
int reaped_peer() {
  sockaddr_un a;
  socklen_t len;
  nslab::UniqueFd ls_owner(abstract_listener("nslab-reaped-peer", true, a, len));
  const int ls = ls_owner.get();
  pid_t kid = fork();
  if (kid == 0) {
    nslab::UniqueFd fd_owner(connect_to(a, len));
    const int fd = fd_owner.get();
    _exit(fd >= 0 && send_with(fd, nullptr) == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(kid, &status, 0);  // reaped before anything is read
  nslab::UniqueFd c_owner(accept4(ls, nullptr, nullptr, SOCK_CLOEXEC));
  const int c = c_owner.get();
  probe::Json rec = {{"child_pid", kid}, {"child_sent", WIFEXITED(status) && !WEXITSTATUS(status)}};
  int pidfd = -1;
  socklen_t l = sizeof pidfd;
  if (getsockopt(c, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &l) < 0) {
    rec["so_peerpidfd"] = {{"result", probe::errno_name(errno)}};
  } else {
    const nslab::UniqueFd owned(pidfd);
    rec["so_peerpidfd"] = pidfd_facts(pidfd);
    rec["so_peerpidfd"]["result"] = "ok";
  }
  probe::Json got = receive(c);
  rec["recv"] = got["result"];
  rec["scm_pidfd"] = got.value("scm_pidfd", probe::Json());
  probe::emit("reaped_peer", rec);
  return probe::kRan;
}

// Receives one message on `fd` (SO_PASSCRED set) and returns its SCM_CREDENTIALS.
probe::Json credentials_received(int fd, const probe::Deadline& d) {
  probe::wait_fd(fd, POLLIN, d);
  return receive(fd).value("scm_credentials", probe::Json());
}

// SCM_CREDENTIALS are translated into the receiver's namespaces: a uid its user namespace does
// not map is the overflow uid, a pid its PID namespace cannot see is 0. Children of the probe
// take new namespaces (unshare) and report, in order, what they received.
int translation(const probe::Options& o) {
  probe::Deadline deadline(o.duration("timeout"));
  int on = 1;
  // 1. The receiver in a new user namespace with no mapping; the sender is this process.
  {
    probe::FdPair sp = probe::FdPair::socketpair(SOCK_DGRAM | SOCK_CLOEXEC);
    setsockopt(sp[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    probe::FdPair ready = probe::FdPair::pipe();
    pid_t kid = fork();
    if (kid == 0) {
      int r = unshare(CLONE_NEWUSER);
      (void)!write(ready[1], r == 0 ? "y" : "n", 1);
      if (r == 0)
        probe::emit("receiver_in_new_userns",
                    {{"own_uid", getuid()}, {"received", credentials_received(sp[1], deadline)}});
      _exit(0);
    }
    if (byte_from(ready[0], deadline) == 'y') send_with(sp[0], nullptr);
    waitpid(kid, nullptr, 0);
    probe::emit("sender", {{"pid", getpid()}, {"uid", getuid()}});
  }
  // 2. The receiver, then the sender, in a new PID namespace (pid 1 there); the other end is
  //    this process. The middle child stays in ours and reports its child's pid as we see it.
  {
    probe::FdPair to_inner = probe::FdPair::socketpair(SOCK_DGRAM | SOCK_CLOEXEC);
    probe::FdPair to_outer = probe::FdPair::socketpair(SOCK_DGRAM | SOCK_CLOEXEC);
    setsockopt(to_inner[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    setsockopt(to_outer[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    probe::FdPair ready = probe::FdPair::pipe();
    probe::FdPair pid_pipe = probe::FdPair::pipe();
    pid_t middle = fork();
    if (middle == 0) {
      if (unshare(CLONE_NEWPID) < 0) {
        (void)!write(ready[1], "n", 1);
        _exit(0);
      }
      pid_t inner = fork();
      if (inner == 0) {
        (void)!write(ready[1], "y", 1);
        probe::emit(
            "receiver_in_new_pidns",
            {{"own_pid", getpid()}, {"received", credentials_received(to_inner[1], deadline)}});
        send_with(to_outer[0], nullptr);
        _exit(0);
      }
      (void)!write(pid_pipe[1], &inner, sizeof inner);
      waitpid(inner, nullptr, 0);
      _exit(0);
    }
    if (byte_from(ready[0], deadline) == 'y') {
      send_with(to_inner[0], nullptr);
      pid_t inner = -1;
      if (probe::wait_fd(pid_pipe[0], POLLIN, deadline))
        (void)!read(pid_pipe[0], &inner, sizeof inner);
      probe::Json got = credentials_received(to_outer[1], deadline);
      probe::emit("sender_in_new_pidns",
                  {{"sender_pid_here", inner}, {"received", got}, {"receiver_pid", getpid()}});
    } else {
      probe::emit("sender_in_new_pidns", {{"result", "unshare CLONE_NEWPID refused"}});
    }
    waitpid(middle, nullptr, 0);
  }
  return probe::kRan;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("unix_creds",
                   "Credentials over Unix sockets: --case "
                   "local|server|client|peercred-fixed|reaped-peer|translation.");
  o.value("case", "local, server, client, peercred-fixed, reaped-peer or translation")
      .optional("as-uid",
                "local: switch to this uid (and gid) first; peercred-fixed: the uid to drop to "
                "(4242 when not given); both need real root")
      .value("path", "server, client: filesystem socket path", "/tmp/nslab-creds.sock")
      .value("timeout", "server: how long to wait for the client", "10s");
  o.parse(argc, argv);
  const std::string& c = o.str("case");
  if (c == "local") return local(o);
  if (c == "server") return server(o);
  if (c == "client") return client(o);
  if (c == "peercred-fixed") return peercred_fixed(o);
  if (c == "reaped-peer") return reaped_peer();
  if (c == "translation") return translation(o);
  std::fprintf(stderr, "unix_creds: unknown --case '%s'\n", c.c_str());
  return probe::kUsage;
}
