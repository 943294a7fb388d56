// The registry of interface kinds, and the typed reads the kinds share.

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "../names.hpp"
#include "nslab/interface_kinds.hpp"
#include "nslab/qdisc_kinds.hpp"

namespace nslab {

namespace kinds {
// One line per kind, in the order a node's keys list them; KIND_kind() is in KIND.cpp (the IP
// tunnels' in ip_tunnels.cpp).
#define NSLAB_INTERFACE_KINDS(X) \
  X(dummy)                       \
  X(ifb)                         \
  X(vxlan)                       \
  X(macvlan)                     \
  X(ipvlan)                      \
  X(vlan)                        \
  X(tun)                         \
  X(vrf)                         \
  X(gre)                         \
  X(gretap)                      \
  X(ip6gre)                      \
  X(ipip)                        \
  X(sit)                         \
  X(ip6tnl)                      \
  X(geneve)
#define NSLAB_DECLARE(k) const InterfaceKind& k##_kind();
NSLAB_INTERFACE_KINDS(NSLAB_DECLARE)
#undef NSLAB_DECLARE
}  // namespace kinds

// The root qdisc kinds, one line each, in the order messages list them; KIND_kind() is in
// KIND.cpp.
#define NSLAB_QDISC_KINDS(X) \
  X(tbf)                     \
  X(htb)                     \
  X(netem)
namespace kinds {
#define NSLAB_DECLARE(k) const QdiscKind& k##_kind();
NSLAB_QDISC_KINDS(NSLAB_DECLARE)
#undef NSLAB_DECLARE
}  // namespace kinds

const std::vector<const QdiscKind*>& qdisc_kinds() {
#define NSLAB_ENTRY(k) &kinds::k##_kind(),
  static const std::vector<const QdiscKind*> all = {NSLAB_QDISC_KINDS(NSLAB_ENTRY)};
#undef NSLAB_ENTRY
  return all;
}

namespace {
// The unit of `kind` in a registry; vocabulary_test checks that each kind has one.
template <class Unit, class Kind>
const Unit& unit_of(const std::vector<const Unit*>& registry, Kind kind) {
  for (const auto* u : registry)
    if (u->kind == kind) return *u;
  throw std::logic_error("a kind without its unit");
}
}  // namespace

const QdiscKind& qdisc_kind(QdiscSpec::Kind kind) {
  return unit_of(qdisc_kinds(), kind);
}

const std::vector<const InterfaceKind*>& interface_kinds() {
#define NSLAB_ENTRY(k) &kinds::k##_kind(),
  static const std::vector<const InterfaceKind*> all = {NSLAB_INTERFACE_KINDS(NSLAB_ENTRY)};
#undef NSLAB_ENTRY
  return all;
}

const InterfaceKind& interface_kind(VirtualSpec::Kind kind) {
  return unit_of(interface_kinds(), kind);
}

std::string bridgeable_kind_names() {
  std::vector<std::string_view> names;
  for (const auto* k : interface_kinds())
    if (k->bridge_port) names.push_back(k->bridged_as ? k->bridged_as : k->name());
  return or_list(names, "and");
}

namespace {
// A key table as the reference lists it: each key, aligned, with its value text.
template <class Spec>
std::string keys_text(const std::vector<KindKey<Spec>>& keys) {
  std::size_t width = 0;
  for (const auto& k : keys) width = std::max(width, std::string_view(k.name).size());
  std::string s;
  for (const auto& k : keys)
    s += fmt::format("  {:<{}}  {}{}\n", k.name, width, k.needs ? "required: " : "", k.value);
  return s;
}
}  // namespace

std::string qdisc_kind_reference(const QdiscKind& kind) {
  return fmt::format("{0}: a root qdisc, under a node's qdiscs: {{DEV: {{{0}: {{...}}}}}}\n",
                     kind.name()) +
         keys_text(kind.keys);
}

std::string interface_kind_reference(const InterfaceKind& kind) {
  std::string s =
      kind.tunnel
          ? fmt::format("{0}: under a node's tunnels: {{NAME: {{kind: {0}, ...}}}}\n", kind.name())
          : fmt::format("{0}: under a node's {0}: {{NAME: {{...}}}}\n", kind.name());
  if (kind.keys.empty()) s += "  no settings: NAME: {}\n";
  s += keys_text(kind.keys);
  std::vector<std::string> facts;
  if (kind.bridge_port)
    facts.push_back(kind.bridged_as ? fmt::format("a bridge port as a {}", kind.bridged_as)
                                    : "a bridge port");
  if (kind.goes_with_lower) facts.push_back("deleted by the kernel with its lower device");
  for (const auto& f : facts) s += "  (" + f + ")\n";
  return s;
}

std::optional<Located<std::string>> ifname_value(KeyValue& v, const std::string& what) {
  auto s = v.string(what);
  if (!s) return std::nullopt;
  if (auto e = check_ifname(*s)) v.error(*e);
  return Located<std::string>{*s, v.pos()};
}

std::optional<Located<IpAddress>> address_value(KeyValue& v, const std::string& key) {
  auto s = v.string(key);
  if (!s) return std::nullopt;
  auto a = IpAddress::parse(*s);
  if (!a) {
    v.error(fmt::format("invalid {} address '{}'", key, *s));
    return std::nullopt;
  }
  return Located<IpAddress>{*a, v.pos()};
}

}  // namespace nslab
