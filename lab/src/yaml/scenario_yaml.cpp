// YAML -> Scenario. Structure only; cross references are checked by validate_scenario().

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>

#include "../model/names.hpp"
#include "nslab/load.hpp"
#include "nslab/match.hpp"
#include "nslab/scenario.hpp"
#include "nslab/templates.hpp"
#include "topology_yaml.hpp"
#include "yaml_reader.hpp"

namespace fs = std::filesystem;

namespace nslab {

const StepSpec* Scenario::step(const std::string& n) const {
  for (const auto& s : steps)
    if (s.name == n) return &s;
  return nullptr;
}

namespace {

// Plain scalars become numbers, booleans or null where they look like one; quoted ones stay
// strings (so "1280" in quotes is text, 1280 is a number).
Json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() != "?") return s;
      long long i = 0;
      if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
          ec == std::errc() && p == s.data() + s.size())
        return i;
      double d = 0;
      if (auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
          ec == std::errc() && p == s.data() + s.size() && !s.empty())
        return d;
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "~" || s == "null") return nullptr;
      return s;
    }
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& x : n) a.push_back(to_json(x));
      return a;
    }
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : n) o[kv.first.Scalar()] = to_json(kv.second);
      return o;
    }
    default:
      return nullptr;
  }
}

class ScenarioParser {
 public:
  explicit ScenarioParser(yaml::Reader& r) : r_(r) {}

  Scenario parse(const YAML::Node& root, Diagnostics& diags) {
    Scenario s;
    s.file = r_.file();
    if (!r_.check_map(root, "the scenario",
                      {"name", "description", "topology", "labels", "requires", "timeout", "steps",
                       "volatile"}))
      return s;
    if (auto n = root["name"]; !n)
      r_.error(root, "missing required key 'name'");
    else if (auto v = r_.string(n, "name")) {
      // The name becomes a folder under --capture: only [a-z0-9-]+, like a topology's.
      if (auto e = check_topology_name(*v)) r_.error(n, "scenario " + *e);
      s.name = *v;
    }
    if (auto n = root["description"])
      if (auto v = r_.string(n, "description")) s.description = *v;
    topology(s, root, diags);
    if (auto n = root["labels"]) {
      if (!n.IsSequence()) r_.error(n, "labels must be a list");
      for (const auto& l : n)
        if (auto v = r_.string(l, "a label")) {
          bool ok = !v->empty();
          for (char c : *v)
            ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
          if (!ok) r_.error(l, fmt::format("label '{}' must match [a-z0-9-]+", *v));
          s.labels.push_back(*v);
        }
    }
    if (auto n = root["volatile"]) {
      if (!n.IsSequence())
        r_.error(n, "volatile must be a list of field names and record patterns");
      for (const auto& v : n) {
        if (v.IsMap()) {
          for (const auto& e : check_pattern(to_json(v), true)) r_.error(v, e);
          s.volatile_.push_back(to_json(v));
        } else if (auto f = r_.string(v, "a volatile field name"))
          s.volatile_.push_back(*f);
      }
    }
    if (auto n = root["requires"]) {
      if (!n.IsSequence()) r_.error(n, "requires must be a list");
      for (const auto& q : n) requirement(s, q);
    }
    if (auto n = root["timeout"])
      if (auto d = duration(n, "timeout")) s.timeout = *d;
    auto steps = root["steps"];
    if (!steps) {
      r_.error(root, "missing required key 'steps'");
    } else if (!steps.IsSequence() || steps.size() == 0) {
      r_.error(steps, "steps must be a non-empty list");
    } else {
      for (const auto& st : steps) step(s, st);
    }
    return s;
  }

