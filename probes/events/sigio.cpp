// sigio: signal-driven I/O on UDP sockets (O_ASYNC + F_SETOWN + F_SETSIG). --case send (in one
// node) sends a datagram to each --ports, --rounds times. The receiving cases (in another):
//   rt        F_SETSIG SIGRTMIN+1: each wakeup queues a signal carrying si_fd and si_band,
//             consumed with sigtimedwait as the main loop
//   plain     plain SIGIO: many events coalesce into one signal without an fd
//   overflow  RLIMIT_SIGPENDING lowered: once the realtime queue is full, SIGIO signals the
//             overflow; poll then finds the events
//   thread    F_SETOWN_EX F_OWNER_TID: the signal is pending for one chosen thread only
// And in one node, over loopback:
//   tcp-codes POLL_OUT when a full TCP send buffer drains, POLL_HUP when the connection closes
//   group     F_SETOWN to a process group: every process of the group gets the signal

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <future>
#include <thread>
#include <vector>

#include "../common/probe.hpp"

namespace {

std::vector<int> parse_ports(const std::string& list) {
  std::vector<int> out;
  for (std::size_t at = 0; at <= list.size();) {
    auto comma = list.find(',', at);
    out.push_back(std::stoi(list.substr(at, comma - at)));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

const char* code_name(int code) {
  switch (code) {
    case POLL_IN:
      return "POLL_IN";
    case POLL_OUT:
      return "POLL_OUT";
    case POLL_ERR:
      return "POLL_ERR";
    case POLL_HUP:
      return "POLL_HUP";
    case SI_KERNEL:
      return "SI_KERNEL";
    default:
      return "other";
  }
}

std::string signal_name(int sig) {
  if (sig == SIGIO) return "SIGIO";
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) return "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  return std::to_string(sig);
}

int sender(const probe::Options& o) {
  auto ports = parse_ports(o.str("ports"));
  auto first = probe::parse_address(o.str("dst"), ports.front());
  nslab::UniqueFd fd_owner(socket(first.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int fd = fd_owner.get();
  long sent = 0;
  for (long round = 0; round < o.integer("rounds"); ++round)
    for (int port : ports) {
      auto dst = probe::parse_address(o.str("dst"), port);
      if (sendto(fd, "x", 1, 0, dst.get(), dst.length) == 1) ++sent;
    }
  probe::emit("sent", {{"datagrams", sent}});
  return probe::kRan;
}

struct Receiver {
  std::vector<nslab::UniqueFd> fds;
  std::vector<int> ports;
  int index_of(int fd) const {
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (fds[i].get() == fd) return static_cast<int>(i);
    return -1;
  }
};

// UDP sockets on --ports, each O_ASYNC to `owner` (a pid, or with `tid` a thread) with `sig`.
Receiver open_sockets(const probe::Options& o, int sig, pid_t tid = 0) {
  Receiver r;
  r.ports = parse_ports(o.str("ports"));
  for (int port : r.ports) {
    auto a = probe::parse_address(o.str("bind"), port);
    const int fd =
        r.fds.emplace_back(socket(a.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)).get();
    if (bind(fd, a.get(), a.length) < 0) probe::fail("bind", errno);
    if (tid) {
      f_owner_ex owner{F_OWNER_TID, tid};
      fcntl(fd, F_SETOWN_EX, &owner);
    } else {
      fcntl(fd, F_SETOWN, getpid());
    }
    fcntl(fd, F_SETSIG, sig);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
  }
  return r;
}

int drain(int fd) {
  int n = 0;
  char buf[64];
  while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) ++n;
  return n;
}

// Reads every datagram until `want` have arrived, polling all sockets (bounded); signals stay
// pending meanwhile because they are blocked.
long collect_by_poll(const Receiver& r, long want, const probe::Deadline& d) {
  long got = 0;
  while (got < want) {
    std::vector<pollfd> p;
    for (const auto& fd : r.fds) p.push_back({fd.get(), POLLIN, 0});
    if (poll(p.data(), p.size(), d.ms_left()) <= 0) break;
    for (const auto& x : p)
      if (x.revents & POLLIN) got += drain(x.fd);
  }
  return got;
}

// Is `sig` pending for thread `tid` alone (SigPnd) or for the whole process (ShdPnd)?
std::pair<bool, bool> pending_in(pid_t tid, int sig) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/status");
  unsigned long long thread = 0, shared = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("SigPnd:", 0) == 0) thread = std::stoull(line.substr(7), nullptr, 16);
    if (line.rfind("ShdPnd:", 0) == 0) shared = std::stoull(line.substr(7), nullptr, 16);
  }
  unsigned long long bit = 1ULL << (sig - 1);
  return {(thread & bit) != 0, (shared & bit) != 0};
}

