#pragma once
// The topology model: plain data with the source position of everything a user wrote, so that
// every error can point at their YAML. It knows neither YAML nor the kernel.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nslab/ip.hpp"
#include "nslab/source.hpp"

namespace nslab {

template <class T>
struct Located {
  T value{};
  SourcePos pos;
};

struct AddressSpec {
  IpPrefix prefix;
  SourcePos pos;
};

// Configuration of one interface of a node; the interface itself is created by a link or bridge.
struct InterfaceSpec {
  std::string name;
  SourcePos pos;
  std::vector<AddressSpec> addresses;  // IPv4 first, then IPv6, each in the order written
  std::optional<Located<int>> mtu;

  std::optional<IpAddress> first(Family f) const;
};

struct RouteSpec {
  SourcePos pos;
  Family family = Family::ipv4;
  IpPrefix to;  // default route: length 0
  bool is_default = false;
  std::optional<Located<IpAddress>> via;
  std::optional<Located<std::string>> dev;
  std::optional<Located<int>> mtu;
  bool lock_mtu = false;
  std::optional<Located<std::uint32_t>> metric;
};

struct SysctlSpec {
  std::string key;  // dotted, e.g. net.ipv4.tcp_mtu_probing
  std::string value;
  SourcePos pos;
};

struct BridgeSpec {
  std::string name;
  SourcePos pos;
  std::vector<Located<std::string>> ports;
};

struct NftablesSpec {
  std::string text;
  SourcePos pos;       // the YAML value (for a block scalar, its indicator)
  int first_line = 0;  // 1-based file line of the ruleset's first line
  int indent = 0;      // columns to add to nft's column on every line
  // The YAML position of `line`:`column` (1-based) of the ruleset text.
  SourcePos at(int line, int column) const {
    if (line <= 0) return pos;
    return {pos.file, first_line + line - 1, indent + column};
  }
};

struct NodeSpec {
  std::string name;
  SourcePos pos;
  bool forwarding = false;
  std::vector<InterfaceSpec> interfaces;
  std::vector<RouteSpec> routes;
  std::vector<SysctlSpec> sysctls;
  std::vector<BridgeSpec> bridges;
  std::optional<NftablesSpec> nftables;

  const InterfaceSpec* interface(const std::string& ifname) const;
  const BridgeSpec* bridge(const std::string& ifname) const;
};

struct Endpoint {
  std::string node;
  std::string ifname;
  SourcePos pos;
  std::string str() const { return node + ":" + ifname; }
};

struct LinkSpec {
  SourcePos pos;
  Endpoint a, b;
  std::optional<Located<int>> mtu;
};

struct Topology {
  std::string file;  // where it was read from ("<inline>" for text)
  std::string name;
  std::string description;
  std::vector<NodeSpec> nodes;
  std::vector<LinkSpec> links;
  // False when some link could not be read: checks that need every link are then skipped, so a
  // broken link is reported once instead of as a cascade of "not created by any link".
  bool links_complete = true;

  const NodeSpec* node(const std::string& name) const;
  // The MTU an interface gets: its own `mtu`, else its link's, else 1500 (bridges: the kernel's).
  std::optional<int> effective_mtu(const std::string& node, const std::string& ifname) const;
  // Every interface a node has: link endpoints and bridges, in declaration order.
  std::vector<std::string> created_interfaces(const std::string& node) const;
};

inline constexpr int kDefaultMtu = 1500;
inline constexpr int kMinMtuIpv4 = 68;
inline constexpr int kMinMtuIpv6 = 1280;
inline constexpr int kMaxMtu = 65535;
inline constexpr std::size_t kMaxIfnameBytes = 15;

}  // namespace nslab
