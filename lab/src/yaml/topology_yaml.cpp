// YAML -> Topology. Structure only: types, keys, names and address syntax. Cross references and
// kernel limits are checked by validate_topology() in src/model.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "../model/names.hpp"
#include "nslab/interface_kinds.hpp"
#include "nslab/load.hpp"
#include "nslab/qdisc_kinds.hpp"
#include "topology_yaml.hpp"
#include "yaml_reader.hpp"

namespace nslab {

namespace {

class TopologyParser {
 public:
  explicit TopologyParser(yaml::Reader& r) : r_(r) {}

  // A change fragment (SPEC 7): the shape of a topology, without name or description; its nodes
  // name nodes of the topology it changes.
  Topology parse_fragment(const YAML::Node& root) {
    Topology t;
    t.file = r_.file();
    if (!r_.check_map(root, "a change fragment", {"nodes", "links"})) return t;
    if (auto n = root["nodes"]; n && r_.check_map(n, "nodes"))
      for (const auto& kv : n)
        if (!t.node(kv.first.Scalar())) node(t, kv.first, kv.second);
    if (auto n = root["links"]) {
      if (!n.IsSequence())
        r_.error(n, "links must be a list");
      else
        for (const auto& item : n) link(t, item);
    }
    if (!root["nodes"] && !root["links"]) r_.error(root, "a change fragment needs nodes or links");
    return t;
  }

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
    if (!v.IsNull() && r_.check_map(v, what, node_keys())) {
      if (auto f = v["forwarding"]) node.forwarding = r_.boolean(f, "forwarding").value_or(false);
      if (auto i = v["interfaces"]; i && r_.check_map(i, what + " interfaces"))
        for (const auto& kv : i) interface(node, kv.first, kv.second);
      if (auto b = v["bridges"]; b && r_.check_map(b, what + " bridges"))
        for (const auto& kv : b) bridge(node, kv.first, kv.second);
      // Interfaces the node creates, in the order their kinds are written.
      for (const auto& kv : v) {
        for (const auto* k : interface_kinds()) {
          if (!k->tunnel && kv.first.Scalar() == k->name() &&
              r_.check_map(kv.second, what + " " + k->name()))
            for (const auto& dev : kv.second) virtual_interface(node, *k, dev.first, dev.second);
        }
        if (kv.first.Scalar() == "tunnels" && r_.check_map(kv.second, what + " tunnels"))
          for (const auto& dev : kv.second) tunnel(node, dev.first, dev.second);
      }
      if (auto rs = v["routes"]) {
        if (!rs.IsSequence())
          r_.error(rs, "routes must be a list");
        else
          for (const auto& item : rs) route(node, item);
      }
      if (auto rs = v["rules"]) {
        if (!rs.IsSequence())
          r_.error(rs, "rules must be a list");
        else
          for (const auto& item : rs) rule(node, item);
      }
      if (auto ns = v["neighbours"]) {
        if (!ns.IsSequence())
          r_.error(ns, "neighbours must be a list");
        else
          for (const auto& item : ns) neighbour(node, item);
      }
      if (auto ns = v["nexthops"]) {
        if (!ns.IsSequence())
          r_.error(ns, "nexthops must be a list");
        else
          for (const auto& item : ns) nexthop(node, item);
      }
      if (auto q = v["qdiscs"]; q && r_.check_map(q, what + " qdiscs"))
        for (const auto& kv : q) qdisc(node, kv.first, kv.second);
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
    if (!v.IsNull() && r_.check_map(v, what, {"ipv4", "ipv6", "mtu", "up", "ifindex"})) {
      for (Family f : {Family::ipv4, Family::ipv6}) {
        const char* k = family_name(f);
        auto list = v[k];
        if (!list) continue;
        std::vector<YAML::Node> items;
        if (list.IsSequence())
          for (const auto& item : list) items.push_back(item);
        else
          items.push_back(list);
        for (const auto& a : items) address(ifc, f, a);
      }
      if (auto m = v["mtu"])
        if (auto x = r_.integer(m, "mtu", 0, 1 << 20))
          ifc.mtu = Located<int>{static_cast<int>(*x), r_.pos(m)};
      if (auto u = v["up"])
        if (auto x = r_.boolean(u, "up")) ifc.up = Located<bool>{*x, r_.pos(u)};
      if (auto i = v["ifindex"])
        if (auto x = r_.integer(i, "ifindex", 2, 1 << 24))
          ifc.ifindex = Located<int>{static_cast<int>(*x), r_.pos(i)};
    }
    node.interfaces.push_back(std::move(ifc));
  }

