// unix_abstract: Unix socket names. --case local checks, in one node, what the abstract
// namespace does (no file, EADDRINUSE while held, free again on close, autobind, the length is
// part of the name) for stream and datagram sockets. --case server binds an abstract name or a
// path and accepts; --case connect tries to reach one: across network namespaces abstract names
// are separate while filesystem paths are shared.

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include "../common/probe.hpp"

namespace {

struct UnixAddress {
  sockaddr_un sun{};
  socklen_t len = 0;
};

// An abstract name: a leading NUL, then the bytes of `name` (no trailing NUL; the length counts).
UnixAddress abstract(const std::string& name) {
  UnixAddress a;
  a.sun.sun_family = AF_UNIX;
  a.sun.sun_path[0] = '\0';
  std::memcpy(a.sun.sun_path + 1, name.data(), std::min(name.size(), sizeof a.sun.sun_path - 1));
  a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return a;
}

UnixAddress path(const std::string& p) {
  UnixAddress a;
  a.sun.sun_family = AF_UNIX;
  std::strncpy(a.sun.sun_path, p.c_str(), sizeof a.sun.sun_path - 1);
  a.len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + p.size() + 1);
  return a;
}

// The name a socket is bound to, as text: "@name" for abstract ones (NULs shown as '@'); nothing
// when getsockname fails (its errno is left in errno).
std::optional<std::string> name_of(int fd, socklen_t* len_out = nullptr) {
  UnixAddress a;
  a.len = sizeof a.sun;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a.sun), &a.len) < 0) return std::nullopt;
  if (len_out) *len_out = a.len;
  std::size_t n =
      a.len > offsetof(sockaddr_un, sun_path) ? a.len - offsetof(sockaddr_un, sun_path) : 0;
  std::string s(a.sun.sun_path, n);
  for (char& c : s)
    if (c == '\0') c = '@';
  return s;
}

// Sets rec[key] to the socket's name, or rec[key + "_error"] to why it has none.
void put_name(probe::Json& rec, const std::string& key, int fd, socklen_t* len_out = nullptr) {
  if (auto n = name_of(fd, len_out))
    rec[key] = *n;
  else
    rec[key + "_error"] = probe::errno_name(errno);
}

// How many sockets /proc/net/unix lists under `shown` (its Path column, '@' for the NUL), or an
// error field when the file cannot be read.
void put_proc_count(probe::Json& rec, const std::string& shown) {
  std::ifstream in("/proc/net/unix");
  if (!in) {
    rec["proc_net_unix_error"] = probe::errno_name(errno);
    return;
  }
  std::string line;
  std::getline(in, line);  // the header
  long n = 0;
  while (std::getline(in, line)) {
    // Num RefCount Protocol Flags Type St Inode Path: the path is the eighth column.
    std::istringstream cols(line);
    std::string col, path;
    for (int i = 0; i < 7 && cols >> col; ++i) {
    }
    if (cols >> path && path == shown) ++n;
  }
  rec["proc_net_unix"] = n;
}

std::string result(int r) {
  return r < 0 ? probe::errno_name(errno) : "ok";
}

// A socket bound to `a`, or none with errno saying why.
nslab::UniqueFd bound_socket(int type, const UnixAddress& a) {
  nslab::UniqueFd fd(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.sun), a.len) < 0) {
    int e = errno;
    fd.reset();
    errno = e;
  }
  return fd;
}

std::string result(const nslab::UniqueFd& fd) {
  return fd ? "ok" : probe::errno_name(errno);
}

