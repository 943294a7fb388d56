// Cross references of a scenario: nodes, steps named by `wait`, templates, patterns, change
// targets. Pure: nothing here touches the kernel.

#include <fmt/format.h>

#include <set>

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
    for (const auto& e : check_pattern(p.value)) d_.error(p.pos, e);
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
            int m = c.mtu->value.get<int>();
            if (m < kMinMtuIpv4 || m > kMaxMtu)
              d_.error(c.mtu->pos, fmt::format("mtu {} is outside 68-65535", m));
          } else if (!c.mtu->value.is_string()) {
            d_.error(c.mtu->pos, "mtu must be a number");
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
        if (c.address.value.get<std::string>().find("${") == std::string::npos &&
            !IpPrefix::parse(c.address.value.get<std::string>()))
          d_.error(c.address.pos, fmt::format("invalid address '{}' (expected A.B.C.D/N or X::Y/N)",
                                              c.address.value.get<std::string>()));
        break;
      case ChangeSpec::Kind::route:
        if (!c.route.is_object() || !c.route.contains("to"))
          d_.error(c.route_pos, "the route needs 'to'");
        templates(c.route, c.route_pos);
        break;
      case ChangeSpec::Kind::nftables:
        templates(c.ruleset, c.target_pos);
        break;
      case ChangeSpec::Kind::sysctl:
        for (const auto& s : c.sysctls) {
          if (!s.key.starts_with("net.") || s.key.find("..") != std::string::npos ||
              s.key.find('/') != std::string::npos)
            d_.error(s.pos,
                     fmt::format("sysctl '{}' must be a net.* key without '..' or '/'", s.key));
          templates(s.value, s.pos);
        }
        break;
    }
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