  // `10.0.0.1/24`, or `{address: 10.0.0.1/24, valid_lft: 3s, preferred_lft: 1s, flags: [...]}`.
  void address(InterfaceSpec& ifc, Family f, const YAML::Node& a) {
    const YAML::Node none;
    const bool detailed = a.IsMap();
    if (!a.IsScalar() && !detailed) {
      r_.error(a,
               fmt::format("{} entries must be addresses or maps with 'address'", family_name(f)));
      return;
    }
    if (detailed &&
        !r_.check_map(a, "an address", {"address", "valid_lft", "preferred_lft", "flags", "dad"}))
      return;
    const YAML::Node at = detailed ? a["address"] : a;
    if (!at) {
      r_.error(a, "an address needs 'address' (a prefix like 10.0.0.1/24)");
      return;
    }
    std::string text = r_.text(at);
    auto p = IpPrefix::parse(text);
    if (!p || p->address.family != f) {
      r_.error(at, fmt::format("invalid {} address '{}' (expected {} with a prefix length)",
                               f == Family::ipv4 ? "IPv4" : "IPv6", text,
                               f == Family::ipv4 ? "A.B.C.D/N" : "X:X::X/N"));
      return;
    }
    AddressSpec spec{*p, r_.pos(at)};
    if (detailed) {
      // Lifetimes are whole seconds on the wire (IFA_CACHEINFO).
      auto seconds = [&](const char* k) -> std::optional<Located<std::uint32_t>> {
        auto x = a[k];
        if (!x) return std::nullopt;
        if (x.IsScalar() && x.Scalar() == "forever") return std::nullopt;
        auto d = r_.duration(x, k);
        if (!d) return std::nullopt;
        if (d->count() % 1000) {
          r_.error(x, fmt::format("{} is whole seconds (the kernel counts in seconds), not '{}'", k,
                                  x.Scalar()));
          return std::nullopt;
        }
        return Located<std::uint32_t>{static_cast<std::uint32_t>(d->count() / 1000), r_.pos(x)};
      };
      spec.valid_lft = seconds("valid_lft");
      spec.preferred_lft = seconds("preferred_lft");
      if (spec.valid_lft && spec.preferred_lft && spec.preferred_lft->value > spec.valid_lft->value)
        r_.error(a["preferred_lft"], "preferred_lft cannot be longer than valid_lft");
      if (auto p = a["preferred_lft"];
          spec.valid_lft && p && p.IsScalar() && p.Scalar() == "forever")
        r_.error(p, "preferred_lft cannot be forever when valid_lft is not (it would be longer)");
      if (auto fl = a["flags"]) {
        for (const auto& x : r_.scalar_or_list(fl, "flags"))
          if (auto flag = r_.word(x, "flags", kAddressFlags)) spec.flags.push_back(*flag);
      }
    }
    if (detailed)
      if (auto d = a["dad"]) {
        if (auto x = r_.boolean(d, "dad")) spec.dad = Located<bool>{*x, r_.pos(d)};
        if (spec.runs_dad() && f == Family::ipv4)
          r_.error(d,
                   "dad: true is IPv6's duplicate address detection; the kernel runs none "
                   "for IPv4");
        for (const auto& fl : spec.flags)
          if (spec.runs_dad() && fl.value == AddressFlag::nodad)
            r_.error(d,
                     fmt::format("dad: true contradicts the nodad flag at {}", fl.pos.line_col()));
      }
    ifc.addresses.push_back(std::move(spec));
  }

  // "gre, ip6gre, ipip, sit, ip6tnl or geneve"
  static std::string tunnel_kind_names() {
    std::vector<std::string_view> names;
    for (const auto* k : interface_kinds())
      if (k->tunnel) names.push_back(k->name());
    return or_list(names);
  }

