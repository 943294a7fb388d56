#pragma once
// net.* sysctls of the calling thread's network namespace (/proc/sys follows the thread's netns
// at open time).

#include <string>
#include <string_view>

namespace nslab::sysctl {

std::string path_of(std::string_view key);  // net.ipv4.ip_forward -> /proc/sys/net/ipv4/ip_forward
void write(std::string_view key, std::string_view value);  // throws Error (ENOENT: no such key)
std::string read(std::string_view key);                    // trailing newline removed

}  // namespace nslab::sysctl
