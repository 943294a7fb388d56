// YAML -> Topology. Structure only: types, keys, names and address syntax. Cross references and
// kernel limits are checked by validate_topology() in src/model.

#include <fmt/format.h>

#include "../model/names.hpp"
#include "nslab/load.hpp"
#include "topology_yaml.hpp"
#include "yaml_reader.hpp"

namespace nslab {

namespace {

class TopologyParser {
 public:
  explicit TopologyParser(yaml::Reader& r) : r_(r) {}

  Topology parse(const YAML::Node& root) {
    Topology t;
    t.file = r_.file();
    if (!r_.check_map(root, "the topology", {"name", "description", "nodes", "links"})) return t;

    if (auto n = root["name"]; !n) {
      r_.error(root, "missing required key 'name'");
    } else if (auto s = r_.string(n, "name")) {
      if (auto e = check_topology_name(*s)) r_.error(n, *e);
      t.name = *s;
    }
    if (auto n = root["description"])
      if (auto s = r_.string(n, "description")) t.description = *s;

    if (auto n = root["nodes"]; !n) {
      r_.error(root, "missing required key 'nodes'");
    } else if (r_.check_map(n, "nodes")) {
      if (n.size() == 0) r_.error(n, "a topology needs at least one node");
      for (const auto& kv : n)
        if (!t.node(kv.first.Scalar())) node(t, kv.first, kv.second);  // duplicates: reported
    }
    if (auto n = root["links"]) {
      if (!n.IsSequence()) {
        r_.error(n, "links must be a list");
      } else {
        for (const auto& item : n) link(t, item);
      }
    }
    return t;
  }

 private:
  void node(Topology& t, const YAML::Node& key, const YAML::Node& v) {
    NodeSpec node;
    node.name = key.Scalar();
    node.pos = r_.pos(key);
    if (auto e = check_node_name(node.name)) r_.error(key, *e);
    const std::string what = fmt::format("node '{}'", node.name);
    if (!v.IsNull() &&
        r_.check_map(v, what,
                     {"interfaces", "routes", "forwarding", "sysctl", "nftables", "bridges"})) {
      if (auto f = v["forwarding"]) node.forwarding = r_.boolean(f, "forwarding").value_or(false);
      if (auto i = v["interfaces"]; i && r_.check_map(i, what + " interfaces"))
        for (const auto& kv : i) interface(node, kv.first, kv.second);
      if (auto b = v["bridges"]; b && r_.check_map(b, what + " bridges"))
        for (const auto& kv : b) bridge(node, kv.first, kv.second);
      if (auto rs = v["routes"]) {
        if (!rs.IsSequence())
          r_.error(rs, "routes must be a list");
        else
          for (const auto& item : rs) route(node, item);
      }
      if (auto s = v["sysctl"]; s && r_.check_map(s, what + " sysctl"))
        for (const auto& kv : s) sysctl(node, kv.first, kv.second);
      if (auto n = v["nftables"]) nftables(node, n);
    }
    t.nodes.push_back(std::move(node));
  }

  void interface(NodeSpec& node, const YAML::Node& key, const YAML::Node& v) {
    InterfaceSpec ifc;
    ifc.name = key.Scalar();
    ifc.pos = r_.pos(key);
    if (auto e = check_ifname(ifc.name)) r_.error(key, *e);
    const std::string what = fmt::format("interface '{}:{}'", node.name, ifc.name);
    if (!v.IsNull() && r_.check_map(v, what, {"ipv4", "ipv6", "mtu"})) {
      for (Family f : {Family::ipv4, Family::ipv6}) {
        const char* k = family_name(f);
        auto list = v[k];
        if (!list) continue;
        for (const auto& a : r_.scalar_or_list(list, k)) {
          auto p = IpPrefix::parse(a.Scalar());
          if (!p || p->address.family != f) {
            r_.error(a, fmt::format("invalid {} address '{}' (expected {} with a prefix length)",
                                    f == Family::ipv4 ? "IPv4" : "IPv6", a.Scalar(),
                                    f == Family::ipv4 ? "A.B.C.D/N" : "X:X::X/N"));
            continue;
          }
          ifc.addresses.push_back({*p, r_.pos(a)});
        }
      }
      if (auto m = v["mtu"])
        if (auto x = r_.integer(m, "mtu", 0, 1 << 20))
          ifc.mtu = Located<int>{static_cast<int>(*x), r_.pos(m)};
    }
    node.interfaces.push_back(std::move(ifc));
  }