  // A node's keys: its objects, then one per kind of interface it creates (the tunnels under
  // one key, `tunnels`).
  static const std::vector<const char*>& node_keys() {
    static const std::vector<const char*> keys = [] {
      std::vector<const char*> k = {"interfaces", "routes",     "rules",  "neighbours", "nexthops",
                                    "qdiscs",     "forwarding", "sysctl", "nftables",   "bridges"};
      for (const auto* kind : interface_kinds())
        if (!kind->tunnel) k.push_back(kind->name());
      k.push_back("tunnels");
      return k;
    }();
    return keys;
  }

  // The keys a kind's map may hold: its key table's (a tunnel's `kind` first).
  static std::vector<const char*> allowed_keys(const InterfaceKind& kind) {
    std::vector<const char*> keys;
    if (kind.tunnel) keys.push_back("kind");
    for (const auto& k : kind.keys) keys.push_back(k.name);
    return keys;
  }

  void virtual_interface(NodeSpec& node, const InterfaceKind& kind, const YAML::Node& key,
                         const YAML::Node& v) {
    VirtualSpec d;
    d.kind = kind.kind;
    d.name = key.Scalar();
    d.pos = r_.pos(key);
    if (auto e = check_ifname(d.name)) r_.error(key, *e);
    const std::string what = fmt::format("{} '{}:{}'", kind.name(), node.name, d.name);
    // Named for deletion, an interface needs only its name (a tunnel also its kind).
    if (fragment_del_ && (v.IsNull() || (v.IsMap() && v.size() == (kind.tunnel ? 1u : 0u)))) {
      node.virtuals.push_back(std::move(d));
      return;
    }
    const YAML::Node none(YAML::NodeType::Map);
    const YAML::Node& m = v.IsNull() ? none : v;
    if (kind.keys.empty()) {
      if (!m.IsMap() || m.size() != 0) r_.error(m, what + " takes no settings: write {}");
    } else if (r_.check_map(m, what, allowed_keys(kind))) {
      read_keys(d, m, what, kind.keys);
      if (kind.finish) kind.finish(d, r_.diags());
    }
    node.virtuals.push_back(std::move(d));
  }

  // Each key of a kind's table that `m` holds, by the key's reader; a required one that it lacks
  // is "WHAT needs NEEDS", at the map.
  template <class Spec>
  void read_keys(Spec& spec, const YAML::Node& m, const std::string& what,
                 const std::vector<KindKey<Spec>>& keys) {
    for (const auto& k : keys) {
      if (auto x = m[k.name]) {
        NodeValue value(*this, x);
        k.read(spec, value);
      } else if (k.needs) {
        r_.error(m, fmt::format("{} needs {}", what, k.needs));
      }
    }
  }

  // One value of a kind's key, read for the kind (nslab/interface_kinds.hpp) by this loader.
  class NodeValue final : public KeyValue {
   public:
    NodeValue(TopologyParser& p, YAML::Node n) : p_(p), n_(std::move(n)) {}
    SourcePos pos() const override { return p_.r_.pos(n_); }
    void error(std::string message) override { p_.r_.error(n_, std::move(message)); }
    bool deferred() const override { return p_.r_.is_deferred(n_); }
    std::optional<std::string> string(const std::string& what) override {
      return p_.r_.string(n_, what);
    }
    std::optional<std::int64_t> integer(const std::string& what, std::int64_t min,
                                        std::int64_t max) override {
      return p_.r_.integer(n_, what, min, max);
    }
    std::string text() const override { return n_.Scalar(); }
    std::optional<double> quantity(const std::string& what,
                                   std::span<const std::pair<const char*, double>> units,
                                   const char* expected) override {
      return p_.r_.quantity(n_, what, units, expected);
    }
    std::optional<std::chrono::milliseconds> duration(const std::string& what) override {
      return p_.r_.duration(n_, what);
    }
    std::optional<Located<std::uint32_t>> table() override { return p_.table(n_); }
    std::optional<std::vector<std::unique_ptr<KeyValue>>> items(
        const std::string& not_a_list) override {
      if (!n_.IsSequence()) {
        error(not_a_list);
        return std::nullopt;
      }
      std::vector<std::unique_ptr<KeyValue>> out;
      for (const auto& item : n_) out.push_back(std::make_unique<NodeValue>(p_, item));
      return out;
    }

