// ipv6_sockets: IPv6 socket behaviour, one --case at a time:
//   basics    sockaddr_in6 layout, address text round trips, port byte order
//   server    a TCP listener on :: (dual stack unless --v6only): reports each peer's address
//   connect   a TCP connect to --dst: result, local and peer addresses
//   udp-send  sendto --dst (a link-local needs %scope): the result
//   resolve   getaddrinfo/getnameinfo with numeric hosts and services

#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../common/probe.hpp"

namespace {

bool v4_mapped(const sockaddr* sa) {
  return sa->sa_family == AF_INET6 &&
         IN6_IS_ADDR_V4MAPPED(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr);
}

const char* family_name(int af) {
  return af == AF_INET6 ? "inet6" : af == AF_INET ? "inet" : "other";
}

int basics() {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(9000);
  for (const char* text : {"fd00:0:0::1", "FD00::0001", "::ffff:10.0.1.1", "::1", "::"}) {
    in6_addr a{};
    int ok = inet_pton(AF_INET6, text, &a);
    char back[INET6_ADDRSTRLEN] = "";
    if (ok == 1) inet_ntop(AF_INET6, &a, back, sizeof back);
    probe::emit("text", {{"in", text},
                         {"parsed", ok == 1},
                         {"out", back},
                         {"v4_mapped", ok == 1 && IN6_IS_ADDR_V4MAPPED(&a)}});
  }
  in6_addr bad{};
  probe::emit("text",
              {{"in", "fd00::1::2"}, {"parsed", inet_pton(AF_INET6, "fd00::1::2", &bad) == 1}});
  // What the kernel hands back for a socket bound to [::1]:9000: getsockname() into a buffer
  // as large as any address, with the length, family, port bytes and scope id it wrote.
  nslab::UniqueFd fd_owner(socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int fd = fd_owner.get();
  sa.sin6_addr = in6addr_loopback;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
    probe::fail("bind [::1]:9000", errno);
  sockaddr_storage got{};
  socklen_t len = sizeof got;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&got), &len) < 0)
    probe::fail("getsockname", errno);
  const auto* back = reinterpret_cast<const sockaddr_in6*>(&got);
  const auto* port = reinterpret_cast<const unsigned char*>(&back->sin6_port);
  probe::emit("sockaddr_in6", {{"size", len},
                               {"family", back->sin6_family},
                               {"port_bytes", {port[0], port[1]}},
                               {"scope_id", back->sin6_scope_id}});
  return probe::kRan;
}

int server(const probe::Options& o) {
  nslab::UniqueFd sfd_owner = probe::termination_signals();
  const int sfd = sfd_owner.get();
  nslab::UniqueFd ls_owner =
      probe::tcp_listener("::", static_cast<int>(o.integer("port")), o.on("v6only"));
  const int ls = ls_owner.get();
  probe::emit("ready", {{"port", o.integer("port")}, {"v6only", o.on("v6only")}});
  probe::Deadline deadline(o.duration("timeout"));
  for (;;) {
    pollfd p[2] = {{ls, POLLIN, 0}, {sfd, POLLIN, 0}};
    int n = poll(p, 2, deadline.ms_left());
    if (n == 0) {
      probe::emit_timeout("connection");
      break;
    }
    if (n < 0 || (p[1].revents & POLLIN)) break;
    probe::SocketAddress peer;
    peer.length = sizeof peer.storage;
    nslab::UniqueFd c_owner(accept4(ls, peer.get(), &peer.length, SOCK_CLOEXEC));
    const int c = c_owner.get();
    if (c < 0) continue;
    probe::emit("accepted", {{"peer", probe::address_text(peer.get())},
                             {"family", family_name(peer.family())},
                             {"v4_mapped", v4_mapped(peer.get())},
                             {"addrlen", peer.length}});
    c_owner.reset();
  }
  return probe::kRan;
}

int connect_case(const probe::Options& o) {
  auto dst = probe::parse_address(o.str("dst"), static_cast<int>(o.integer("port")));
  auto [sock, result] = probe::tcp_connect(dst, probe::Deadline(o.duration("timeout")));
  const int fd = sock.get();
  probe::Json rec = {{"result", result}};
  if (result == "ok") {
    probe::SocketAddress local;
    local.length = sizeof local.storage;
    getsockname(fd, local.get(), &local.length);
    rec["local"] = probe::address_text(local.get());
    rec["family"] = family_name(local.family());
  }
  probe::emit("connect", rec);
  return probe::kRan;
}