  void bridge(NodeSpec& node, const YAML::Node& key, const YAML::Node& v) {
    BridgeSpec b;
    b.name = key.Scalar();
    b.pos = r_.pos(key);
    if (auto e = check_ifname(b.name)) r_.error(key, *e);
    const std::string what = fmt::format("bridge '{}:{}'", node.name, b.name);
    if (r_.check_map(v, what, {"ports"})) {
      if (auto p = v["ports"]; !p) {
        r_.error(v, what + " needs 'ports'");
      } else if (!p.IsSequence()) {
        r_.error(p, "ports must be a list of interface names");
      } else {
        for (const auto& item : p)
          if (auto s = r_.string(item, "a bridge port")) b.ports.push_back({*s, r_.pos(item)});
      }
    }
    node.bridges.push_back(std::move(b));
  }

  void route(NodeSpec& node, const YAML::Node& v) {
    if (!r_.check_map(v, "a route", {"to", "via", "dev", "mtu", "lock_mtu", "metric", "family"}))
      return;
    RouteSpec rt;
    rt.pos = r_.pos(v);
    std::optional<Family> family;
    if (auto f = v["family"]) {
      auto s = r_.string(f, "family");
      if (s == "ipv4")
        family = Family::ipv4;
      else if (s == "ipv6")
        family = Family::ipv6;
      else if (s)
        r_.error(f, fmt::format("family must be ipv4 or ipv6, not '{}'", *s));
    }
    if (auto via = v["via"]) {
      if (auto s = r_.string(via, "via")) {
        if (auto a = IpAddress::parse(*s))
          rt.via = Located<IpAddress>{*a, r_.pos(via)};
        else
          r_.error(via, fmt::format("invalid gateway address '{}'", *s));
      }
    }
    auto to = v["to"];
    if (!to) {
      r_.error(v, "a route needs 'to' (default or a prefix)");
      return;
    }
    auto s = r_.string(to, "to");
    if (!s) return;
    if (*s == "default") {
      rt.is_default = true;
      if (rt.via) family = family.value_or(rt.via->value.family);
      if (!family) {
        r_.error(to, "a default route without 'via' needs 'family: ipv4' or 'family: ipv6'");
        return;
      }
      rt.family = *family;
      rt.to = IpPrefix{IpAddress{*family, {}}, 0};
    } else {
      auto p = IpPrefix::parse(*s, true);
      if (!p) {
        r_.error(to,
                 fmt::format("invalid route destination '{}' (expected default or a prefix)", *s));
        return;
      }
      rt.to = *p;
      rt.family = p->address.family;
      rt.is_default = p->length == 0;
      if (family && *family != rt.family)
        r_.error(v["family"],
                 fmt::format("family {} does not match destination {}", family_name(*family), *s));
    }
    if (auto d = v["dev"])
      if (auto name = r_.string(d, "dev")) rt.dev = Located<std::string>{*name, r_.pos(d)};
    if (auto m = v["mtu"])
      if (auto x = r_.integer(m, "route mtu", 0, 1 << 20))
        rt.mtu = Located<int>{static_cast<int>(*x), r_.pos(m)};
    if (auto l = v["lock_mtu"]) {
      rt.lock_mtu = r_.boolean(l, "lock_mtu").value_or(false);
      if (rt.lock_mtu && !v["mtu"]) r_.error(l, "lock_mtu needs 'mtu' on the same route");
    }
    if (auto m = v["metric"])
      if (auto x = r_.integer(m, "metric", 0, 0xffffffffLL))
        rt.metric = Located<std::uint32_t>{static_cast<std::uint32_t>(*x), r_.pos(m)};
    node.routes.push_back(std::move(rt));
  }

  void sysctl(NodeSpec& node, const YAML::Node& key, const YAML::Node& v) {
    SysctlSpec s;
    s.key = key.Scalar();
    s.pos = r_.pos(key);
    if (auto e = check_sysctl_key(s.key)) r_.error(key, *e);
    if (auto val = r_.string(v, fmt::format("sysctl '{}'", s.key))) {
      if (auto e = check_sysctl_value(s.key, *val)) r_.error(v, *e);
      s.value = *val;
    }
    node.sysctls.push_back(std::move(s));
  }