   private:
    TopologyParser& p_;
    YAML::Node n_;
  };

  // `tunnels: {gre1: {kind: gre, local: A, remote: B}}`: the IP tunnels, one map per tunnel.
  void tunnel(NodeSpec& node, const YAML::Node& key, const YAML::Node& v) {
    if (!v.IsMap()) {
      r_.error(v, fmt::format("tunnel '{}:{}' must be a map with 'kind'", node.name, key.Scalar()));
      return;
    }
    auto k = v["kind"];
    if (!k) {
      r_.error(v, fmt::format("tunnel '{}:{}' needs 'kind' ({})", node.name, key.Scalar(),
                              tunnel_kind_names()));
      return;
    }
    auto s = r_.string(k, "kind");
    if (!s) return;
    for (const auto* kind : interface_kinds())
      if (kind->tunnel && *s == kind->name()) return virtual_interface(node, *kind, key, v);
    r_.error(k, fmt::format("tunnel kind must be {}, not '{}'", tunnel_kind_names(), *s));
  }

  void bridge(NodeSpec& node, const YAML::Node& key, const YAML::Node& v) {
    BridgeSpec b;
    b.name = key.Scalar();
    b.pos = r_.pos(key);
    if (auto e = check_ifname(b.name)) r_.error(key, *e);
    const std::string what = fmt::format("bridge '{}:{}'", node.name, b.name);
    if (fragment_del_ && (v.IsNull() || (v.IsMap() && v.size() == 0))) {  // named by its name
      node.bridges.push_back(std::move(b));
      return;
    }
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
    if (!r_.check_map(v, "a route",
                      {"to", "via", "dev", "mtu", "lock_mtu", "metric", "family", "table", "type",
                       "advmss", "initcwnd", "rto_min", "src", "multipath", "nexthop"}))
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
    if (auto via = v["via"]) rt.via = gateway(via);
    // The other keys are read even when the destination is wrong, so that every problem of the
    // route is reported at once.
    bool ok = destination(rt, v, family);
    if (auto d = v["dev"]) rt.dev = device(d);
    if (auto x = v["table"]) rt.table = table(x);
    if (auto x = v["type"]) {
      if (auto t = r_.word(x, "type", kRouteTypes))
        rt.type = t->value;
      else
        ok = false;  // what it needs depends on the type: nothing more to say
    }
    route_metrics(rt, v);
    if (auto a = v["src"]) {
      if (auto s2 = r_.string(a, "src")) {
        if (auto ip = IpAddress::parse(*s2))
          rt.src = Located<IpAddress>{*ip, r_.pos(a)};
        else
          r_.error(a, fmt::format("invalid source address '{}'", *s2));
      }
    }
    route_paths(rt, v);
    if (ok) node.routes.push_back(std::move(rt));
  }

  bool destination(RouteSpec& rt, const YAML::Node& v, std::optional<Family> family) {
    auto to = v["to"];
    if (!to) {
      r_.error(v, "a route needs 'to' (default or a prefix)");
      return false;
    }
    auto s = r_.string(to, "to");
    if (!s) return false;
    if (*s == "default") {
      rt.is_default = true;
      if (rt.via) family = family.value_or(rt.via->value.family);
      if (!family) {
        r_.error(to, "a default route without 'via' needs 'family: ipv4' or 'family: ipv6'");
        return false;
      }
      rt.family = *family;
      rt.to = IpPrefix{IpAddress{*family, {}}, 0};
      return true;
    }
    auto p = IpPrefix::parse(*s, true);
    if (!p) {
      r_.error(to,
               fmt::format("invalid route destination '{}' (expected default or a prefix)", *s));
      return false;
    }
    rt.to = *p;
    rt.family = p->address.family;
    rt.is_default = p->length == 0;
    if (family && *family != rt.family)
      r_.error(v["family"],
               fmt::format("family {} does not match destination {}", family_name(*family), *s));
    return true;
  }

