// udp_sink: binds a UDP port and reports every datagram it receives (size, source), until
// --count datagrams, SIGTERM/SIGINT, or --timeout with nothing received.

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "../common/probe.hpp"

int main(int argc, char** argv) {
  probe::Options o("udp_sink", "Receive UDP datagrams and report each one.");
  o.value("port", "UDP port to bind")
      .value("bind", "local address (:: also accepts IPv4)", "::")
      .value("count", "stop after this many datagrams (0: no limit)", "0")
      .value("timeout", "stop after this long without a datagram", "30s");
  o.parse(argc, argv);

  // Termination signals as events on a signalfd, so the sink ends with a summary line.
  nslab::UniqueFd sfd_owner = probe::termination_signals();
  const int sfd = sfd_owner.get();

  auto addr = probe::parse_address(o.str("bind"), static_cast<int>(o.integer("port")));
  nslab::UniqueFd fd_owner(socket(addr.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int fd = fd_owner.get();
  if (fd < 0) probe::fail("socket", errno);
  int off = 0;
  if (addr.family() == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (bind(fd, addr.get(), addr.length) < 0) probe::fail("bind", errno);
  probe::emit("ready", {{"port", o.integer("port")}, {"bind", o.str("bind")}});

  long count = o.integer("count"), got = 0;
  std::vector<char> buf(65536);
  for (;;) {
    probe::Wake w = probe::wait_readable(fd, sfd, o.duration("timeout"));
    if (w == probe::Wake::idle) probe::emit_timeout("datagram");
    if (w != probe::Wake::readable) break;
    probe::SocketAddress from;
    from.length = sizeof from.storage;
    ssize_t len = recvfrom(fd, buf.data(), buf.size(), 0, from.get(), &from.length);
    if (len < 0) {
      probe::emit("recv", {{"result", probe::errno_name(errno)}});
      continue;
    }
    probe::emit("datagram", {{"size", len},
                             {"source", probe::address_text(from.get())},
                             {"source_port", probe::port_of(from.get())}});
    ++got;
    if (count && got >= count) break;
  }
  probe::emit("done", {{"datagrams", got}});
  return probe::kRan;
}
