#include "udp_echo/udp_echo.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

namespace udp_echo {

long echo_once(int fd) {
  std::vector<char> buf(65536);
  sockaddr_storage from{};
  socklen_t len = sizeof from;
  ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
  if (n < 0) return -errno;
  if (sendto(fd, buf.data(), static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len) <
      0)
    return -errno;
  return n;
}

long round_trip(int fd, const sockaddr* dst, socklen_t dst_len, const std::string& payload,
                int timeout_ms) {
  // Connected, so that a port nobody holds answers at once (ECONNREFUSED) instead of silence.
  if (connect(fd, dst, dst_len) < 0 || send(fd, payload.data(), payload.size(), 0) < 0)
    return -errno;
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) != 1) return 0;
  std::vector<char> buf(65536);
  ssize_t n = recv(fd, buf.data(), buf.size(), 0);
  if (n < 0) return -errno;
  return std::string(buf.data(), static_cast<size_t>(n)) == payload ? n : 0;
}

}  // namespace udp_echo