  // mtu, lock_mtu, metric and the RTAX_* metrics.
  void route_metrics(RouteSpec& rt, const YAML::Node& v) {
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
    // RTAX_ADVMSS and RTAX_INITCWND are u32 metrics; the kernel takes any value and clamps.
    if (auto m = v["advmss"])
      if (auto x = r_.integer(m, "advmss", 1, 65535))
        rt.advmss = Located<int>{static_cast<int>(*x), r_.pos(m)};
    if (auto m = v["initcwnd"])
      if (auto x = r_.integer(m, "initcwnd", 1, 1024))
        rt.initcwnd = Located<int>{static_cast<int>(*x), r_.pos(m)};
    if (auto m = v["rto_min"])
      if (auto d = r_.duration(m, "rto_min"))
        rt.rto_min = Located<std::chrono::milliseconds>{*d, r_.pos(m)};
  }

  // A route's paths other than its own via/dev: ECMP paths, or a nexthop object.
  void route_paths(RouteSpec& rt, const YAML::Node& v) {
    if (auto mp = v["multipath"]) {
      if (!mp.IsSequence() || mp.size() == 0)
        r_.error(mp, "multipath must be a list of paths like {via: 10.0.0.2, weight: 1}");
      else
        for (const auto& p : mp) path(rt, p);
      for (const char* k : {"via", "dev"})
        if (v[k]) r_.error(v[k], fmt::format("a multipath route gives '{}' per path", k));
    }
    if (auto x = v["nexthop"]) {
      if (auto n = r_.integer(x, "nexthop (a nexthop id)", 1, 0xffffffffLL))
        rt.nexthop = Located<std::uint32_t>{static_cast<std::uint32_t>(*n), r_.pos(x)};
      for (const char* k : {"via", "dev", "multipath"})
        if (v[k])
          r_.error(v[k], fmt::format("a route through nexthop {} takes no '{}'", r_.text(x), k));
    }
  }

  std::optional<Located<IpAddress>> gateway(const YAML::Node& x) {
    auto s = r_.string(x, "via");
    if (!s) return std::nullopt;
    auto a = IpAddress::parse(*s);
    if (!a) {
      r_.error(x, fmt::format("invalid gateway address '{}'", *s));
      return std::nullopt;
    }
    return Located<IpAddress>{*a, r_.pos(x)};
  }

  std::optional<Located<std::string>> device(const YAML::Node& x) {
    auto s = r_.string(x, "dev");
    if (!s) return std::nullopt;
    if (auto e = check_ifname(*s)) r_.error(x, *e);
    return Located<std::string>{*s, r_.pos(x)};
  }

  // A multipath weight or a nexthop group member's: 1 to 256, as `ip` takes it.
  std::optional<Located<int>> weight(const YAML::Node& x) {
    auto n = r_.integer(x, "weight", 1, 256);
    if (!n) return std::nullopt;
    return Located<int>{static_cast<int>(*n), r_.pos(x)};
  }

  void path(RouteSpec& rt, const YAML::Node& v) {
    if (!r_.check_map(v, "a multipath path", {"via", "dev", "weight"})) return;
    RouteSpec::Path p;
    p.pos = r_.pos(v);
    if (auto x = v["via"]) p.via = gateway(x);
    if (auto x = v["dev"]) p.dev = device(x);
    if (auto x = v["weight"])
      if (auto w = weight(x)) p.weight = *w;
    if (!v["via"] && !v["dev"]) r_.error(v, "a multipath path needs 'via' or 'dev'");
    rt.multipath.push_back(std::move(p));
  }