int local(const probe::Options& o) {
  std::string name = o.str("name");
  for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
    const char* t = type == SOCK_STREAM ? "stream" : "dgram";
    UnixAddress a = abstract(name);
    nslab::UniqueFd first = bound_socket(type, a);
    probe::emit("bind", {{"type", t}, {"name", "@" + name}, {"result", result(first)}});
    if (!first) continue;
    struct stat st {};
    probe::emit("filesystem",
                {{"type", t}, {"path", name}, {"exists", stat(name.c_str(), &st) == 0}});
    nslab::UniqueFd second = bound_socket(type, a);
    probe::emit("bind_again", {{"type", t}, {"while_held", true}, {"result", result(second)}});
    second.reset();
    // A different length is a different name: "name" plus a NUL byte.
    UnixAddress longer = a;
    longer.len += 1;
    nslab::UniqueFd other = bound_socket(type, longer);
    probe::emit("bind_longer", {{"type", t}, {"extra_nul", true}, {"result", result(other)}});
    other.reset();
    if (type == SOCK_STREAM) {
      listen(first.get(), 4);
      nslab::UniqueFd c(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      probe::emit(
          "connect",
          {{"type", t},
           {"result", result(connect(c.get(), reinterpret_cast<sockaddr*>(&a.sun), a.len))}});
      nslab::UniqueFd accepted(accept4(first.get(), nullptr, nullptr, SOCK_CLOEXEC));
      first.reset();
      // The listener is gone but an accepted socket still carries the name.
      nslab::UniqueFd again = bound_socket(type, a);
      probe::Json rec = {{"type", t},
                         {"accepted_still_open", static_cast<bool>(accepted)},
                         {"result", result(again)}};
      if (accepted) put_name(rec, "accepted_name", accepted.get());
      // Every socket that carries the name, as the kernel lists them: the accepted one, and the
      // one bound again.
      put_proc_count(rec, "@" + name);
      probe::emit("bind_after_close", rec);
      again.reset();
      c.reset();
      accepted.reset();
    } else {
      first.reset();
      nslab::UniqueFd again = bound_socket(type, a);
      probe::emit("bind_after_close", {{"type", t}, {"result", result(again)}});
      again.reset();
    }
    // Autobind: bind with only the family, and the kernel picks an abstract name.
    nslab::UniqueFd ab_owner(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    const int ab = ab_owner.get();
    sockaddr_un fam{};
    fam.sun_family = AF_UNIX;
    int r = bind(ab, reinterpret_cast<sockaddr*>(&fam), sizeof(sa_family_t));
    socklen_t len = 0;
    probe::Json rec = {{"type", t}, {"result", result(r)}};
    put_name(rec, "name", ab, &len);
    if (rec.contains("name")) {
      std::string got = rec["name"];
      rec["addrlen"] = len;
      rec["hex_digits"] = got.size() > 1 ? got.size() - 1 : 0;
    }
    probe::emit("autobind", rec);
    ab_owner.reset();
  }
  return probe::kRan;
}

int server(const probe::Options& o) {
  const nslab::UniqueFd signals = probe::termination_signals();
  const int sfd = signals.get();
  bool by_path = !o.str("path").empty();
  UnixAddress a = by_path ? path(o.str("path")) : abstract(o.str("name"));
  if (by_path) unlink(o.str("path").c_str());
  const nslab::UniqueFd listener = bound_socket(SOCK_STREAM, a);
  if (!listener) probe::fail("bind", errno);
  const int ls = listener.get();
  listen(ls, 8);
  probe::emit("ready", {{"name", by_path ? o.str("path") : "@" + o.str("name")}});
  probe::Deadline deadline(o.duration("timeout"));
  for (;;) {
    pollfd p[2] = {{ls, POLLIN, 0}, {sfd, POLLIN, 0}};
    int n = poll(p, 2, deadline.ms_left());
    if (n <= 0 || (p[1].revents & POLLIN)) break;
    const nslab::UniqueFd c(accept4(ls, nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) continue;
    probe::emit("accepted", {});
  }
  if (by_path) unlink(o.str("path").c_str());
  return probe::kRan;
}

int connect_case(const probe::Options& o) {
  bool by_path = !o.str("path").empty();
  UnixAddress a = by_path ? path(o.str("path")) : abstract(o.str("name"));
  const nslab::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int r = connect(fd.get(), reinterpret_cast<sockaddr*>(&a.sun), a.len);
  probe::emit("connect",
              {{"name", by_path ? o.str("path") : "@" + o.str("name")}, {"result", result(r)}});
  return probe::kRan;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("unix_abstract", "Unix socket names: --case local|server|connect.");
  o.value("case", "local, server or connect")
      .value("name", "an abstract name (without the leading NUL)", "nslab-abstract")
      .optional("path", "server, connect: a filesystem path instead of an abstract name")
      .value("timeout", "server: how long to accept", "10s");
  o.parse(argc, argv);
  const std::string& c = o.str("case");
  if (c == "local") return local(o);
  if (c == "server") return server(o);
  if (c == "connect") return connect_case(o);
  std::fprintf(stderr, "unix_abstract: unknown --case '%s'\n", c.c_str());
  return probe::kUsage;
}
