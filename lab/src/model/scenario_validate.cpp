// Cross references of a scenario: nodes, steps named by `wait`, templates, patterns, change
// targets. Pure: nothing here touches the kernel.

#include <fmt/format.h>

#include <set>

#include "names.hpp"
#include "nslab/load.hpp"
#include "nslab/match.hpp"
#include "nslab/scenario.hpp"
#include "nslab/templates.hpp"

namespace nslab {

namespace {

class ScenarioValidator {
 public:
  ScenarioValidator(const Scenario& s, Diagnostics& d) : s_(s), t_(s.topology), d_(d) {}

  void run() {
    if (!s_.topology_loaded) return;  // reported by the loader; nothing to check against
    validate_topology(t_, d_);
    std::set<std::string> names;
    for (const auto& st : s_.steps) {
      if (!names.insert(st.name).second)
        d_.error(st.pos, fmt::format("duplicate step name '{}'", st.name));
      if (!st.parsed) continue;
      switch (st.kind) {
        case StepSpec::Kind::run:
          run(st);
          break;
        case StepSpec::Kind::change:
          change(st.change);
          break;
        case StepSpec::Kind::wait:
          wait(st);
          break;
      }
      seen_.push_back(&st);
    }
  }

 private:
  void node(const std::string& name, const SourcePos& pos) {
    if (!name.empty() && !t_.node(name))
      d_.error(pos, fmt::format("unknown node '{}' (not in topology '{}')", name, t_.name));
  }

  void templates(const std::string& text, const SourcePos& pos) {
    for (const auto& ref : find_templates(text, [&](std::string e) { d_.error(pos, e); }))
      if (auto e = check_template(ref, t_)) d_.error(pos, *e);
  }

  void templates(const Json& j, const SourcePos& pos) {
    if (j.is_string()) return templates(j.get<std::string>(), pos);
    if (j.is_object() || j.is_array())
      for (const auto& v : j) templates(v, pos);
  }

  void pattern(const Pattern& p, bool record) {
    if (record && !p.value.is_object()) return;  // the loader reported it
    for (const auto& e : check_pattern(p.value, record)) d_.error(p.pos, e);
    templates(p.value, p.pos);
  }

  void run(const StepSpec& st) {
    node(st.node, st.on_pos);
    templates(st.command.value, st.command.pos);
    if (st.command.value.find_first_not_of(" \t") == std::string::npos)
      d_.error(st.command.pos, "run needs a command");
    if (st.ready) pattern(*st.ready, true);
    for (const auto& p : st.expect.records) pattern(p, true);
    for (const auto& p : st.expect.absent) pattern(p, true);
    if (st.expect.stdout_text) pattern(*st.expect.stdout_text, false);
    if (st.expect.stderr_text) pattern(*st.expect.stderr_text, false);
  }

  void wait(const StepSpec& st) {
    const std::string& target = st.wait_step.value;
    if (!target.empty()) {
      const StepSpec* found = nullptr;
      for (const StepSpec* s : seen_)
        if (s->name == target) found = s;
      if (!found)
        d_.error(st.wait_step.pos,
                 fmt::format("wait names step '{}', which is not an earlier step", target));
      else if (found->kind != StepSpec::Kind::run || !found->background)
        d_.error(st.wait_step.pos,
                 fmt::format("wait names step '{}', which is not a background step", target));
    }
    pattern(st.wait_record, true);
  }

