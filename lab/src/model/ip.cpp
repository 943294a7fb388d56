#include "nslab/ip.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <charconv>

namespace nslab {

const char* family_name(Family f) {
  return f == Family::ipv4 ? "ipv4" : "ipv6";
}
int family_af(Family f) {
  return f == Family::ipv4 ? AF_INET : AF_INET6;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  std::string s(text);
  IpAddress a;
  if (s.find(':') != std::string::npos) {
    a.family = Family::ipv6;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  } else {
    a.family = Family::ipv4;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  }
  return a;
}

std::string IpAddress::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_af(family), bytes.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::is_link_local() const {
  if (family == Family::ipv6) return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80;
  return bytes[0] == 169 && bytes[1] == 254;
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text, bool allow_bare) {
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return std::nullopt;
  IpPrefix p{*addr, addr->max_prefix()};
  if (slash == std::string_view::npos) {
    if (!allow_bare) return std::nullopt;
    return p;
  }
  auto len = text.substr(slash + 1);
  if (len.empty() || len.size() > 3 || (len.size() > 1 && len[0] == '0')) return std::nullopt;
  auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), p.length);
  if (ec != std::errc() || ptr != len.data() + len.size()) return std::nullopt;
  if (p.length < 0 || p.length > addr->max_prefix()) return std::nullopt;
  return p;
}

std::string IpPrefix::str() const {
  return address.str() + "/" + std::to_string(length);
}

IpPrefix IpPrefix::network() const {
  IpPrefix n = *this;
  for (int bit = length; bit < address.max_prefix(); ++bit)
    n.address.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  return n;
}

bool IpPrefix::contains(const IpAddress& a) const {
  if (a.family != address.family) return false;
  IpPrefix other{a, length};
  return other.network().address == network().address;
}

}  // namespace nslab