 private:
  void topology(Scenario& s, const YAML::Node& root, Diagnostics& diags) {
    auto n = root["topology"];
    if (!n) {
      r_.error(root, "missing required key 'topology' (a file or an inline map)");
      return;
    }
    if (n.IsMap()) {
      s.topology = yaml::parse_topology(r_, n);
      s.topology_loaded = true;
      return;
    }
    auto path = r_.string(n, "topology");
    if (!path) return;
    fs::path p =
        fs::path(*path).is_absolute() ? fs::path(*path) : fs::path(r_.file()).parent_path() / *path;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) {
      r_.error(n, fmt::format("topology file '{}' not found (paths are relative to the scenario's "
                              "folder)",
                              *path));
      return;
    }
    s.topology = parse_topology_file(p.lexically_normal().string(), diags);
    s.topology_loaded = true;
  }

  void requirement(Scenario& s, const YAML::Node& q) {
    auto text = r_.string(q, "a requirement");
    if (!text) return;
    Requirement req{.text = *text, .pos = r_.pos(q)};
    int major = 0, minor = 0;
    char ge[3] = {};
    if (*text == "real-root") {
      req.kind = Requirement::Kind::real_root;
    } else if (*text == "userns-root") {
      req.kind = Requirement::Kind::userns_root;
    } else if (std::sscanf(text->c_str(), "kernel %2[>=] %d.%d", ge, &major, &minor) == 3 &&
               std::string(ge) == ">=") {
      req.kind = Requirement::Kind::kernel;
      req.kernel = {major, minor, 0};
    } else if (text->rfind("feature ", 0) == 0) {
      req.kind = Requirement::Kind::feature;
      req.feature = text->substr(8);
      if (!is_feature_name(req.feature)) {
        r_.error(q, fmt::format("unknown feature '{}' ({})", req.feature, feature_names()));
        return;
      }
    } else {
      r_.error(q, fmt::format("unknown requirement '{}' (real-root, userns-root, 'kernel >= X.Y' "
                              "or 'feature NAME')",
                              *text));
      return;
    }
    s.requires_.push_back(req);
  }

  std::optional<std::chrono::milliseconds> duration(const YAML::Node& n, const std::string& what) {
    return r_.duration(n, what);
  }

  Pattern pattern(const YAML::Node& n) { return {to_json(n), r_.pos(n)}; }

  // The kinds of step: the key that makes a step one (`run: ...`), the keys only that kind
  // takes beside it, and its reader. A step's map may hold `name`, `timeout` and one kind's.
  using StepRead = void (ScenarioParser::*)(StepSpec&, const YAML::Node& step);
  struct StepKind {
    StepSpec::Kind kind;
    const char* key;
    std::vector<const char*> own_keys;
    StepRead read;
  };
  static const std::vector<StepKind>& step_kinds() {
    using K = StepSpec::Kind;
    using P = ScenarioParser;
    static const std::vector<StepKind> kinds = {
        {K::run, "run", {"on", "background", "ready", "expect", "save"}, &P::run_kind},
        {K::change, "change", {}, &P::change_kind},
        {K::wait, "wait", {}, &P::wait_kind},
    };
    return kinds;
  }
  static const std::vector<const char*>& step_keys() {
    static const std::vector<const char*> keys = [] {
      std::vector<const char*> k = {"name", "timeout"};
      for (const auto& kind : step_kinds()) {
        k.push_back(kind.key);
        k.insert(k.end(), kind.own_keys.begin(), kind.own_keys.end());
      }
      return k;
    }();
    return keys;
  }

  void run_kind(StepSpec& st, const YAML::Node& n) {
    run(st, n);
    if (auto x = n["save"]) saves(st, x);
  }
  void change_kind(StepSpec& st, const YAML::Node& n) { change(st, n["change"]); }
  void wait_kind(StepSpec& st, const YAML::Node& n) { wait(st, n["wait"]); }

  void step(Scenario& s, const YAML::Node& n) {
    StepSpec st;
    st.pos = r_.pos(n);
    st.name = fmt::format("step-{}", s.steps.size() + 1);
    if (!r_.check_map(n, "a step", step_keys())) {
      s.steps.push_back(st);
      return;
    }
    if (auto x = n["name"])
      if (auto v = r_.string(x, "step name")) {
        // Printed as it is (run -v, reports): no terminal escape codes or other control bytes.
        if (std::any_of(v->begin(), v->end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
          r_.error(x, "a step name cannot hold control characters (escape codes, newlines)");
        else
          st.name = *v;
      }
    const StepKind* kind = nullptr;
    std::vector<std::string_view> names;
    int kinds = 0;
    for (const auto& k : step_kinds()) {
      names.push_back(k.key);
      if (n[k.key]) ++kinds, kind = &k;
    }
    if (kinds != 1) {
      r_.error(n, fmt::format("step '{}' needs exactly one of {}", st.name, or_list(names)));
      st.parsed = false;
      s.steps.push_back(st);
      return;
    }
    if (auto x = n["timeout"])
      if (auto d = duration(x, "timeout"))
        st.timeout = Located<std::chrono::milliseconds>{*d, r_.pos(x)};
    for (const auto& other : step_kinds())
      if (&other != kind)
        for (const char* k : other.own_keys)
          if (n[k]) r_.error(n[k], fmt::format("'{}' belongs to {} steps", k, other.key));
    (this->*kind->read)(st, n);
    s.steps.push_back(std::move(st));
  }

  void run(StepSpec& st, const YAML::Node& n) {
    st.kind = StepSpec::Kind::run;
    if (auto on = n["on"]; !on)
      r_.error(n, fmt::format("run step '{}' needs 'on: NODE'", st.name));
    else if (auto v = r_.string(on, "on")) {
      if (v->empty()) r_.error(on, "on needs a node name, not an empty string");
      st.node = *v;
      st.on_pos = r_.pos(on);
    }
    if (auto v = r_.string(n["run"], "run")) {
      if (v->find('\0') != std::string::npos)
        r_.error(n["run"], "run cannot hold a NUL byte (no program argument can)");
      st.command = {*v, r_.pos(n["run"])};
    }
    if (auto b = n["background"]) st.background = r_.boolean(b, "background").value_or(false);
    if (auto rd = n["ready"]) {
      if (!st.background) r_.error(rd, "'ready' needs 'background: true'");
      if (!rd.IsMap()) r_.error(rd, "ready must be a record pattern (a mapping)");
      st.ready = pattern(rd);
    }
    if (auto e = n["expect"]) {
      if (e.IsSequence())
        alternatives(st, e);
      else
        expect(st.expect, e);
    }
  }

  // A range at `k`, or nullopt after reporting why.
  std::optional<KernelRange> kernel_range(const YAML::Node& k) {
    auto text = r_.string(k, "kernel");
    if (!text) return std::nullopt;
    std::string why;
    auto range = parse_kernel_range(*text, why);
    if (!range) {
      r_.error(k, why);
      return std::nullopt;
    }
    range->pos = r_.pos(k);
    return range;
  }

  // A wait's `record` as a list: `{kernel: RANGE, record: PATTERN}` each.
  void wait_alternatives(StepSpec& st, const YAML::Node& list) {
    if (list.size() == 0) r_.error(list, "record as a list needs at least one alternative");
    for (const auto& item : list) {
      if (!item.IsMap() || !item["kernel"] || !item["record"] || !item["record"].IsMap()) {
        r_.error(item, "each alternative of a wait's record is {kernel: RANGE, record: PATTERN}");
        continue;
      }
      if (!r_.check_map(item, "an alternative of record", {"kernel", "record"})) continue;
      auto range = kernel_range(item["kernel"]);
      if (!range) continue;
      KernelAlternative alt{.kernel = *range, .expect = {}};
      alt.expect.records.push_back(pattern(item["record"]));
      st.alternatives.push_back(std::move(alt));
    }
  }

  // `expect` as a list: each item an expectation with a `kernel` range.
  void alternatives(StepSpec& st, const YAML::Node& list) {
    if (list.size() == 0) r_.error(list, "expect as a list needs at least one alternative");
    for (const auto& item : list) {
      if (!item.IsMap()) {
        r_.error(item, "each alternative of expect is a mapping with 'kernel: RANGE'");
        continue;
      }
      auto k = item["kernel"];
      if (!k) {
        r_.error(item, "each alternative of expect needs 'kernel: RANGE' (\">= 6.2\", \"< 6.2\")");
        continue;
      }
      auto range = kernel_range(k);
      if (!range) continue;
      KernelAlternative alt{.kernel = *range, .expect = {}};
      expect(alt.expect, item, true);
      st.alternatives.push_back(std::move(alt));
    }
  }

  void expect(Expectation& ex, const YAML::Node& e, bool alternative = false) {
    if (!alternative &&
        !r_.check_map(e, "expect", {"exit", "records", "absent", "ordered", "stdout", "stderr"}))
      return;
    if (alternative &&
        !r_.check_map(e, "an alternative of expect",
                      {"kernel", "exit", "records", "absent", "ordered", "stdout", "stderr"}))
      return;
    if (auto x = e["exit"]) {
      if (x.IsMap())
        ex.exit = pattern(x);  // an operator map, checked with the other patterns
      else if (x.IsScalar() && x.Scalar() == "any")
        ex.exit = Pattern{"any", r_.pos(x)};
      else if (x.IsScalar() && x.Scalar().find_first_not_of("0123456789") != std::string::npos)
        r_.error(x, fmt::format("exit must be a number 0-255, an operator map ({{gt: 0}}) or "
                                "any, not '{}'",
                                x.Scalar()));
      else if (auto v = r_.integer(x, "exit", 0, 255))
        ex.exit = Pattern{*v, r_.pos(x)};
    }
    for (auto [key, list] : {std::pair{"records", &ex.records}, {"absent", &ex.absent}}) {
      auto x = e[key];
      if (!x) continue;
      if (!x.IsSequence()) {
        r_.error(x, fmt::format("{} must be a list of record patterns", key));
        continue;
      }
      for (const auto& item : x) {
        if (!item.IsMap())
          r_.error(item, fmt::format("each of {} must be a record pattern (a mapping)", key));
        else
          list->push_back(pattern(item));
      }
    }
    if (auto x = e["ordered"]) ex.ordered = r_.boolean(x, "ordered").value_or(false);
    if (auto x = e["stdout"]) ex.stdout_text = pattern(x);
    if (auto x = e["stderr"]) ex.stderr_text = pattern(x);
  }

  // A change step: one of add, del, replace or set of a topology fragment; or a short
  // form of the first release, which is sugar for a fragment. The fragment is parsed when it is
  // needed (see ChangeSpec), from the YAML kept here, so that its templates are typed by the
  // fields they fill.
  void change(StepSpec& st, const YAML::Node& c) {
    st.kind = StepSpec::Kind::change;
    ChangeSpec& ch = st.change;
    ch.pos = r_.pos(c);
    if (!c.IsMap()) {
      r_.error(c,
               "change must be a mapping: add, del, replace or set, or a short form "
               "(link, address, route, nftables, sysctl)");
      return;
    }
    static const std::pair<const char*, ChangeOp> kOps[] = {{"add", ChangeOp::add},
                                                            {"del", ChangeOp::del},
                                                            {"replace", ChangeOp::replace},
                                                            {"set", ChangeOp::set},
                                                            {"flush", ChangeOp::flush}};
    static const char* const kShort[] = {"link", "address", "route", "nftables", "sysctl"};
    bool is_short = std::any_of(std::begin(kShort), std::end(kShort),
                                [&](const char* k) { return static_cast<bool>(c[k]); });
    bool is_op = std::any_of(std::begin(kOps), std::end(kOps),
                             [&](const auto& op) { return static_cast<bool>(c[op.first]); });
    if (!is_short && !is_op) {
      r_.error(c,
               "a change needs one of: add, del, replace, set (a topology fragment), flush, or a "
               "short form: link, address, route, nftables, sysctl");
      return;
    }
    if (!is_short) {
      if (!r_.check_map(c, "a change", {"add", "del", "replace", "set", "flush"})) return;
      if (c.size() != 1) {
        r_.error(c, "a change needs exactly one of: add, del, replace, set, flush");
        return;
      }
      for (auto [key, op] : kOps)
        if (auto v = c[key]) {
          ch.op = op;
          if (op == ChangeOp::flush)
            flush(ch, v);
          else
            ch.fragment = fragment(v, op == ChangeOp::del, std::nullopt, nullptr);
        }
      return;
    }
    sugar(ch, c);
  }

  // `flush: {node: N, what: route-exceptions | route-cache | neighbours}`.
  void flush(ChangeSpec& ch, const YAML::Node& v) {
    if (!r_.check_map(v, "flush", {"node", "what"})) return;
    if (auto n = v["node"]; !n)
      r_.error(v, "flush needs 'node'");
    else if (auto s = r_.string(n, "node"))
      ch.flush_node = {*s, r_.pos(n)};
    auto w = v["what"];
    if (!w) {
      r_.error(v, "flush needs 'what' (route-exceptions, route-cache or neighbours)");
      return;
    }
    auto s = r_.string(w, "what");
    if (s == "route-exceptions")
      ch.flush = ChangeSpec::Flush::route_exceptions;
    else if (s == "route-cache")
      ch.flush = ChangeSpec::Flush::route_cache;
    else if (s == "neighbours")
      ch.flush = ChangeSpec::Flush::neighbours;
    else if (s)
      r_.error(w, fmt::format("flush what must be route-exceptions, route-cache or neighbours, "
                              "not '{}'",
                              *s));
  }

  // Builds the fragment's root from what the step wrote; given the reader that parses it (whose
  // expansion a short form may need to pick a key, e.g. ipv4 or ipv6 for an address).
  using RootOf = std::function<YAML::Node(yaml::Reader&)>;

  std::function<Topology(const TemplateResolver&, Diagnostics&, std::set<std::pair<int, int>>*)>
  fragment(const YAML::Node& root, bool for_del, std::optional<SourcePos> fallback, RootOf build) {
    auto text = std::make_shared<const std::string>(r_.source());
    std::string file = r_.file();
    return [text, file, root, for_del, fallback, build](const TemplateResolver& resolve,
                                                        Diagnostics& diags,
                                                        std::set<std::pair<int, int>>* deferred) {
      yaml::Reader r(file, *text, diags);
      r.set_expand([&](const std::string& s, const YAML::Node& at) {
        for (const auto& e : [&] {
               std::vector<std::string> errors;
               find_templates(s, [&](std::string m) { errors.push_back(std::move(m)); });
               return errors;
             }())
          r.error(at, e);
        return expand_templates(s, [&](const TemplateRef& ref) -> std::string {
          try {
            return resolve(ref);
          } catch (const DeferredTemplate&) {
            r.defer(at);  // known only when the step runs: its field is checked then
            return ref.text;
          } catch (const std::exception& e) {
            r.error(at, e.what());
            r.silence(at);
            return ref.text;
          }
        });
      });
      if (fallback) r.set_fallback_pos(*fallback);
      Topology t{file};
      r.guard([&] { t = yaml::parse_fragment(r, build ? build(r) : root, for_del); });
      if (deferred) *deferred = r.deferred();
      return t;
    };
  }

  // The first release's short forms, each the fragment it stands for.
  // The short forms of a change (`{link: n:if, mtu, up}`, `{address: n:if, add|del}`, ...),
  // each its own reader, turned into the fragment it stands for.
  void sugar(ChangeSpec& ch, const YAML::Node& c) {
    using P = ScenarioParser;
    static const std::pair<const char*, void (P::*)(ChangeSpec&, const YAML::Node&)> kForms[] = {
        {"link", &P::link_sugar},     {"address", &P::address_sugar},
        {"route", &P::route_sugar},   {"nftables", &P::nftables_sugar},
        {"sysctl", &P::sysctl_sugar},
    };
    for (const auto& [key, read] : kForms)
      if (c[key]) return (this->*read)(ch, c);
  }

  struct Target {
    std::string node, ifname;
    SourcePos pos;
  };

  std::optional<Target> target(const YAML::Node& c, const char* key, bool with_if) {
    const YAML::Node v = c[key];
    auto s = r_.string(v, "change target");
    if (!s) return std::nullopt;
    auto colon = s->find(':');
    if (with_if && (colon == std::string::npos || colon == 0 || colon + 1 == s->size())) {
      r_.error(v, fmt::format("'{}' must be node:interface", *s));
      return std::nullopt;
    }
    if (!with_if) return Target{*s, "", r_.pos(v)};
    return Target{s->substr(0, colon), s->substr(colon + 1), r_.pos(v)};
  }

  // {nodes: {NODE: {KEY: value}}}, or with an interface {nodes: {NODE: {interfaces: {IF: ...}}}}
  static YAML::Node in_node(const Target& t, const char* key, const YAML::Node& value) {
    YAML::Node n(YAML::NodeType::Map);
    n[key] = value;
    YAML::Node nodes(YAML::NodeType::Map);
    nodes[t.node] = n;
    YAML::Node root(YAML::NodeType::Map);
    root["nodes"] = nodes;
    return root;
  }

  static YAML::Node in_interface(const Target& t, const YAML::Node& config) {
    YAML::Node ifs(YAML::NodeType::Map);
    ifs[t.ifname] = config;
    return in_node(t, "interfaces", ifs);
  }

  std::optional<YAML::Node> add_or_del(ChangeSpec& x, const YAML::Node& c) {
    if (c["add"] && c["del"]) {
      r_.error(c, "a change either adds or deletes, not both");
      return std::nullopt;
    }
    if (!c["add"] && !c["del"]) {
      r_.error(c, "this change needs 'add' or 'del'");
      return std::nullopt;
    }
    x.op = c["add"] ? ChangeOp::add : ChangeOp::del;
    return c["add"] ? c["add"] : c["del"];
  }

  void link_sugar(ChangeSpec& ch, const YAML::Node& c) {
    if (!r_.check_map(c, "a link change", {"link", "mtu", "up"})) return;
    if (!c["mtu"] && !c["up"]) r_.error(c, "a link change needs 'mtu' or 'up'");
    auto t = target(c, "link", true);
    if (!t) return;
    ch.op = ChangeOp::set;
    YAML::Node config(YAML::NodeType::Map);
    if (c["mtu"]) config["mtu"] = c["mtu"];
    if (c["up"]) config["up"] = c["up"];
    ch.fragment = fragment(in_interface(*t, config), false, t->pos, nullptr);
  }

  void address_sugar(ChangeSpec& ch, const YAML::Node& c) {
    if (!r_.check_map(c, "an address change", {"address", "add", "del"})) return;
    auto t = target(c, "address", true);
    auto v = add_or_del(ch, c);
    if (!t || !v) return;
    YAML::Node value = *v;
    Target where = *t;
    ch.fragment = fragment({}, ch.op == ChangeOp::del, t->pos, [=](yaml::Reader& r) {
      // The family's key is known only once a template in the value is expanded.
      bool v6 = value.IsScalar() && r.text(value).find(':') != std::string::npos;
      YAML::Node config(YAML::NodeType::Map);
      config[v6 ? "ipv6" : "ipv4"] = value;
      return in_interface(where, config);
    });
  }

  void route_sugar(ChangeSpec& ch, const YAML::Node& c) {
    if (!r_.check_map(c, "a route change", {"route", "add", "del"})) return;
    auto t = target(c, "route", false);
    auto v = add_or_del(ch, c);
    if (!t || !v) return;
    YAML::Node list(YAML::NodeType::Sequence);
    list.push_back(*v);
    ch.fragment = fragment(in_node(*t, "routes", list), ch.op == ChangeOp::del, t->pos, nullptr);
  }

  void nftables_sugar(ChangeSpec& ch, const YAML::Node& c) {
    node_set_sugar(ch, c, "nftables", "ruleset", "an nftables change", "'ruleset' (nft commands)");
  }

  void sysctl_sugar(ChangeSpec& ch, const YAML::Node& c) {
    node_set_sugar(ch, c, "sysctl", "set", "a sysctl change", "'set: {net.key: value}'");
  }

  // `{KEY: node, VALUE: x}`: a set of the node's KEY to x.
  void node_set_sugar(ChangeSpec& ch, const YAML::Node& c, const char* key, const char* value,
                      const char* what, const char* needs) {
    if (!r_.check_map(c, what, {key, value})) return;
    auto t = target(c, key, false);
    if (!c[value]) r_.error(c, fmt::format("{} needs {}", what, needs));
    if (!t || !c[value]) return;
    ch.op = ChangeOp::set;
    ch.fragment = fragment(in_node(*t, key, c[value]), false, t->pos, nullptr);
  }

  void saves(StepSpec& st, const YAML::Node& x) {
    if (st.background) {
      r_.error(x, "save needs a step that ends (not background): its records are complete then");
      return;
    }
    if (!r_.check_map(x, "save")) return;
    for (const auto& kv : x) {
      SaveSpec sv;
      sv.name = kv.first.Scalar();
      sv.pos = r_.pos(kv.first);
      if (sv.name.empty() ||
          sv.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") != std::string::npos)
        r_.error(kv.first, fmt::format("save name '{}' must be [a-z0-9_-]+", sv.name));
      const YAML::Node& v = kv.second;
      if (!r_.check_map(v, fmt::format("save '{}'", sv.name), {"record", "field"})) continue;
      if (auto r = v["record"]; !r || !r.IsMap())
        r_.error(r ? r : v, fmt::format("save '{}' needs 'record' (a record pattern)", sv.name));
      else
        sv.record = pattern(r);
      if (auto f = v["field"]; !f)
        r_.error(v, fmt::format("save '{}' needs 'field' (a key of that record)", sv.name));
      else if (auto s = r_.string(f, "field"))
        sv.field = {*s, r_.pos(f)};
      st.saves.push_back(std::move(sv));
    }
  }

  void wait(StepSpec& st, const YAML::Node& w) {
    st.kind = StepSpec::Kind::wait;
    if (!r_.check_map(w, "wait", {"step", "record", "since", "timeout"})) return;
    if (auto x = w["step"]; !x)
      r_.error(w, "wait needs 'step' (a background step's name)");
    else if (auto v = r_.string(x, "step"))
      st.wait_step = {*v, r_.pos(x)};
    if (auto x = w["record"]; x && x.IsSequence())
      wait_alternatives(st, x);
    else if (!x || !x.IsMap())
      r_.error(x ? x : w,
               "wait needs 'record' (a record pattern, or a list of {kernel: RANGE, record: "
               "PATTERN})");
    else
      st.wait_record = pattern(x);
    if (auto x = w["since"]) {
      static const std::map<std::string, StepSpec::Since> since{
          {"action", StepSpec::Since::action},
          {"previous", StepSpec::Since::previous},
          {"start", StepSpec::Since::start}};
      if (auto v = r_.string(x, "since")) {
        if (auto it = since.find(*v); it != since.end())
          st.since = it->second;
        else
          r_.error(x, fmt::format("wait 'since' must be action (records since the last run or "
                                  "change step began), previous (since the step before ended) "
                                  "or start (every record), not '{}'",
                                  *v));
      }
    }
    if (auto x = w["timeout"])
      if (auto d = duration(x, "timeout"))
        st.timeout = Located<std::chrono::milliseconds>{*d, r_.pos(x)};
  }

  yaml::Reader& r_;
};

}  // namespace

Scenario parse_scenario_file(const std::string& path, Diagnostics& diags) {
  auto text = yaml::read_input_file(path, "scenario", diags);
  if (!text) return Scenario{.file = path};
  return parse_scenario_text(*text, path, diags);
}

Scenario parse_scenario_text(const std::string& text, const std::string& path, Diagnostics& diags) {
  yaml::Reader reader(path, text, diags);
  Scenario s{.file = path};
  reader.guard([&] {
    YAML::Node root = reader.parse();
    if (root.IsDefined()) s = ScenarioParser(reader).parse(root, diags);
  });
  return s;
}

Scenario load_scenario_file(const std::string& path) {
  Diagnostics diags;
  Scenario s = parse_scenario_file(path, diags);
  validate_scenario(s, diags);
  if (!diags.empty()) throw InputError(diags.sorted());
  return s;
}

bool is_scenario_file(const std::string& path) {
  Diagnostics ignored;
  auto text = yaml::read_input_file(path, "scenario", ignored);
  if (!text) return false;
  try {
    YAML::Node root = YAML::Load(*text);
    return root.IsMap() && (root["steps"] || root["topology"]);
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace nslab
