#pragma once
// The scenario model (SPEC section 3): a topology, then steps that run programs in nodes, change
// the topology, or wait for a background step's record; with expectations on what they saw.
// Plain data with source positions. Expected values are JSON patterns whose strings may hold
// ${...} templates, expanded when the step runs.

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nslab/kernel_version.hpp"
#include "nslab/templates.hpp"
#include "nslab/topology.hpp"

namespace nslab {

using Json = nlohmann::ordered_json;

struct Pattern {  // an expected record, value or ready condition, as written
  Json value;
  SourcePos pos;
};

struct Expectation {
  // The exit status allowed: a number, an operator map ({gt: 0}, {one_of: [1, 2]}) or "any".
  // Unwritten: 0. A step ended by a signal fails whatever this says (see run_step.cpp).
  std::optional<Pattern> exit;
  std::vector<Pattern> records;  // each must match at least one record
  std::vector<Pattern> absent;   // none may match any record
  bool ordered = false;          // `records` must match in this order
  std::optional<Pattern> stdout_text, stderr_text;
  bool empty() const {
    return !exit && records.empty() && absent.empty() && !stdout_text && !stderr_text;
  }
};

// One of the alternatives of an `expect` written as a list (SPEC 7): it applies on the kernels in
// its range. The ranges of a step never overlap (checked at validation).
struct KernelAlternative {
  KernelRange kernel;
  Expectation expect;
};

// A change to the running topology (SPEC 7): add, del, replace or set a topology fragment, or
// flush kernel state no topology names (route exceptions, the route cache, neighbours). The
// fragment is parsed by the topology loader when it is needed, with ${...} templates expanded
// by the resolver it is given: at validation from the model, when the step runs from the lab.
// Positions are the scenario file's (for a short form, its target's).

struct ChangeSpec {
  ChangeOp op = ChangeOp::set;
  SourcePos pos;
  // `deferred` (when given) receives the positions of values known only when the step runs
  // (${save.NAME}): what validation says about them waits for that.
  std::function<Topology(const TemplateResolver& resolve, Diagnostics& diags,
                         std::set<std::pair<int, int>>* deferred)>
      fragment;
  // flush
  enum class Flush { route_exceptions, route_cache, neighbours };
  Located<std::string> flush_node;
  Flush flush = Flush::route_exceptions;
};

// `save: {NAME: {record: PATTERN, field: KEY}}`: the value of KEY in the first record of the
// step that matches PATTERN, for ${save.NAME} in later steps.
struct SaveSpec {
  std::string name;
  SourcePos pos;
  Pattern record;
  Located<std::string> field;
};

struct StepSpec {
  // A kind is a line in the loader's table of step kinds (its key, the keys only it takes, its
  // reader: scenario_yaml.cpp), a case in the validator's and the runner's switch (-Wswitch
  // names each one a new kind misses) and its own file run/KIND_step.cpp.
  enum class Kind { run, change, wait };
  std::string name;
  SourcePos pos;
  Kind kind = Kind::run;
  bool parsed = true;  // false when the loader already reported it (no cascade of errors)
  // run
  std::string node;
  SourcePos on_pos;
  Located<std::string> command;
  bool background = false;
  std::optional<Pattern> ready;
  std::optional<Located<std::chrono::milliseconds>> timeout;
  Expectation expect;  // empty when `alternatives` are given
  std::vector<KernelAlternative> alternatives;
  std::vector<SaveSpec> saves;
  // change
  ChangeSpec change;
  // wait
  Located<std::string> wait_step;
  Pattern wait_record;
  // Which of the background step's records the wait looks at: those that came since the last
  // run or change step began (`action`, the default), since the step before the wait ended
  // (`previous`), or all of them (`start`).
  enum class Since { action, previous, start };
  Since since = Since::action;

  // The expectation that applies on kernel `v`: `expect`, or the alternative whose range holds
  // `v` (nullptr when none does). `which` receives that alternative's range text.
  const Expectation* expectation_for(const KernelVersion& v, std::string* which = nullptr) const;
};

struct Requirement {
  enum class Kind { real_root, userns_root, kernel, feature };
  Kind kind = Kind::real_root;
  KernelVersion kernel;  // kernel >= this
  std::string feature;   // feature NAME
  std::string text;
  SourcePos pos;
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  Topology topology;
  std::vector<std::string> labels;
  std::vector<Requirement> requires_;
  // What differs from run to run on the same kernel, for `nslab diff`: field names (a string)
  // and record patterns (a mapping: such records are left out). Nothing to do with expectations.
  std::vector<Json> volatile_;
  std::chrono::milliseconds timeout{60000};
  std::vector<StepSpec> steps;
  bool topology_loaded = false;  // false when it could not be read: no cross-checks against it

  const StepSpec* step(const std::string& name) const;
};

inline constexpr std::chrono::milliseconds kDefaultStepTimeout{10000};

}  // namespace nslab
