// The example's own probe: the library's two calls, reported as JSON lines (nslab's probe
// protocol: one object per line with an "event"; exit 0 when it ran).
//   udp_echo_probe server PORT           echoes until SIGTERM: "ready", then "echoed" per datagram
//   udp_echo_probe client ADDRESS PORT SIZE   one round trip: "echo" (bytes back, 0 if none;
//                                              "error" ECONNREFUSED when nothing listens)

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "udp_echo/udp_echo.hpp"

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "server") {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return 1;
    std::printf("{\"event\":\"ready\",\"port\":%s}\n", argv[2]);
    std::fflush(stdout);
    for (;;) {
      pollfd p[2] = {{fd, POLLIN, 0}, {sfd, POLLIN, 0}};
      if (poll(p, 2, -1) < 0 || (p[1].revents & POLLIN)) break;
      long n = udp_echo::echo_once(fd);
      std::printf("{\"event\":\"echoed\",\"bytes\":%ld}\n", n);
      std::fflush(stdout);
    }
    return 0;
  }
  if (argc >= 5 && std::string(argv[1]) == "client") {
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[3])));
    if (inet_pton(AF_INET, argv[2], &dst.sin_addr) != 1) return 2;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    std::string payload(static_cast<size_t>(std::atoi(argv[4])), 'e');
    long n = udp_echo::round_trip(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst, payload, 2000);
    const char* error = n == -ECONNREFUSED ? "ECONNREFUSED" : n < 0 ? "other" : "";
    std::printf("{\"event\":\"echo\",\"sent\":%zu,\"bytes\":%ld,\"error\":\"%s\"}\n",
                payload.size(), n < 0 ? 0 : n, error);
    return 0;
  }
  std::fprintf(stderr, "usage: udp_echo_probe server PORT | client ADDRESS PORT SIZE\n");
  return 2;
}