  void nexthop(NodeSpec& node, const YAML::Node& v) {
    if (!r_.check_map(v, "a nexthop", {"id", "via", "dev", "blackhole", "group", "family"})) return;
    NexthopSpec nh;
    nh.pos = r_.pos(v);
    if (auto x = v["id"]; !x) {
      r_.error(v, "a nexthop needs 'id' (its identity, as in ip nexthop add id N)");
      return;
    } else if (auto n = r_.integer(x, "nexthop id", 1, 0xffffffffLL)) {
      nh.id = {static_cast<std::uint32_t>(*n), r_.pos(x)};
    } else {
      return;
    }
    if (fragment_del_ && v.size() == 1) {  // named by its id alone
      node.nexthops.push_back(std::move(nh));
      return;
    }
    if (auto x = v["via"]) nh.via = gateway(x);
    if (auto x = v["dev"]) nh.dev = device(x);
    if (auto x = v["blackhole"]) nh.blackhole = r_.boolean(x, "blackhole").value_or(false);
    if (auto f = v["family"]) {
      auto s = r_.string(f, "family");
      if (s == "ipv4" || s == "ipv6")
        nh.family = s == "ipv4" ? Family::ipv4 : Family::ipv6;
      else if (s)
        r_.error(f, fmt::format("family must be ipv4 or ipv6, not '{}'", *s));
    }
    if (nh.via) {
      if (v["family"] && nh.family != nh.via->value.family)
        r_.error(v["family"], fmt::format("family {} does not match gateway {}",
                                          family_name(nh.family), nh.via->value.str()));
      nh.family = nh.via->value.family;
    }
    if (auto g = v["group"]) {
      if (!g.IsSequence() || g.size() == 0) {
        r_.error(g, "group must be a list of members like {id: 1, weight: 2}");
      } else {
        for (const auto& m : g) {
          if (!r_.check_map(m, "a group member", {"id", "weight"})) continue;
          NexthopSpec::Member member;
          if (auto x = m["id"]; !x) {
            r_.error(m, "a group member needs 'id'");
            continue;
          } else if (auto n = r_.integer(x, "nexthop id", 1, 0xffffffffLL)) {
            member.id = {static_cast<std::uint32_t>(*n), r_.pos(x)};
          } else {
            continue;
          }
          if (auto x = m["weight"])
            if (auto w = weight(x)) member.weight = *w;
          nh.group.push_back(member);
        }
      }
      for (const char* k : {"via", "dev", "blackhole", "family"})
        if (v[k]) r_.error(v[k], fmt::format("a nexthop group takes no '{}'", k));
    } else if (nh.blackhole) {
      for (const char* k : {"via", "dev"})
        if (v[k]) r_.error(v[k], fmt::format("a blackhole nexthop takes no '{}'", k));
    } else if (!nh.dev) {
      // The kernel: "Device attribute required for non-blackhole and non-fdb nexthops".
      r_.error(v, "a nexthop needs 'dev' (with or without 'via'), 'blackhole: true' or 'group'");
    }
    node.nexthops.push_back(std::move(nh));
  }

  // `eth0: {tbf: {rate: 10mbit, burst: 32kb, latency: 50ms}}`: the root qdisc of eth0, of one
  // of the qdisc kinds (nslab/qdisc_kinds.hpp), read by its key table.
  void qdisc(NodeSpec& node, const YAML::Node& key, const YAML::Node& v) {
    QdiscSpec q;
    q.dev = key.Scalar();
    q.pos = r_.pos(key);
    if (auto e = check_ifname(q.dev)) r_.error(key, *e);
    const std::string what = fmt::format("qdisc of '{}:{}'", node.name, q.dev);
    if (fragment_del_ && (v.IsNull() || (v.IsMap() && v.size() == 0))) {  // named by its dev
      node.qdiscs.push_back(std::move(q));
      return;
    }
    std::vector<const char*> kinds;
    std::vector<std::string_view> names;
    for (const auto* k : qdisc_kinds()) kinds.push_back(k->name()), names.push_back(k->name());
    if (!r_.check_map(v, what, kinds)) return;
    if (v.size() != 1) {
      r_.error(v, fmt::format("{} needs exactly one of {} (one root qdisc)", what, or_list(names)));
      return;
    }
    const auto kv = *v.begin();
    const YAML::Node m = kv.second;
    q.pos = r_.pos(kv.first);
    for (const auto* k : qdisc_kinds()) {
      if (kv.first.Scalar() != k->name()) continue;
      q.kind = k->kind;
      std::vector<const char*> keys;
      for (const auto& key_entry : k->keys) keys.push_back(key_entry.name);
      if (!r_.check_map(m, k->name(), keys)) return;
      read_keys(q, m, fmt::format("{} {}", k->name(), what), k->keys);
      if (k->finish) k->finish(q, r_.diags());
    }
    node.qdiscs.push_back(std::move(q));
  }