  void change(const ChangeSpec& c) {
    if (c.node.empty()) return;  // the loader reported it
    const NodeSpec* n = t_.node(c.node);
    if (!n) return node(c.node, c.target_pos);
    if (!c.ifname.empty()) {
      auto ifs = t_.created_interfaces(c.node);
      if (c.ifname != "lo" && std::find(ifs.begin(), ifs.end(), c.ifname) == ifs.end())
        d_.error(c.target_pos, fmt::format("node '{}' has no interface '{}'", c.node, c.ifname));
    }
    switch (c.kind) {
      case ChangeSpec::Kind::link:
        if (c.mtu) {
          templates(c.mtu->value, c.mtu->pos);
          if (c.mtu->value.is_number_integer()) {
            auto m = c.mtu->value.get<std::int64_t>();
            if (m < kMinMtuIpv4 || m > kMaxMtu)
              d_.error(c.mtu->pos, fmt::format("mtu {} is outside 68-65535", m));
          } else if (!is_templated(c.mtu->value)) {
            d_.error(c.mtu->pos, fmt::format("mtu must be a number, not {}", c.mtu->value.dump()));
          }
        }
        if (c.up && !c.up->value.is_boolean()) d_.error(c.up->pos, "up must be true or false");
        break;
      case ChangeSpec::Kind::address:
        if (!c.address.value.is_string()) {
          d_.error(c.address.pos, "the address must be a prefix like 10.0.0.9/24");
          break;
        }
        templates(c.address.value, c.address.pos);
        if (!is_templated(c.address.value) && !IpPrefix::parse(c.address.value.get<std::string>()))
          d_.error(c.address.pos, fmt::format("invalid address '{}' (expected A.B.C.D/N or X::Y/N)",
                                              c.address.value.get<std::string>()));
        break;
      case ChangeSpec::Kind::route:
        route(c);
        break;
      case ChangeSpec::Kind::nftables:
        templates(c.ruleset, c.ruleset_pos);
        if (auto at = find_nft_include(c.ruleset))
          d_.error(c.ruleset_pos, fmt::format("nftables: 'include' (line {} of the ruleset) would "
                                              "read a file of the host",
                                              at->first));
        break;
      case ChangeSpec::Kind::sysctl:
        for (const auto& s : c.sysctls) {
          if (auto e = check_sysctl_key(s.key)) d_.error(s.pos, *e);
          if (auto e = check_sysctl_value(s.key, s.value)) d_.error(s.pos, *e);
          templates(s.value, s.pos);
        }
        break;
    }
  }

  // The values of a route change, checked as a topology's routes are (a template is checked
  // when it is expanded).
  void route(const ChangeSpec& c) {
    const Json& r = c.route;
    if (!r.is_object()) return;  // the loader reported it
    if (!r.contains("to")) d_.error(c.route_pos, "the route needs 'to'");
    templates(r, c.route_pos);
    auto at = [&](const char* key) {
      auto it = c.route_key_pos.find(key);
      return it == c.route_key_pos.end() ? c.route_pos : it->second;
    };
    auto text = [&](const char* key) -> std::optional<std::string> {
      if (!r.contains(key)) return std::nullopt;
      const Json& v = r[key];
      if (is_templated(v)) return std::nullopt;
      if (!v.is_string()) {
        d_.error(at(key), fmt::format("{} must be text, not {}", key, v.dump()));
        return std::nullopt;
      }
      return v.get<std::string>();
    };
    if (auto to = text("to"); to && *to != "default" && !IpPrefix::parse(*to, true))
      d_.error(at("to"),
               fmt::format("invalid route destination '{}' (expected default or a prefix)", *to));
    if (auto via = text("via"); via && !IpAddress::parse(*via))
      d_.error(at("via"), fmt::format("invalid gateway address '{}'", *via));
    if (auto dev = text("dev"); dev)
      if (auto e = check_ifname(*dev)) d_.error(at("dev"), *e);
    if (auto f = text("family"); f && *f != "ipv4" && *f != "ipv6")
      d_.error(at("family"), fmt::format("family must be ipv4 or ipv6, not '{}'", *f));
    auto number = [&](const char* key, std::int64_t lo, std::int64_t hi) {
      if (!r.contains(key) || is_templated(r[key])) return;
      if (!r[key].is_number_integer() || r[key].get<std::int64_t>() < lo ||
          r[key].get<std::int64_t>() > hi)
        d_.error(at(key), fmt::format("{} must be a number in [{}, {}], not {}", key, lo, hi,
                                      r[key].dump()));
    };
    number("mtu", kMinMtuIpv4, kMaxMtu);
    number("metric", 0, 0xffffffffLL);
    if (r.contains("lock_mtu") && !r["lock_mtu"].is_boolean())
      d_.error(at("lock_mtu"), "lock_mtu must be true or false");
  }

  const Scenario& s_;
  const Topology& t_;
  Diagnostics& d_;
  std::vector<const StepSpec*> seen_;
};

}  // namespace

void validate_scenario(const Scenario& scenario, Diagnostics& diags) {
  ScenarioValidator(scenario, diags).run();
}

}  // namespace nslab
