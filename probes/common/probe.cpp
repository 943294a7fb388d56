#include "probe.hpp"

#include <fcntl.h>
#include <time.h>

#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace probe {

Options::Options(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

Options& Options::value(std::string name, std::string help, std::string fallback) {
  order_.push_back(name);
  specs_[name] = {std::move(help), std::move(fallback), false};
  return *this;
}

Options& Options::optional(std::string name, std::string help) {
  order_.push_back(name);
  specs_[name] = {std::move(help), "", false, true};
  return *this;
}

Options& Options::flag(std::string name, std::string help) {
  order_.push_back(name);
  specs_[name] = {std::move(help), "", true};
  return *this;
}

void Options::usage(const std::string& why) const {
  std::fprintf(stderr, "%s: %s (see --help)\n", program_.c_str(), why.c_str());
  std::exit(kUsage);
}

void Options::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::printf("usage: %s [--option value]...\n%s\n\noptions:\n", program_.c_str(),
                  summary_.c_str());
      for (const auto& n : order_) {
        const Spec& s = specs_.at(n);
        std::string def = s.is_flag            ? ""
                          : s.fallback.empty() ? " (required)"
                                               : " (default " + s.fallback + ")";
        std::printf("  --%-14s %s%s\n", n.c_str(), s.help.c_str(), def.c_str());
      }
      std::printf("\nOutput: one JSON object per line on stdout, each with an \"event\".\n");
      std::exit(0);
    }
    if (a.rfind("--", 0) != 0) usage("unexpected argument '" + a + "'");
    std::string name = a.substr(2);
    auto it = specs_.find(name);
    if (it == specs_.end()) usage("unknown option '" + a + "'");
    if (it->second.is_flag) {
      values_[name] = "1";
    } else {
      if (i + 1 >= argc) usage("option '" + a + "' needs a value");
      values_[name] = argv[++i];
    }
  }
  for (const auto& [name, s] : specs_) {
    if (values_.count(name)) continue;
    if (!s.is_flag && !s.is_optional && s.fallback.empty()) usage("missing --" + name);
    values_[name] = s.is_flag ? "" : s.fallback;
  }
}

const std::string& Options::str(const std::string& name) const {
  return values_.at(name);
}

long Options::integer(const std::string& name) const {
  const std::string& s = str(name);
  long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) usage("--" + name + " must be a number");
  return v;
}

bool Options::on(const std::string& name) const {
  return !str(name).empty();
}

std::chrono::milliseconds Options::duration(const std::string& name) const {
  const std::string& s = str(name);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string unit = end ? end : "";
  double ms = unit == "ms"                    ? v
              : unit == "m"                   ? v * 60000
              : (unit == "s" || unit.empty()) ? v * 1000
                                              : -1;
  if (end == s.c_str() || ms < 0) usage("--" + name + " must be a duration like 5s or 200ms");
  return std::chrono::milliseconds(static_cast<long>(ms));
}

void emit(const std::string& event, Json fields) {
  Json j = Json::object();
  j["event"] = event;
  for (auto& [k, v] : fields.items()) j[k] = v;
  std::string line = j.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void fail(const std::string& what, int err) {
  Json f = {{"what", what}};
  if (err) f["errno"] = errno_name(err);
  emit("error", f);
  std::exit(kBrokenPrecondition);
}

void skip(const std::string& reason) {
  emit("skip", {{"reason", reason}});
  std::exit(kCannotRunHere);
}

void emit_timeout(const std::string& waiting_for) {
  emit("timeout", {{"waiting_for", waiting_for}});
}

std::string errno_name(int err) {
  const char* n = strerrorname_np(err);
  return n ? n : "E" + std::to_string(err);
}

int errno_number(std::string_view name) {
  for (int e = 1; e < 200; ++e) {
    const char* n = strerrorname_np(e);
    if (n && name == n) return e;
  }
  return 0;
}

SocketAddress parse_address(const std::string& address, int port) {
  SocketAddress a;
  if (address.find(':') != std::string::npos) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(static_cast<uint16_t>(port));
    std::string host = address;
    if (auto pct = host.find('%'); pct != std::string::npos) {
      std::string scope = host.substr(pct + 1);
      host = host.substr(0, pct);
      s6->sin6_scope_id = if_nametoindex(scope.c_str());
      if (!s6->sin6_scope_id) s6->sin6_scope_id = static_cast<uint32_t>(std::atoi(scope.c_str()));
    }
    if (inet_pton(AF_INET6, host.c_str(), &s6->sin6_addr) != 1)
      fail("invalid IPv6 address '" + address + "'", EINVAL);
    a.length = sizeof(sockaddr_in6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&a.storage);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, address.c_str(), &s4->sin_addr) != 1)
      fail("invalid IPv4 address '" + address + "'", EINVAL);
    a.length = sizeof(sockaddr_in);
  }
  return a;
}