  // A table id: a number in [1, 2^32-1], or main/local/default as `ip` names them.
  std::optional<Located<std::uint32_t>> table(const YAML::Node& x) {
    if (x.IsScalar() && x.Tag() == "?") {
      const std::string& t = x.Scalar();
      if (t == "main") return Located<std::uint32_t>{kMainTable, r_.pos(x)};
      if (t == "local") return Located<std::uint32_t>{255, r_.pos(x)};
      if (t == "default") return Located<std::uint32_t>{253, r_.pos(x)};
    }
    if (auto n = r_.integer(x, "table", 1, 0xffffffffLL))
      return Located<std::uint32_t>{static_cast<std::uint32_t>(*n), r_.pos(x)};
    return std::nullopt;
  }

  std::optional<Located<IpPrefix>> prefix(const YAML::Node& x, const char* what) {
    auto s = r_.string(x, what);
    if (!s) return std::nullopt;
    auto p = IpPrefix::parse(*s, true);
    if (!p) {
      r_.error(x, fmt::format("invalid {} prefix '{}'", what, *s));
      return std::nullopt;
    }
    return Located<IpPrefix>{*p, r_.pos(x)};
  }

  std::optional<Located<std::pair<int, int>>> port_range(const YAML::Node& x, const char* what) {
    auto s = r_.string(x, what);
    if (!s) return std::nullopt;
    auto dash = s->find('-');
    auto num = [](const std::string& t) -> std::optional<int> {
      int v = 0;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc() || p != t.data() + t.size() || t.empty() || v < 0 || v > 65535)
        return std::nullopt;
      return v;
    };
    auto lo = num(s->substr(0, dash));
    auto hi = dash == std::string::npos ? lo : num(s->substr(dash + 1));
    if (!lo || !hi || *hi < *lo) {
      r_.error(x, fmt::format("{} must be a port or a range like 9000-9010, not '{}'", what, *s));
      return std::nullopt;
    }
    return Located<std::pair<int, int>>{{*lo, *hi}, r_.pos(x)};
  }

