// The registry of the interface kinds' kernel halves.

#include <array>
#include <cstring>

#include "link_kinds.hpp"

namespace nslab::rtnl_detail {

// One line per kind with attributes, each defined (extern) in its own file.
extern const LinkKind kVxlanLink, kGeneveLink, kMacvlanLink, kIpvlanLink, kVlanLink, kVrfLink,
    kGreLink, kGretapLink, kIpipLink, kSitLink, kIp6greLink, kIp6tnlLink;
static const std::array kLinkKinds = {&kVxlanLink, &kGeneveLink, &kMacvlanLink, &kIpvlanLink,
                                      &kVlanLink,  &kVrfLink,    &kGreLink,     &kGretapLink,
                                      &kIpipLink,  &kSitLink,    &kIp6greLink,  &kIp6tnlLink};

// One line per root qdisc kind, each defined (extern) in its own file.
extern const QdiscKernelKind kTbfQdisc, kHtbQdisc, kNetemQdisc;
static const std::array kQdiscKinds = {&kTbfQdisc, &kHtbQdisc, &kNetemQdisc};

const QdiscKernelKind* qdisc_kernel_kind(std::string_view name) {
  for (const auto* k : kQdiscKinds)
    if (name == k->name) return k;
  return nullptr;
}

const LinkKind* link_kind(std::string_view name) {
  for (const auto* k : kLinkKinds)
    if (name == k->name) return k;
  return nullptr;
}

}  // namespace nslab::rtnl_detail

namespace nslab {

bool sample_virtual_request(VirtualRequest& req) {
  const rtnl_detail::LinkKind* kind = rtnl_detail::link_kind(req.kind);
  if (kind && kind->sample) kind->sample(req);
  return kind && kind->needs_lower;
}

}  // namespace nslab

namespace nslab::rtnl_detail {

std::uint32_t ipv4_of(const std::optional<IpAddress>& a) {
  std::uint32_t v = 0;
  if (a) std::memcpy(&v, a->bytes.data(), 4);  // network byte order, as in_addr_t
  return v;
}

in6_addr ipv6_of(const std::optional<IpAddress>& a) {
  in6_addr v{};
  if (a) std::memcpy(&v, a->bytes.data(), 16);
  return v;
}

}  // namespace nslab::rtnl_detail
