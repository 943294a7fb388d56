#include <fmt/format.h>

#include "nslab/error.hpp"
#include "nslab/lab.hpp"

namespace nslab {

TemplateResolver lab_resolver(Lab& lab, const std::map<std::string, std::string>* saved) {
  return [&lab, saved](const TemplateRef& r) -> std::string {
    if (r.lab_dir) return lab.dir();
    if (!r.save.empty()) return resolve_saved(r, saved);
    LabNode& node = lab.node(r.node);
    if (r.attribute == "ifindex") return std::to_string(node.ifindex(r.ifname));
    if (r.attribute == "mtu") {
      for (const auto& l : node.rtnl().links())
        if (l.name == r.ifname) return std::to_string(l.mtu);
      throw Error(fmt::format("template '{}': node '{}' has no interface '{}' now", r.text, r.node,
                              r.ifname),
                  ENODEV);
    }
    const NodeSpec* n = lab.topology().node(r.node);  // as the changes so far left it
    const InterfaceSpec* ifc = n ? n->interface(r.ifname) : nullptr;
    auto a = ifc ? ifc->first(r.attribute == "ipv4" ? Family::ipv4 : Family::ipv6) : std::nullopt;
    if (!a) throw Error(fmt::format("template '{}': no such address now", r.text), ENOENT);
    return a->str();
  };
}

}  // namespace nslab
