// Change steps: a topology fragment checked against the model as the earlier steps left it
// (the same check as `nslab validate`), then applied by Lab::apply, the builder's own walk.

#include <fmt/format.h>

#include "../lab/apply.hpp"
#include "execution.hpp"
#include "nslab/error.hpp"

namespace nslab {

namespace exec {

// The fragment is parsed again with the lab's values for its templates; the lab checks it
// against its model and applies it.
void change_step(ScenarioState& s, const StepSpec& st, StepOutcome& o) {
  o.kind = "change";
  const ChangeSpec& c = st.change;
  if (c.op == ChangeOp::flush) {
    o.node = c.flush_node.value;
    try {
      o.command = apply::flush(*s.lab, s.lab->node(c.flush_node.value), c.flush);
    } catch (const Error& e) {
      o.passed = false;
      o.reason = e.what();
    }
    return;
  }
  Diagnostics d;
  Topology fragment = c.fragment(s.resolver(), d, nullptr);
  if (!fragment.nodes.empty()) o.node = fragment.nodes.front().name;
  // Positions are the scenario's, given as (LINE:COL) like an expectation's.
  auto at = [](const std::string& what, const SourcePos& pos) {
    return pos.line ? fmt::format("{} ({})", what, pos.line_col()) : what;
  };
  try {
    if (d.empty())
      o.command = s.lab->apply(c.op, fragment, d,
                               scaled(BuildOptions{}.ready_timeout, s.options.time_scale));
  } catch (const Error& e) {
    o.passed = false;
    o.reason = e.pos() ? at(e.what(), *e.pos()) : e.what();
    return;
  }
  if (!d.empty()) {  // the fragment's templates, or the change refused by the model
    auto all = d.sorted();
    o.passed = false;
    o.reason = at(all.front().message, all.front().pos);
    for (std::size_t i = 1; i < all.size(); ++i)
      o.details.push_back("also: " + at(all[i].message, all[i].pos));
  }
}

}  // namespace exec

}  // namespace nslab
