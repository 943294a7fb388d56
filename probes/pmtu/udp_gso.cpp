// udp_gso: UDP segmentation offload (UDP_SEGMENT), as the kernel's selftest udpgso.c asks
// about it. Each --cases entry GSO:PAYLOAD sends one PAYLOAD-byte buffer with a UDP_SEGMENT
// control message of GSO bytes from a socket connected to --dst:--port, where the probe's own
// receiver is bound (a local address: loopback, or one of the node's). The record says what
// send() returned and which datagrams the receiver got: how many, and the first and last size.

#include <netinet/udp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "../common/probe.hpp"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace {

struct Case {
  int gso = 0;
  std::size_t payload = 0;
};

std::vector<Case> parse_cases(const std::string& list) {
  std::vector<Case> out;
  for (std::size_t at = 0; at < list.size();) {
    auto comma = list.find(',', at);
    std::string item = list.substr(at, comma == std::string::npos ? comma : comma - at);
    auto colon = item.find(':');
    if (colon == std::string::npos) probe::fail("--cases entries are GSO:PAYLOAD, not " + item);
    out.push_back({std::stoi(item.substr(0, colon)), std::stoul(item.substr(colon + 1))});
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

// Sends `payload` bytes with UDP_SEGMENT `gso` (0: none); returns the bytes sent or -errno.
ssize_t send_segmented(int fd, int gso, std::size_t payload) {
  std::vector<char> data(payload, 'g');
  iovec iov{data.data(), data.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(uint16_t))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (gso) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    auto size = static_cast<uint16_t>(gso);
    std::memcpy(CMSG_DATA(c), &size, sizeof size);
  }
  ssize_t r = sendmsg(fd, &msg, 0);
  return r < 0 ? -errno : r;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("udp_gso", "UDP_SEGMENT sends and the datagrams they become.");
  o.value("dst", "a local address: the receiver binds it, the sender connects to it")
      .value("port", "UDP port", "9600")
      .value("cases", "comma-separated GSO:PAYLOAD pairs (GSO 0: no UDP_SEGMENT)")
      .value("timeout", "bound on waiting for the datagrams of one send", "2s");
  o.parse(argc, argv);
  auto dst = probe::parse_address(o.str("dst"), static_cast<int>(o.integer("port")));
  nslab::UniqueFd rx_owner(socket(dst.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const int rx = rx_owner.get();
  int big = 4 << 20;
  setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  if (bind(rx, dst.get(), dst.length) < 0) probe::fail("bind " + o.str("dst"), errno);
  nslab::UniqueFd tx_owner(socket(dst.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const int tx = tx_owner.get();
  if (connect(tx, dst.get(), dst.length) < 0) probe::fail("connect " + o.str("dst"), errno);
  std::vector<char> buf(65536);
  for (const Case& c : parse_cases(o.str("cases"))) {
    ssize_t r = send_segmented(tx, c.gso, c.payload);
    // Expected datagrams: the payload cut into gso-byte segments (the last may be shorter).
    long want = r <= 0 ? 0 : c.gso ? (r + c.gso - 1) / c.gso : 1;
    long got = 0;
    ssize_t first = 0, last = 0;
    probe::Deadline d(o.duration("timeout"));
    auto take_all = [&] {
      ssize_t n;
      while ((n = recv(rx, buf.data(), buf.size(), 0)) >= 0) {
        if (!got++) first = n;
        last = n;
      }
    };
    while (got < want && probe::wait_fd(rx, POLLIN, d)) take_all();
    take_all();  // and anything beyond, already there
    probe::emit("send",
                {{"gso_size", c.gso},
                 {"payload", c.payload},
                 {"result", r < 0 ? probe::errno_name(static_cast<int>(-r)) : std::to_string(r)},
                 {"datagrams", got},
                 {"first_size", first},
                 {"last_size", last}});
  }
  return probe::kRan;
}