std::string address_text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = "?";
  if (sa->sa_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  else if (sa->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

int port_of(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
  if (sa->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  return 0;
}

nslab::UniqueFd termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return nslab::UniqueFd(signalfd(-1, &set, SFD_CLOEXEC));
}

Wake wait_readable(int fd, int signal_fd, std::chrono::milliseconds idle) {
  Deadline d(idle);
  for (;;) {
    pollfd p[2] = {{fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    int n = poll(p, 2, d.ms_left());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Wake::idle;
    if (p[1].revents & POLLIN) return Wake::signal;
    return Wake::readable;
  }
}

sockaddr_un unix_path(const std::string& path, socklen_t& length) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return a;
}

nslab::UniqueFd tcp_listener(const std::string& address, int port, bool v6only) {
  auto addr = parse_address(address, port);
  nslab::UniqueFd owner(socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!owner) fail("socket", errno);
  const int ls = owner.get();
  int one = 1, only = v6only ? 1 : 0;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (addr.family() == AF_INET6 &&
      setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only) < 0)
    fail("IPV6_V6ONLY", errno);
  if (bind(ls, addr.get(), addr.length) < 0) fail("bind", errno);
  if (listen(ls, 8) < 0) fail("listen", errno);
  return owner;
}

nslab::UniqueFd unix_listener(const std::string& path) {
  socklen_t len;
  sockaddr_un a = unix_path(path, len);
  unlink(a.sun_path);
  nslab::UniqueFd owner(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!owner) fail("socket", errno);
  const int ls = owner.get();
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), len) < 0) fail("bind " + path, errno);
  if (listen(ls, 4) < 0) fail("listen " + path, errno);
  return owner;
}

FdPair FdPair::socketpair(int type) {
  int fds[2];
  if (::socketpair(AF_UNIX, type, 0, fds) < 0) fail("socketpair", errno);
  FdPair p;
  p.ends_[0].reset(fds[0]);
  p.ends_[1].reset(fds[1]);
  return p;
}

FdPair FdPair::pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) fail("pipe", errno);
  FdPair p;
  p.ends_[0].reset(fds[0]);
  p.ends_[1].reset(fds[1]);
  return p;
}

Connected tcp_connect(const SocketAddress& dst, const Deadline& deadline) {
  Connected c;
  c.fd.reset(socket(dst.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!c.fd) fail("socket", errno);
  int err = connect(c.fd.get(), dst.get(), dst.length) < 0 ? errno : 0;
  if (err == EINPROGRESS) {
    if (!wait_fd(c.fd.get(), POLLOUT, deadline)) {
      c.result = "timeout";
      return c;
    }
    socklen_t len = sizeof err;
    getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  }
  c.result = err ? errno_name(err) : "ok";
  return c;
}

const char* ee_origin_name(int origin) {
  switch (origin) {
    case SO_EE_ORIGIN_NONE:
      return "none";
    case SO_EE_ORIGIN_LOCAL:
      return "local";
    case SO_EE_ORIGIN_ICMP:
      return "icmp";
    case SO_EE_ORIGIN_ICMP6:
      return "icmp6";
    case SO_EE_ORIGIN_TXSTATUS:
      return "txstatus";
    default:
      return "other";
  }
}

int Deadline::ms_left() const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      end_ - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

short wait_fd(int fd, short events, const Deadline& deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int n = poll(&p, 1, deadline.ms_left());
    if (n > 0) return p.revents;
    if (n == 0) return 0;
    if (errno != EINTR) fail("poll", errno);
  }
}

long micros_since(std::chrono::steady_clock::time_point t0) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count());
}

}  // namespace probe
