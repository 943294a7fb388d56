// tun_read: attaches to an existing (persistent) tun device by name, as a VPN daemon or a user
// space stack does, and reports each IP packet the kernel routes into it (version, protocol,
// addresses, ports) until --count packets, SIGTERM/SIGINT, or --timeout with nothing read.

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../common/probe.hpp"

namespace {

// Version, protocol, addresses and (UDP, TCP) ports of one packet as it came from the device.
probe::Json describe(const unsigned char* p, std::size_t len) {
  probe::Json j = {{"length", len}};
  if (len < 1) return j;
  int version = p[0] >> 4;
  j["version"] = version;
  char src[INET6_ADDRSTRLEN] = "", dst[INET6_ADDRSTRLEN] = "";
  std::size_t l4 = 0;
  int proto = -1;
  if (version == 4 && len >= sizeof(iphdr)) {
    iphdr h;
    std::memcpy(&h, p, sizeof h);
    inet_ntop(AF_INET, &h.saddr, src, sizeof src);
    inet_ntop(AF_INET, &h.daddr, dst, sizeof dst);
    proto = h.protocol;
    l4 = static_cast<std::size_t>(h.ihl) * 4;
  } else if (version == 6 && len >= sizeof(ip6_hdr)) {
    ip6_hdr h;
    std::memcpy(&h, p, sizeof h);
    inet_ntop(AF_INET6, &h.ip6_src, src, sizeof src);
    inet_ntop(AF_INET6, &h.ip6_dst, dst, sizeof dst);
    proto = h.ip6_nxt;  // the first next header (extension headers are not followed)
    l4 = sizeof h;
  }
  if (proto < 0) return j;
  j["protocol"] = proto;
  j["src"] = src;
  j["dst"] = dst;
  if ((proto == IPPROTO_UDP || proto == IPPROTO_TCP) && len >= l4 + 4) {
    j["src_port"] = (p[l4] << 8) | p[l4 + 1];
    j["dst_port"] = (p[l4 + 2] << 8) | p[l4 + 3];
  }
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("tun_read", "Attach to a tun device by name and report the packets it gets.");
  o.value("dev", "the tun device (created in the node, e.g. by the topology's tun: key)")
      .value("count", "stop after this many packets (0: no limit)", "0")
      .value("timeout", "stop after this long without a packet", "10s");
  o.parse(argc, argv);
  nslab::UniqueFd sfd_owner = probe::termination_signals();
  const int sfd = sfd_owner.get();

  nslab::UniqueFd fd_owner(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  const int fd = fd_owner.get();
  if (fd < 0) {
    if (errno == EACCES || errno == EPERM || errno == ENOENT)
      probe::skip(std::string("cannot open /dev/net/tun: ") + std::strerror(errno));
    probe::fail("open /dev/net/tun", errno);
  }
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, o.str("dev").c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;  // as nslab creates it: flags must match to attach
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) probe::fail("TUNSETIFF " + o.str("dev"), errno);
  probe::emit("attached", {{"dev", ifr.ifr_name}});

  long count = o.integer("count"), got = 0;
  unsigned char buf[65536];
  for (;;) {
    probe::Wake w = probe::wait_readable(fd, sfd, o.duration("timeout"));
    if (w == probe::Wake::idle) probe::emit_timeout("packet");
    if (w != probe::Wake::readable) break;
    ssize_t len = read(fd, buf, sizeof buf);
    if (len < 0) {
      probe::emit("read", {{"result", probe::errno_name(errno)}});
      continue;
    }
    probe::emit("packet", describe(buf, static_cast<std::size_t>(len)));
    ++got;
    if (count && got >= count) break;
  }
  fd_owner.reset();
  probe::emit("done", {{"packets", got}});
  return probe::kRan;
}