// Two sockets owned by a worker thread: one with F_SETOWN_EX F_OWNER_TID (SIGRTMIN+1), one with
// the legacy F_SETOWN and the thread's id (SIGRTMIN+2). Once both datagrams are in, the worker's
// thread-pending and the process's shared-pending sets say where each signal went.
int thread_case(const probe::Options& o, const probe::Deadline& d) {
  int wake_pipe[2];
  if (pipe2(wake_pipe, O_CLOEXEC) < 0) probe::fail("pipe", errno);
  const nslab::UniqueFd wake[2] = {nslab::UniqueFd(wake_pipe[0]), nslab::UniqueFd(wake_pipe[1])};
  std::promise<pid_t> tid_promise;
  std::thread worker([&] {
    tid_promise.set_value(static_cast<pid_t>(syscall(SYS_gettid)));
    char c;
    (void)!read(wake[0].get(), &c, 1);  // held here, signals blocked, until the main thread is done
  });
  pid_t tid = tid_promise.get_future().get();
  auto ports = parse_ports(o.str("ports"));
  if (ports.size() < 2) probe::fail("--case thread needs two --ports", EINVAL);
  int sigs[2] = {SIGRTMIN + 1, SIGRTMIN + 2};
  Receiver r;
  for (int i = 0; i < 2; ++i) {
    auto a = probe::parse_address(o.str("bind"), ports[static_cast<std::size_t>(i)]);
    const int fd =
        r.fds.emplace_back(socket(a.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)).get();
    if (bind(fd, a.get(), a.length) < 0) probe::fail("bind", errno);
    if (i == 0) {
      f_owner_ex owner{F_OWNER_TID, tid};
      fcntl(fd, F_SETOWN_EX, &owner);
    } else {
      fcntl(fd, F_SETOWN, tid);  // a thread id through the legacy call
    }
    fcntl(fd, F_SETSIG, sigs[i]);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
  }
  probe::emit("ready", {{"ports", {ports[0], ports[1]}}, {"owner_tid", tid}});
  long got = collect_by_poll(r, 2, d);
  probe::emit("datagrams", {{"count", got}});
  const char* how[2] = {"F_SETOWN_EX F_OWNER_TID", "F_SETOWN tid"};
  for (int i = 0; i < 2; ++i) {
    auto [thread_pending, process_pending] = pending_in(tid, sigs[i]);
    probe::emit("pending", {{"owner", how[i]},
                            {"signo", signal_name(sigs[i])},
                            {"thread_pending", thread_pending},
                            {"process_pending", process_pending}});
  }
  (void)!write(wake[1].get(), "x", 1);
  worker.join();
  return probe::kRan;
}

// Takes one `sig` (blocked) within the deadline; si_signo 0 when none came.
siginfo_t take(int sig, const probe::Deadline& d) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  siginfo_t si{};
  int left = d.ms_left();
  timespec ts{left / 1000, (left % 1000) * 1000000L};
  if (sigtimedwait(&set, &si, &ts) < 0) si.si_signo = 0;
  return si;
}

// Takes every `sig` already queued, without waiting; returns how many.
int flush(int sig) {
  int n = 0;
  probe::Deadline now(std::chrono::milliseconds(0));
  while (take(sig, now).si_signo) ++n;
  return n;
}

probe::Json signal_record(const siginfo_t& si, int fd) {
  if (!si.si_signo) return {{"signo", nullptr}};
  return {{"signo", signal_name(si.si_signo)},
          {"si_code", code_name(si.si_code)},
          {"si_band", si.si_band},
          {"own_fd", si.si_fd == fd}};
}