int udp_send(const probe::Options& o) {
  auto dst = probe::parse_address(o.str("dst"), static_cast<int>(o.integer("port")));
  nslab::UniqueFd fd_owner(socket(dst.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int fd = fd_owner.get();
  int v6only = o.on("v6only");
  if (dst.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  const char msg[] = "nslab";
  ssize_t r = sendto(fd, msg, sizeof msg, 0, dst.get(), dst.length);
  probe::Json rec = {{"dst", o.str("dst")}, {"result", r < 0 ? probe::errno_name(errno) : "ok"}};
  if (dst.family() == AF_INET6) rec["v6only"] = v6only == 1;
  if (dst.family() == AF_INET6)
    rec["scope_id"] = reinterpret_cast<const sockaddr_in6*>(dst.get())->sin6_scope_id;
  probe::emit("sendto", rec);
  return probe::kRan;
}

// bind() of a UDP socket to --dst (an address of this node, with or without %scope).
int bind_case(const probe::Options& o) {
  auto a = probe::parse_address(o.str("dst"), static_cast<int>(o.integer("port")));
  nslab::UniqueFd fd_owner(socket(a.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int fd = fd_owner.get();
  int r = bind(fd, a.get(), a.length);
  probe::Json rec = {{"address", o.str("dst")},
                     {"result", r < 0 ? probe::errno_name(errno) : "ok"}};
  if (a.family() == AF_INET6)
    rec["scope_id"] = reinterpret_cast<const sockaddr_in6*>(a.get())->sin6_scope_id;
  probe::emit("bind", rec);
  return probe::kRan;
}

int resolve(const probe::Options& o) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(o.str("host").c_str(), o.str("service").c_str(), &hints, &res);
  if (rc != 0) {
    const char* name = rc == EAI_NONAME    ? "EAI_NONAME"
                       : rc == EAI_SERVICE ? "EAI_SERVICE"
                                           : "EAI_OTHER";
    probe::emit("getaddrinfo",
                {{"host", o.str("host")}, {"result", name}, {"text", gai_strerror(rc)}});
    return probe::kRan;
  }
  int results = 0;
  for (addrinfo* a = res; a; a = a->ai_next, ++results) {
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    int n = getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof host, serv, sizeof serv,
                        NI_NUMERICHOST | NI_NUMERICSERV);
    probe::emit("getaddrinfo", {{"host", o.str("host")},
                                {"result", "ok"},
                                {"family", family_name(a->ai_family)},
                                {"addrlen", a->ai_addrlen},
                                {"address", probe::address_text(a->ai_addr)},
                                {"port", probe::port_of(a->ai_addr)},
                                {"getnameinfo", n == 0 ? std::string(host) : gai_strerror(n)},
                                {"service", n == 0 ? std::string(serv) : ""}});
  }
  freeaddrinfo(res);
  probe::emit("results", {{"host", o.str("host")}, {"count", results}});
  return probe::kRan;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("ipv6_sockets",
                   "IPv6 socket behaviour: --case basics|server|connect|udp-send|bind|resolve.");
  o.value("case", "basics, server, connect, udp-send, bind or resolve")
      .optional("dst",
                "connect, udp-send: destination; bind: a local address (fe80::1%eth0 for a scope)")
      .value("port", "port", "9200")
      .flag("v6only", "server, udp-send: set IPV6_V6ONLY (udp-send: otherwise it is cleared)")
      .optional("host", "resolve: a numeric host")
      .value("service", "resolve: a numeric service", "9200")
      .value("timeout", "bound on waiting", "5s");
  o.parse(argc, argv);
  const std::string& c = o.str("case");
  if (c == "basics") return basics();
  if (c == "server") return server(o);
  if (c == "resolve") return resolve(o);
  if ((c == "connect" || c == "udp-send" || c == "bind") && o.str("dst").empty()) {
    std::fprintf(stderr, "ipv6_sockets: --case %s needs --dst\n", c.c_str());
    return probe::kUsage;
  }
  if (c == "connect") return connect_case(o);
  if (c == "udp-send") return udp_send(o);
  if (c == "bind") return bind_case(o);
  std::fprintf(stderr, "ipv6_sockets: unknown --case '%s'\n", c.c_str());
  return probe::kUsage;
}
