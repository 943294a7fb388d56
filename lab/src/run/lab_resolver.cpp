#include <fmt/format.h>

#include <charconv>

#include "nslab/error.hpp"
#include "nslab/lab.hpp"

namespace nslab {

TemplateResolver lab_resolver(Lab& lab, const Topology& model,
                              const std::map<std::string, std::string>* saved) {
  return [&lab, &model, saved](const TemplateRef& r) -> std::string {
    if (r.lab_dir) return lab.dir();
    if (!r.save.empty()) {
      auto it = saved ? saved->find(r.save) : decltype(saved->end()){};
      if (!saved || it == saved->end())
        throw Error(fmt::format("nothing was saved as '{}'", r.save), ENOENT);
      if (!r.arithmetic) return it->second;
      long long v = 0;
      const std::string& text = it->second;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || end != text.data() + text.size())
        throw Error(fmt::format("template '{}': the value saved as '{}' is \"{}\", not a whole "
                                "number",
                                r.text, r.save, text),
                    EINVAL);
      long long sum = 0;
      if (__builtin_add_overflow(v, r.offset, &sum))
        throw Error(fmt::format("template '{}': {} {:+} overflows", r.text, v, r.offset), ERANGE);
      return std::to_string(sum);
    }
    LabNode& node = lab.node(r.node);
    if (r.attribute == "ifindex") return std::to_string(node.ifindex(r.ifname));
    if (r.attribute == "mtu") {
      for (const auto& l : node.rtnl().links())
        if (l.name == r.ifname) return std::to_string(l.mtu);
      throw Error(fmt::format("template '{}': node '{}' has no interface '{}' now", r.text, r.node,
                              r.ifname),
                  ENODEV);
    }
    const NodeSpec* n = model.node(r.node);
    const InterfaceSpec* ifc = n ? n->interface(r.ifname) : nullptr;
    auto a = ifc ? ifc->first(r.attribute == "ipv4" ? Family::ipv4 : Family::ipv6) : std::nullopt;
    if (!a) throw Error(fmt::format("template '{}': no such address now", r.text), ENOENT);
    return a->str();
  };
}

}  // namespace nslab
