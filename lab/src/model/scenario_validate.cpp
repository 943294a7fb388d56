// Cross references of a scenario: nodes, steps named by `wait`, templates, patterns, change
// targets. Pure: nothing here touches the kernel.

#include <fmt/format.h>

#include <set>

#include "names.hpp"
#include "nslab/change.hpp"
#include "nslab/error.hpp"
#include "nslab/match.hpp"
#include "nslab/scenario.hpp"
#include "nslab/templates.hpp"
#include "nslab/validate.hpp"

namespace nslab {

namespace {

class ScenarioValidator {
 public:
  ScenarioValidator(const Scenario& s, Diagnostics& d, const KernelVersion& running)
      : s_(s), model_(s.topology), d_(d), running_(running) {}

  void run() {
    if (!s_.topology_loaded) return;  // reported by the loader; nothing to check against
    const std::size_t before = d_.size();
    validate_topology(model_, d_);
    base_ok_ = d_.size() == before;  // changes are checked against a valid topology only
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
    if (!name.empty() && !model_.node(name))
      d_.error(pos, fmt::format("unknown node '{}' (not in topology '{}')", name, model_.name));
  }

  void templates(const std::string& text, const SourcePos& pos) {
    for (const auto& ref : find_templates(text, [&](std::string e) { d_.error(pos, e); })) {
      if (!ref.save.empty() && !saved_.count(ref.save))
        d_.error(pos, fmt::format("template '{}': no earlier step saves '{}'", ref.text, ref.save));
      if (auto e = check_template(ref, model_)) d_.error(pos, *e);
    }
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
    // A `run` that is not a string has no position: the loader reported it already.
    if (!st.command.pos.file.empty() &&
        st.command.value.find_first_not_of(" \t") == std::string::npos)
      d_.error(st.command.pos, "run needs a command");
    if (st.ready) pattern(*st.ready, true);
    // A step's saves are made before its expectations are checked, so that those can compare
    // one record with another (`pid: "${save.self}"`); the command and ready come before both.
    for (const auto& sv : st.saves)
      if (sv.record.value.is_object()) pattern(sv.record, true);  // else the loader reported it
    for (const auto& sv : st.saves)
      if (sv.record.value.is_object() && !saved_.insert(sv.name).second)
        d_.error(sv.pos, fmt::format("'{}' is saved twice", sv.name));
    expectation(st.expect);
    for (const auto& a : st.alternatives) expectation(a.expect);
    alternatives(st);
  }

  void expectation(const Expectation& ex) {
    if (ex.exit && ex.exit->value.is_object()) pattern(*ex.exit, false);
    for (const auto& p : ex.records) pattern(p, true);
    for (const auto& p : ex.absent) pattern(p, true);
    if (ex.stdout_text) pattern(*ex.stdout_text, false);
    if (ex.stderr_text) pattern(*ex.stderr_text, false);
  }

  // Kernel alternatives: no two ranges overlap, and one holds the running kernel, unless the
  // scenario requires a newer kernel than this one (it is skipped here).
  void alternatives(const StepSpec& st) {
    const auto& alts = st.alternatives;
    for (std::size_t i = 0; i < alts.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (alts[i].kernel.overlaps(alts[j].kernel))
          d_.error(
              alts[i].kernel.pos,
              fmt::format("kernel range '{}' overlaps '{}' ({}): a kernel would have two "
                          "expectations",
                          alts[i].kernel.text, alts[j].kernel.text, alts[j].kernel.pos.line_col()));
    if (alts.empty() || st.expectation_for(running_)) return;
    for (const auto& r : s_.requires_)
      if (r.kind == Requirement::Kind::kernel && running_ < r.kernel) return;
    std::string ranges;
    for (const auto& a : alts) ranges += (ranges.empty() ? "'" : ", '") + a.kernel.text + "'";
    d_.error(alts.front().kernel.pos,
             fmt::format("no kernel range of step '{}' holds this kernel, {} ({}): add an "
                         "alternative for it",
                         st.name, running_.str(), ranges));
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
    if (st.alternatives.empty()) pattern(st.wait_record, true);
    for (const auto& a : st.alternatives) expectation(a.expect);
    alternatives(st);
  }

  // The fragment is parsed with the model's values for its templates, checked against the
  // model as the steps before it left it, and then changes that model for the steps after it.
  void change(const ChangeSpec& c) {
    if (c.op == ChangeOp::flush) return node(c.flush_node.value, c.flush_node.pos);
    if (!c.fragment || !base_ok_) return;  // the loader reported it
    const std::size_t before = d_.size();
    TemplateResolver model = model_resolver(model_);
    std::set<std::pair<int, int>> deferred;
    Topology fragment = c.fragment(
        [&](const TemplateRef& ref) {
          if (!ref.save.empty() && !saved_.count(ref.save))
            throw Error(
                fmt::format("template '{}': no earlier step saves '{}'", ref.text, ref.save),
                ENOENT);
          return model(ref);
        },
        d_, &deferred);
    if (d_.size() != before) return;
    Diagnostics checked;
    change_model(model_, c.op, fragment, checked);
    for (const auto& d : checked.items())
      if (!deferred.count({d.pos.line, d.pos.column})) d_.error(d.pos, d.message);
  }

  const Scenario& s_;
  Topology model_;  // the topology as the steps so far left it
  bool base_ok_ = true;
  std::set<std::string> saved_;  // names saved by the steps so far
  Diagnostics& d_;
  std::vector<const StepSpec*> seen_;
  KernelVersion running_;
};

}  // namespace

const Expectation* StepSpec::expectation_for(const KernelVersion& v, std::string* which) const {
  if (alternatives.empty()) return &expect;
  for (const auto& a : alternatives)
    if (a.kernel.holds(v)) {
      if (which) *which = a.kernel.text;
      return &a.expect;
    }
  return nullptr;
}

void validate_scenario(const Scenario& scenario, Diagnostics& diags, const KernelVersion& running) {
  ScenarioValidator(scenario, diags, running).run();
}

}  // namespace nslab
