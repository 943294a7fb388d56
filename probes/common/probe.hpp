#pragma once
// What every probe shares (SPEC section 4): `--name value` options with --help, one JSON object
// per line on stdout, errno names, sockaddr parsing and printing, cmsg iteration, and deadlines
// for bounded waits. Probes know nothing of the lab: addresses come on the command line.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/unique_fd.hpp"

namespace probe {

using Json = nlohmann::ordered_json;

// Exit codes of the probe protocol.
inline constexpr int kRan = 0, kBrokenPrecondition = 1, kUsage = 2, kCannotRunHere = 77;

class Options {
 public:
  Options(std::string program, std::string summary);
  // An option taking a value; `fallback` empty means required.
  Options& value(std::string name, std::string help, std::string fallback = "");
  Options& optional(std::string name, std::string help);  // may be left out: str() is ""
  Options& flag(std::string name, std::string help);
  // Parses argv; --help prints the options and exits 0; a usage error exits 2.
  void parse(int argc, char** argv);

  const std::string& str(const std::string& name) const;
  long integer(const std::string& name) const;  // exits 2 when not a number
  bool on(const std::string& name) const;
  // "5s", "200ms", "1.5s", "2m", or a plain number of seconds.
  std::chrono::milliseconds duration(const std::string& name) const;

 private:
  [[noreturn]] void usage(const std::string& why) const;
  struct Spec {
    std::string help, fallback;
    bool is_flag = false;
    bool is_optional = false;
  };
  std::string program_, summary_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> values_;
};

// One observation: a JSON object with "event" first, written as one line and flushed.
void emit(const std::string& event, Json fields = Json::object());
// {"event":"error",...} and exit 1: the probe's own preconditions are broken.
[[noreturn]] void fail(const std::string& what, int err = 0);
// {"event":"skip","reason":...} and exit 77.
[[noreturn]] void skip(const std::string& reason);
// {"event":"timeout","waiting_for":...}
void emit_timeout(const std::string& waiting_for);

std::string errno_name(int err);          // "EMSGSIZE"; "E123" when unknown
int errno_number(std::string_view name);  // 0 when unknown

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
};
// A numeric IPv4 or IPv6 address (IPv6 may carry %scope) and a port.
SocketAddress parse_address(const std::string& address, int port);
std::string address_text(const sockaddr* sa);  // the address without the port
int port_of(const sockaddr* sa);

// Calls f(cmsghdr*) for every control message of a received msghdr.
template <class F>
void for_each_cmsg(msghdr& msg, F&& f) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) f(c);
}

class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds d) : end_(std::chrono::steady_clock::now() + d) {}
  int ms_left() const;  // for poll(); 0 once passed
  bool passed() const { return ms_left() == 0; }

 private:
  std::chrono::steady_clock::time_point end_;
};

// SIGTERM and SIGINT as events: blocked, and readable on the returned signalfd, so that a probe
// ends its loop in order (with a last record) when the lab stops it.
nslab::UniqueFd termination_signals();

// What ended a wait for `fd` to become readable: data, a termination signal on `signal_fd`
// (from termination_signals()), or `idle` passing without either.
enum class Wake { readable, signal, idle };
Wake wait_readable(int fd, int signal_fd, std::chrono::milliseconds idle);

// A filesystem Unix socket address and its length.
sockaddr_un unix_path(const std::string& path, socklen_t& length);

// A bound, listening TCP socket on `address`:`port` (an IPv6 one accepts IPv4 too unless
// v6only). Exits through fail() when it cannot.
nslab::UniqueFd tcp_listener(const std::string& address, int port, bool v6only = false);

// A stream Unix socket listening on `path` (a stale socket file there is removed first).
nslab::UniqueFd unix_listener(const std::string& path);

// SO_EE_ORIGIN_* as the names records use: "local", "icmp", "icmp6", ...
const char* ee_origin_name(int origin);

// Two descriptors made together, each owned: both ends of a socketpair(2) or a pipe. p[0] and
// p[1] read as the descriptors; p.close(i) closes one end early (a forked child's copy of the
// other side, or to give the peer its EOF). Exits through fail() when they cannot be made.
class FdPair {
 public:
  static FdPair socketpair(int type);  // AF_UNIX; `type` with its SOCK_* flags
  static FdPair pipe();                // O_CLOEXEC
  int operator[](int i) const { return ends_[i].get(); }
  void close(int i) { ends_[i].reset(); }
  nslab::UniqueFd take(int i) { return std::move(ends_[i]); }  // the end, to its next owner

 private:
  nslab::UniqueFd ends_[2];
};

// A non-blocking TCP connect to `dst`, bounded by `deadline`. `result` is "ok", an errno name
// (from connect or SO_ERROR), or "timeout"; the socket stays open (non-blocking) either way.
struct Connected {
  nslab::UniqueFd fd;
  std::string result;
};
Connected tcp_connect(const SocketAddress& dst, const Deadline& deadline);

// poll() one fd for `events` until the deadline; returns revents, 0 on timeout.
short wait_fd(int fd, short events, const Deadline& deadline);

// Microseconds since `t0`, for "how long until the kernel told us".
long micros_since(std::chrono::steady_clock::time_point t0);

}  // namespace probe
