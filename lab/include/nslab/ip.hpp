#pragma once
// IPv4/IPv6 addresses and prefixes as plain values (no kernel, no library).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nslab {

enum class Family { ipv4, ipv6 };

const char* family_name(Family f);  // "ipv4" / "ipv6"
int family_af(Family f);            // AF_INET / AF_INET6

struct IpAddress {
  Family family = Family::ipv4;
  std::array<std::uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4

  static std::optional<IpAddress> parse(std::string_view text);  // no prefix allowed
  std::string str() const;
  bool is_link_local() const;  // fe80::/10 (IPv6) or 169.254.0.0/16 (IPv4)
  int max_prefix() const { return family == Family::ipv4 ? 32 : 128; }
  bool operator==(const IpAddress&) const = default;
};

struct IpPrefix {
  IpAddress address;  // as written: host bits kept (10.0.1.1/24 is an interface address)
  int length = 0;

  // "A.B.C.D/N" or "X::Y/N"; the "/N" is required unless allow_bare (then it is the full length).
  static std::optional<IpPrefix> parse(std::string_view text, bool allow_bare = false);
  std::string str() const;                  // address/length
  bool contains(const IpAddress& a) const;  // same family and same first `length` bits
  IpPrefix network() const;                 // host bits cleared
  bool operator==(const IpPrefix&) const = default;
};

}  // namespace nslab
