// udp_flows: sends one datagram on each of --flows UDP sockets, each with its own source port,
// so that a multipath route or a nexthop group that hashes on ports (fib_multipath_hash_policy
// 1) spreads them over its paths. Reports what the kernel did with the sends; which path each
// took shows in the interfaces' counters (rtnl_dump --what links).

#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>
#include <vector>

#include "../common/probe.hpp"

int main(int argc, char** argv) {
  probe::Options o("udp_flows", "Send one UDP datagram from each of many source ports.");
  o.value("dst", "destination address (IPv4 or IPv6)")
      .value("port", "destination port", "9000")
      .value("flows", "how many sockets (flows) send, 1 to 10000", "100")
      .value("size", "payload bytes per datagram", "64");
  o.parse(argc, argv);
  const long flows = o.integer("flows");
  if (flows < 1 || flows > 10000) {
    std::fprintf(stderr, "udp_flows: --flows must be 1 to 10000\n");
    return probe::kUsage;
  }
  auto dst = probe::parse_address(o.str("dst"), static_cast<int>(o.integer("port")));
  std::vector<char> payload(static_cast<std::size_t>(o.integer("size")), 'f');
  // Every socket stays open until all have sent, so no two flows share a source port.
  std::vector<nslab::UniqueFd> fds;
  std::set<int> ports;
  std::map<std::string, long> errors;
  long sent = 0;
  for (long i = 0; i < flows; ++i) {
    const int fd = fds.emplace_back(socket(dst.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0)).get();
    if (fd < 0) probe::fail("socket", errno);
    if (sendto(fd, payload.data(), payload.size(), 0, dst.get(), dst.length) < 0) {
      ++errors[probe::errno_name(errno)];
      continue;
    }
    ++sent;
    probe::SocketAddress local;
    local.length = sizeof local.storage;
    if (getsockname(fd, local.get(), &local.length) == 0) ports.insert(probe::port_of(local.get()));
  }
  fds.clear();  // every socket closed once all have sent
  probe::emit(
      "done",
      {{"flows", flows}, {"sent", sent}, {"source_ports", ports.size()}, {"errors", errors}});
  return probe::kRan;
}
