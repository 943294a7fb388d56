// YAML -> Scenario. Structure only; cross references are checked by validate_scenario().

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>

#include "../model/names.hpp"
#include "nslab/load.hpp"
#include "nslab/scenario.hpp"
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

constexpr std::chrono::milliseconds kMaxDuration = std::chrono::hours(24);

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
    if (!r_.check_map(
            root, "the scenario",
            {"name", "description", "topology", "labels", "requires", "timeout", "steps"}))
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
      req.major = major;
      req.minor = minor;
    } else {
      r_.error(q,
               fmt::format("unknown requirement '{}' (real-root, userns-root or 'kernel >= X.Y')",
                           *text));
      return;
    }
    s.requires_.push_back(req);
  }

  // DIGITS[.DIGITS] followed by ms, s or m; at least 1 ms and at most kMaxDuration.
  std::optional<std::chrono::milliseconds> duration(const YAML::Node& n, const std::string& what) {
    auto s = r_.string(n, what);
    if (!s) return std::nullopt;
    std::size_t digits = s->find_first_not_of("0123456789.");
    std::string number = s->substr(0, digits);
    std::string unit = digits == std::string::npos ? "" : s->substr(digits);
    double v = -1;
    bool plain = !number.empty() && number.front() != '.' && number.back() != '.' &&
                 std::count(number.begin(), number.end(), '.') <= 1;
    if (plain) std::from_chars(number.data(), number.data() + number.size(), v);
    double ms = unit == "ms" ? v : unit == "s" ? v * 1000 : unit == "m" ? v * 60000 : -1;
    if (!plain || ms < 0) {
      r_.error(n, fmt::format("{} '{}' must be a duration like 5s, 200ms or 2m", what, *s));
      return std::nullopt;
    }
    if (ms < 1 || ms > static_cast<double>(kMaxDuration.count())) {
      r_.error(n, fmt::format("{} '{}' must be between 1ms and 24h", what, *s));
      return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
  }

  Pattern pattern(const YAML::Node& n) { return {to_json(n), r_.pos(n)}; }

  void step(Scenario& s, const YAML::Node& n) {
    StepSpec st;
    st.pos = r_.pos(n);
    st.name = fmt::format("step-{}", s.steps.size() + 1);
    if (!r_.check_map(
            n, "a step",
            {"name", "on", "run", "background", "ready", "timeout", "expect", "change", "wait"})) {
      s.steps.push_back(st);
      return;
    }
    if (auto x = n["name"])
      if (auto v = r_.string(x, "step name")) st.name = *v;
    int kinds = (n["run"] ? 1 : 0) + (n["change"] ? 1 : 0) + (n["wait"] ? 1 : 0);
    if (kinds != 1) {
      r_.error(n, fmt::format("step '{}' needs exactly one of run, change or wait", st.name));
      st.parsed = false;
      s.steps.push_back(st);
      return;
    }
    if (auto x = n["timeout"])
      if (auto d = duration(x, "timeout"))
        st.timeout = Located<std::chrono::milliseconds>{*d, r_.pos(x)};
    if (n["run"]) {
      run(st, n);
    } else {
      for (const char* k : {"on", "background", "ready", "expect"})
        if (n[k]) r_.error(n[k], fmt::format("'{}' belongs to run steps", k));
      if (n["change"]) change(st, n["change"]);
      if (n["wait"]) wait(st, n["wait"]);
    }
    s.steps.push_back(std::move(st));
  }

  void run(StepSpec& st, const YAML::Node& n) {
    st.kind = StepSpec::Kind::run;
    if (auto on = n["on"]; !on)
      r_.error(n, fmt::format("run step '{}' needs 'on: NODE'", st.name));
    else if (auto v = r_.string(on, "on")) {
      st.node = *v;
      st.on_pos = r_.pos(on);
    }
    if (auto v = r_.string(n["run"], "run")) st.command = {*v, r_.pos(n["run"])};
    if (auto b = n["background"]) st.background = r_.boolean(b, "background").value_or(false);
    if (auto rd = n["ready"]) {
      if (!st.background) r_.error(rd, "'ready' needs 'background: true'");
      if (!rd.IsMap()) r_.error(rd, "ready must be a record pattern (a mapping)");
      st.ready = pattern(rd);
    }
    if (auto e = n["expect"]) expect(st.expect, e);
  }

  void expect(Expectation& ex, const YAML::Node& e) {
    if (!r_.check_map(e, "expect", {"exit", "records", "absent", "ordered", "stdout", "stderr"}))
      return;
    if (auto x = e["exit"])
      if (auto v = r_.integer(x, "exit", 0, 255))
        ex.exit = Located<int>{static_cast<int>(*v), r_.pos(x)};
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

  void change(StepSpec& st, const YAML::Node& c) {
    st.kind = StepSpec::Kind::change;
    ChangeSpec& ch = st.change;
    ch.pos = r_.pos(c);
    if (!c.IsMap()) {
      r_.error(c, "change must be a mapping (link, address, route, nftables or sysctl)");
      return;
    }
    auto target = [&](const YAML::Node& v, bool with_if) {
      auto s = r_.string(v, "change target");
      if (!s) return;
      auto colon = s->find(':');
      if (with_if) {
        if (colon == std::string::npos || colon == 0 || colon + 1 == s->size()) {
          r_.error(v, fmt::format("'{}' must be node:interface", *s));
          return;
        }
        ch.node = s->substr(0, colon);
        ch.ifname = s->substr(colon + 1);
      } else {
        ch.node = *s;
      }
      ch.target_pos = r_.pos(v);
    };
    auto add_or_del = [&](const YAML::Node& m) -> YAML::Node {
      if (m["add"] && m["del"]) r_.error(m, "a change either adds or deletes, not both");
      if (m["add"]) return m["add"];
      if (m["del"]) {
        ch.add = false;
        return m["del"];
      }
      r_.error(m, "this change needs 'add' or 'del'");
      return YAML::Node(YAML::NodeType::Undefined);
    };
    if (c["link"]) {
      ch.kind = ChangeSpec::Kind::link;
      if (!r_.check_map(c, "a link change", {"link", "mtu", "up"})) return;
      target(c["link"], true);
      if (c["mtu"]) ch.mtu = pattern(c["mtu"]);
      if (c["up"]) ch.up = pattern(c["up"]);
      if (!c["mtu"] && !c["up"]) r_.error(c, "a link change needs 'mtu' or 'up'");
    } else if (c["address"]) {
      ch.kind = ChangeSpec::Kind::address;
      if (!r_.check_map(c, "an address change", {"address", "add", "del"})) return;
      target(c["address"], true);
      if (auto v = add_or_del(c); v) ch.address = pattern(v);
    } else if (c["route"]) {
      ch.kind = ChangeSpec::Kind::route;
      if (!r_.check_map(c, "a route change", {"route", "add", "del"})) return;
      target(c["route"], false);
      if (auto v = add_or_del(c); v) {
        if (r_.check_map(v, "the route",
                         {"to", "via", "dev", "mtu", "lock_mtu", "metric", "family"})) {
          ch.route = to_json(v);
          for (const auto& kv : v) ch.route_key_pos[kv.first.Scalar()] = r_.pos(kv.second);
        }
        ch.route_pos = r_.pos(v);
      }
    } else if (c["nftables"]) {
      ch.kind = ChangeSpec::Kind::nftables;
      if (!r_.check_map(c, "an nftables change", {"nftables", "ruleset"})) return;
      target(c["nftables"], false);
      if (auto x = c["ruleset"]; !x)
        r_.error(c, "an nftables change needs 'ruleset' (nft commands)");
      else if (auto v = r_.string(x, "ruleset")) {
        ch.ruleset = *v;
        ch.ruleset_pos = r_.pos(x);
      }
    } else if (c["sysctl"]) {
      ch.kind = ChangeSpec::Kind::sysctl;
      if (!r_.check_map(c, "a sysctl change", {"sysctl", "set"})) return;
      target(c["sysctl"], false);
      auto set = c["set"];
      if (!set || !r_.check_map(set, "sysctl set")) {
        if (!set) r_.error(c, "a sysctl change needs 'set: {net.key: value}'");
        return;
      }
      for (const auto& kv : set)
        if (auto v = r_.string(kv.second, "sysctl value"))
          ch.sysctls.push_back({kv.first.Scalar(), *v, r_.pos(kv.first)});
    } else {
      r_.error(c, "a change needs one of: link, address, route, nftables, sysctl");
    }
  }

  void wait(StepSpec& st, const YAML::Node& w) {
    st.kind = StepSpec::Kind::wait;
    if (!r_.check_map(w, "wait", {"step", "record", "timeout"})) return;
    if (auto x = w["step"]; !x)
      r_.error(w, "wait needs 'step' (a background step's name)");
    else if (auto v = r_.string(x, "step"))
      st.wait_step = {*v, r_.pos(x)};
    if (auto x = w["record"]; !x || !x.IsMap())
      r_.error(x ? x : w, "wait needs 'record' (a record pattern)");
    else
      st.wait_record = pattern(x);
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
