#pragma once
// udp_echo: a tiny UDP echo library, the "project" this example tests with nslab.

#include <sys/socket.h>

#include <string>

namespace udp_echo {

// Receives one datagram on `fd` and sends it back to its sender. Returns its size, or -errno.
long echo_once(int fd);

// Connects `fd` to `dst`, sends `payload` and waits up to `timeout_ms` for it to come back.
// Returns the size of what came back (0 when nothing came within the time), or -errno (a port
// nobody holds: -ECONNREFUSED, at once).
long round_trip(int fd, const sockaddr* dst, socklen_t dst_len, const std::string& payload,
                int timeout_ms);

}  // namespace udp_echo