// A TCP connection over loopback whose client socket is O_ASYNC with SIGRTMIN+1: it fills its
// send buffer (EAGAIN), then the server reads everything and the client gets POLL_OUT; then
// the client shuts its sending side, the server closes, and the client gets POLL_HUP.
int tcp_codes(const probe::Options& o, const probe::Deadline& d) {
  int sig = SIGRTMIN + 1;
  nslab::UniqueFd ls_owner =
      probe::tcp_listener("127.0.0.1", static_cast<int>(o.integer("tcp-port")));
  const int ls = ls_owner.get();
  auto dst = probe::parse_address("127.0.0.1", static_cast<int>(o.integer("tcp-port")));
  int sndbuf = 4096;
  probe::Connected c = probe::tcp_connect(dst, d);
  if (c.result != "ok") probe::fail("connect over loopback: " + c.result);
  nslab::UniqueFd srv_owner(accept4(ls, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  const int srv = srv_owner.get();
  setsockopt(c.fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  fcntl(c.fd.get(), F_SETOWN, getpid());
  fcntl(c.fd.get(), F_SETSIG, sig);
  fcntl(c.fd.get(), F_SETFL, fcntl(c.fd.get(), F_GETFL) | O_ASYNC);
  std::vector<char> chunk(65536, 'x');
  long queued = 0;
  ssize_t n;
  while ((n = send(c.fd.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL)) > 0) queued += n;
  int last_errno = errno;
  int before = flush(sig);  // whatever the connection's setup raised
  probe::emit("buffer_full", {{"queued", queued},
                              {"send", n < 0 ? probe::errno_name(last_errno) : "0"},
                              {"signals_before_drain", before}});
  long drained = 0;
  char buf[65536];
  // The server reads everything; the client's buffer empties as the acks come back.
  while (drained < queued) {
    if (!probe::wait_fd(srv, POLLIN, d)) break;
    while ((n = recv(srv, buf, sizeof buf, 0)) > 0) drained += n;
  }
  probe::emit("space", {{"drained", drained}, {"signal", signal_record(take(sig, d), c.fd.get())}});
  flush(sig);
  shutdown(c.fd.get(), SHUT_WR);
  // The server sees our FIN, then closes: its FIN shuts the client's receiving side too.
  probe::wait_fd(srv, POLLRDHUP, d);
  srv_owner.reset();
  siginfo_t si{};
  // A FIN that leaves the socket half open is POLL_IN; the one that closes it fully, POLL_HUP.
  while ((si = take(sig, d)).si_signo && si.si_code != POLL_HUP) {
  }
  probe::emit("hangup", {{"signal", signal_record(si, c.fd.get())}});
  c.fd.reset();
  return probe::kRan;
}

// F_SETOWN with a negative process group: every process of the group gets the signal. The
// probe leads a new group, forks a child into it, and sends itself one datagram.
int group(const probe::Options& o, const probe::Deadline& d) {
  int sig = SIGRTMIN + 1;
  if (setpgid(0, 0) < 0) probe::fail("setpgid", errno);
  auto a = probe::parse_address("127.0.0.1", static_cast<int>(o.integer("tcp-port")));
  nslab::UniqueFd fd_owner(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const int fd = fd_owner.get();
  if (bind(fd, a.get(), a.length) < 0) probe::fail("bind", errno);
  fcntl(fd, F_SETOWN, -getpgrp());
  fcntl(fd, F_SETSIG, sig);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC);
  pid_t kid = fork();
  if (kid == 0) {
    siginfo_t si = take(sig, d);
    probe::Json rec = signal_record(si, fd);
    rec["process"] = "child";
    probe::emit("signal", rec);
    _exit(0);
  }
  sendto(fd, "x", 1, 0, a.get(), a.length);
  siginfo_t si = take(sig, d);
  waitpid(kid, nullptr, 0);  // the child's record first
  probe::Json rec = signal_record(si, fd);
  rec["process"] = "leader";
  probe::emit("signal", rec);
  int owner = fcntl(fd, F_GETOWN);
  probe::emit("owner",
              {{"f_getown", owner}, {"pgid", getpgrp()}, {"is_minus_pgid", owner == -getpgrp()}});
  return probe::kRan;
}

int receive(const probe::Options& o) {
  const std::string& c = o.str("case");
  int rt = SIGRTMIN + 1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, rt);
  sigaddset(&set, SIGIO);
  sigset_t blocked = set;
  sigaddset(&blocked, SIGRTMIN + 2);          // the thread case's second signal
  sigprocmask(SIG_BLOCK, &blocked, nullptr);  // before any thread starts: all inherit it
  long want = o.integer("expect");
  probe::Deadline d(o.duration("timeout"));

  if (c == "overflow") {
    // RLIMIT_SIGPENDING counts the pending signals of a uid in a user namespace (ucounts, since
    // Linux 5.14), across all its processes: another process of ours could take a place, or
    // free one, at any moment. In a user namespace of our own the count is ours alone, so the
    // room is exactly --sigpending. (Still single-threaded here, as unshare requires.)
    if (unshare(CLONE_NEWUSER) < 0)
      probe::fail("unshare(CLONE_NEWUSER), to count pending signals of our own", errno);
    long queued = 0;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind("SigQ:", 0) == 0) queued = std::stol(line.substr(5));
    auto limit = static_cast<rlim_t>(queued + o.integer("sigpending"));
    rlimit lim{limit, limit};
    if (setrlimit(RLIMIT_SIGPENDING, &lim) < 0) probe::fail("setrlimit RLIMIT_SIGPENDING", errno);
    probe::emit("rlimit", {{"already_queued", queued}, {"sigpending", limit}});
  }

  if (c == "thread") return thread_case(o, d);
  if (c == "tcp-codes") return tcp_codes(o, d);
  if (c == "group") return group(o, d);

  Receiver r = open_sockets(o, c == "plain" ? 0 : rt);
  probe::emit("ready", {{"ports", r.ports}, {"signal", c == "plain" ? "SIGIO" : signal_name(rt)}});

  if (c == "rt") {
    // sigtimedwait as the main loop: each signal names the socket that woke up. Once --expect
    // datagrams are in, the signals still queued are taken too (without waiting): a socket
    // that woke up twice has two, the second finding nothing left to read.
    long got = 0, signals = 0;
    for (;;) {
      siginfo_t si{};
      int left = got < want ? d.ms_left() : 0;
      timespec ts{left / 1000, (left % 1000) * 1000000L};
      int s = sigtimedwait(&set, &si, &ts);
      if (s < 0) {
        if (got < want) probe::emit_timeout("signal");
        break;
      }
      int n = drain(si.si_fd);
      got += n;
      ++signals;
      probe::emit("signal", {{"signo", signal_name(s)},
                             {"si_code", code_name(si.si_code)},
                             {"si_fd_index", r.index_of(si.si_fd)},
                             {"si_band", si.si_band},
                             {"datagrams", n}});
    }
    probe::emit("done", {{"datagrams", got}, {"signals", signals}});
    return probe::kRan;
  }

  // plain and overflow: take the datagrams by poll first, then look at what is pending.
  long got = collect_by_poll(r, want, d);
  probe::emit("datagrams", {{"count", got}});
  int rt_signals = 0, sigio = 0;
  for (;;) {
    siginfo_t si{};
    timespec zero{0, 0};
    int s = sigtimedwait(&set, &si, &zero);
    if (s < 0) break;
    (s == SIGIO ? sigio : rt_signals)++;
    // si_fd as the kernel left it (a signal without POLL_* carries none: 0), and which of our
    // sockets it is (-1: none).
    probe::Json rec = {{"signo", signal_name(s)},
                       {"si_code", code_name(si.si_code)},
                       {"order", sigio + rt_signals},
                       {"si_fd", si.si_fd},
                       {"si_fd_index", r.index_of(si.si_fd)}};
    probe::emit("signal", rec);
  }
  probe::emit("signals", {{"rt", rt_signals}, {"sigio", sigio}});
  // Recovery: with the queue empty again, --recover more datagrams each queue a realtime signal
  // naming its socket.
  long recover = o.integer("recover"), recovered = 0, rt_after = 0, sigio_after = 0;
  while (recovered < recover) {
    siginfo_t si{};
    int left = d.ms_left();
    timespec ts{left / 1000, (left % 1000) * 1000000L};
    int s = sigtimedwait(&set, &si, &ts);
    if (s < 0) {
      probe::emit_timeout("signal after recovery");
      break;
    }
    (s == SIGIO ? sigio_after : rt_after)++;
    if (s != SIGIO)
      recovered += drain(si.si_fd);
    else  // an overflow again: the queue no longer says which sockets; read them all
      for (const auto& fd : r.fds) recovered += drain(fd.get());
  }
  if (recover)
    probe::emit("recovered", {{"datagrams", recovered}, {"rt", rt_after}, {"sigio", sigio_after}});
  return probe::kRan;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("sigio",
                   "Signal-driven I/O: --case send|rt|plain|overflow|thread|tcp-codes|group.");
  o.value("case", "send, rt, plain, overflow, thread, tcp-codes or group")
      .value("ports", "comma-separated UDP ports", "9500,9501,9502")
      .value("bind", "receiver: local address", "0.0.0.0")
      .optional("dst", "send: receiver's address")
      .value("rounds", "send: datagrams per port", "1")
      .value("expect", "receiver: datagrams to wait for", "3")
      .value("sigpending", "overflow: realtime signals that may queue beyond those already pending",
             "2")
      .value("recover", "overflow: datagrams to take by realtime signal afterwards", "0")
      .value("tcp-port", "tcp-codes, group: loopback port", "9510")
      .value("timeout", "bound on waiting", "5s");
  o.parse(argc, argv);
  if (o.str("case") == "send") {
    if (o.str("dst").empty()) {
      std::fprintf(stderr, "sigio: --case send needs --dst\n");
      return probe::kUsage;
    }
    return sender(o);
  }
  return receive(o);
}