  void rule(NodeSpec& node, const YAML::Node& v) {
    if (!r_.check_map(v, "a rule",
                      {"priority", "family", "from", "to", "iif", "oif", "ipproto", "sport",
                       "dport", "dscp", "fwmark", "action", "table"}))
      return;
    RuleSpec r;
    r.pos = r_.pos(v);
    if (auto x = v["priority"]; !x) {
      r_.error(v, "a rule needs 'priority' (its identity, as in ip rule add priority N)");
      return;
    } else if (auto n = r_.integer(x, "priority", 0, 0xffffffffLL)) {
      r.priority = {static_cast<std::uint32_t>(*n), r_.pos(x)};
    } else {
      return;
    }
    std::optional<Family> family;
    if (auto f = v["family"]) {
      auto s = r_.string(f, "family");
      if (s == "ipv4" || s == "ipv6")
        family = s == "ipv4" ? Family::ipv4 : Family::ipv6;
      else if (s)
        r_.error(f, fmt::format("family must be ipv4 or ipv6, not '{}'", *s));
    }
    if (auto x = v["from"]) r.from = prefix(x, "from");
    if (auto x = v["to"]) r.to = prefix(x, "to");
    for (const auto* p : {&r.from, &r.to}) {
      if (!*p) continue;
      Family f = (*p)->value.address.family;
      if (family && *family != f)
        r_.error(v, fmt::format("rule mixes {} and {}", family_name(*family), family_name(f)));
      family = f;
    }
    r.family = family.value_or(Family::ipv4);
    for (auto [key, field] : {std::pair{"iif", &r.iif}, {"oif", &r.oif}})
      if (auto x = v[key])
        if (auto s = r_.string(x, key)) {
          if (auto e = check_ifname(*s)) r_.error(x, *e);
          *field = Located<std::string>{*s, r_.pos(x)};
        }
    if (auto x = v["ipproto"]) {
      static const std::pair<const char*, int> names[] = {
          {"icmp", 1}, {"tcp", 6}, {"udp", 17}, {"ipv6-icmp", 58}, {"icmpv6", 58}, {"sctp", 132}};
      int proto = -1;
      if (x.IsScalar() && x.Tag() == "?")
        for (auto [n, p] : names)
          if (x.Scalar() == n) proto = p;
      if (proto < 0)
        if (auto n = r_.integer(x, "ipproto (a number or icmp, tcp, udp, ipv6-icmp, sctp)", 0, 255))
          proto = static_cast<int>(*n);
      if (proto >= 0) r.ipproto = Located<int>{proto, r_.pos(x)};
    }
    if (auto x = v["sport"]) r.sport = port_range(x, "sport");
    if (auto x = v["dport"]) r.dport = port_range(x, "dport");
    if ((r.sport || r.dport) && !r.ipproto)
      r_.error(v, "a rule with sport or dport needs ipproto (tcp, udp or sctp)");
    if (auto x = v["dscp"])
      if (auto n = r_.integer(x, "dscp", 0, 63))
        r.dscp = Located<int>{static_cast<int>(*n), r_.pos(x)};
    if (auto x = v["fwmark"])
      if (auto n = r_.integer(x, "fwmark", 0, 0xffffffffLL))
        r.fwmark = Located<std::uint32_t>{static_cast<std::uint32_t>(*n), r_.pos(x)};
    bool action_ok = true;
    if (auto x = v["action"]) {
      if (auto a = r_.word(x, "action", kRuleActions))
        r.action = a->value;
      else
        action_ok = false;
    }
    if (auto x = v["table"]) r.table = table(x);
    if (action_ok && r.action == RuleSpec::Action::table && !r.table && !fragment_del_)
      r_.error(v, "a rule needs 'table' (or an action: blackhole, unreachable, prohibit)");
    if (r.action != RuleSpec::Action::table && r.table)
      r_.error(v["table"],
               fmt::format("a rule with action {} takes no table", r_.text(v["action"])));
    node.rules.push_back(std::move(r));
  }

  void neighbour(NodeSpec& node, const YAML::Node& v) {
    if (!r_.check_map(v, "a neighbour", {"dev", "address", "lladdr", "state"})) return;
    NeighbourSpec n;
    n.pos = r_.pos(v);
    auto dev = v["dev"];
    auto address = v["address"];
    if (!dev || !address) {
      r_.error(v, "a neighbour needs 'dev' and 'address'");
      return;
    }
    if (auto s = r_.string(dev, "dev")) {
      if (auto e = check_ifname(*s)) r_.error(dev, *e);
      n.dev = {*s, r_.pos(dev)};
    }
    if (auto s = r_.string(address, "address")) {
      if (auto a = IpAddress::parse(*s))
        n.address = {*a, r_.pos(address)};
      else
        r_.error(address, fmt::format("invalid neighbour address '{}'", *s));
    }
    if (auto x = v["lladdr"]) {
      if (auto s = r_.string(x, "lladdr")) {
        if (!is_mac(*s))
          r_.error(x, fmt::format("lladdr '{}' must be a MAC address like 02:00:00:00:00:02", *s));
        n.lladdr = Located<std::string>{*s, r_.pos(x)};
      }
    }
    if (auto x = v["state"])
      if (auto s = r_.word(x, "state", kNudStates)) n.state = *s;
    node.neighbours.push_back(std::move(n));
  }

  static bool is_mac(const std::string& s) {
    if (s.size() != 17) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
      bool colon = i % 3 == 2;
      if (colon ? s[i] != ':' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
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

 public:
  bool fragment_del_ = false;  // objects named for deletion need only their identity
};

}  // namespace

namespace yaml {
Topology parse_topology(Reader& reader, const YAML::Node& root) {
  return TopologyParser(reader).parse(root);
}
Topology parse_fragment(Reader& reader, const YAML::Node& root, bool for_del) {
  TopologyParser p(reader);
  p.fragment_del_ = for_del;
  return p.parse_fragment(root);
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