  void nftables(NodeSpec& node, const YAML::Node& v) {
    auto text = r_.string(v, "nftables");
    if (!text) return;
    NftablesSpec n;
    n.text = *text;
    n.pos = r_.pos(v);
    // A literal block (|) starts on the next line; nft's columns are then offset by the block's
    // indentation. Other styles are one line long.
    std::string_view here = r_.source_line(n.pos.line);
    std::size_t col = static_cast<std::size_t>(n.pos.column - 1);
    if (col < here.size() && (here[col] == '|' || here[col] == '>')) {
      n.first_line = n.pos.line + 1;
      std::string_view first = r_.source_line(n.first_line);
      n.indent = static_cast<int>(first.find_first_not_of(' '));
      if (n.indent < 0) n.indent = 0;
    } else {
      n.first_line = n.pos.line;
      n.indent = n.pos.column - 1 +
                 ((col < here.size() && (here[col] == '"' || here[col] == '\'')) ? 1 : 0);
    }
    node.nftables = std::move(n);
  }

  std::optional<Endpoint> endpoint(const YAML::Node& n) {
    auto s = r_.string(n, "a link endpoint");
    if (!s) return std::nullopt;
    auto colon = s->find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == s->size() ||
        s->find(':', colon + 1) != std::string::npos) {
      r_.error(n, fmt::format("link endpoint '{}' must be node:interface", *s));
      return std::nullopt;
    }
    Endpoint e{s->substr(0, colon), s->substr(colon + 1), r_.pos(n)};
    if (auto err = check_ifname(e.ifname)) {
      r_.error(n, *err);
      return std::nullopt;
    }
    return e;
  }

  void link(Topology& t, const YAML::Node& item) {
    LinkSpec l;
    l.pos = r_.pos(item);
    // `ends` is built, never assigned: assigning a missing key's node throws in yaml-cpp.
    const YAML::Node ends = item.IsMap() ? item["endpoints"] : item;
    if (item.IsMap()) {
      if (!r_.check_map(item, "a link", {"endpoints", "mtu"}) || !ends) {
        if (!ends) r_.error(item, "a link needs 'endpoints: [node:if, node:if]'");
        t.links_complete = false;
        return;
      }
      if (auto m = item["mtu"])
        if (auto x = r_.integer(m, "mtu", 0, 1 << 20))
          l.mtu = Located<int>{static_cast<int>(*x), r_.pos(m)};
    } else if (!item.IsSequence()) {
      r_.error(item, "a link must be [node:if, node:if] or {endpoints: [...], mtu: N}");
      t.links_complete = false;
      return;
    }
    if (!ends.IsSequence() || ends.size() != 2) {
      r_.error(ends, "a link has exactly two endpoints");
      t.links_complete = false;
      return;
    }
    auto a = endpoint(ends[0]);
    auto b = endpoint(ends[1]);
    if (!a || !b) {
      t.links_complete = false;
      return;
    }
    l.a = *a;
    l.b = *b;
    t.links.push_back(std::move(l));
  }

  yaml::Reader& r_;
};

}  // namespace

namespace yaml {
Topology parse_topology(Reader& reader, const YAML::Node& root) {
  return TopologyParser(reader).parse(root);
}
}  // namespace yaml

Topology parse_topology_text(const std::string& text, const std::string& file, Diagnostics& diags) {
  yaml::Reader reader(file, text, diags);
  Topology t{file};
  reader.guard([&] {
    YAML::Node root = reader.parse();
    if (root.IsDefined()) t = yaml::parse_topology(reader, root);
  });
  return t;
}

Topology parse_topology_file(const std::string& path, Diagnostics& diags) {
  auto text = yaml::read_input_file(path, "topology", diags);
  if (!text) return Topology{path};
  return parse_topology_text(*text, path, diags);
}

static Topology checked(Topology t, Diagnostics& diags) {
  validate_topology(t, diags);  // also on a partial model: the user sees every problem at once
  if (!diags.empty()) throw InputError(diags.sorted());
  return t;
}

Topology load_topology_file(const std::string& path) {
  Diagnostics diags;
  return checked(parse_topology_file(path, diags), diags);
}

Topology load_topology_text(const std::string& text, const std::string& file) {
  Diagnostics diags;
  return checked(parse_topology_text(text, file, diags), diags);
}

}  // namespace nslab
