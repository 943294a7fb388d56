#pragma once
// The scenario model (SPEC section 3): a topology, then steps that run programs in nodes, change
// the topology, or wait for a background step's record; with expectations on what they saw.
// Plain data with source positions. Expected values are JSON patterns whose strings may hold
// ${...} templates, expanded when the step runs.

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nslab/topology.hpp"

namespace nslab {

using Json = nlohmann::ordered_json;

struct Pattern {  // an expected record, value or ready condition, as written
  Json value;
  SourcePos pos;
};

struct Expectation {
  std::optional<Located<int>> exit;
  std::vector<Pattern> records;  // each must match at least one record
  std::vector<Pattern> absent;   // none may match any record
  bool ordered = false;          // `records` must match in this order
  std::optional<Pattern> stdout_text, stderr_text;
  bool empty() const {
    return !exit && records.empty() && absent.empty() && !stdout_text && !stderr_text;
  }
};

// A change to the running topology. Values are kept as written (templates allowed) and parsed
// when the step runs; validation already parsed those without templates.
struct ChangeSpec {
  enum class Kind { link, address, route, nftables, sysctl };
  Kind kind = Kind::link;
  SourcePos pos;
  std::string node;
  std::string ifname;              // link, address
  SourcePos target_pos;            // of "node" or "node:interface"
  SourcePos route_pos;             // route: of the add/del map
  std::optional<Pattern> mtu, up;  // link
  bool add = true;                 // address, route: add or del
  Pattern address;                 // address: the prefix
  Json route;                      // route: {to, via, dev, mtu, lock_mtu, metric} as written
  std::map<std::string, SourcePos> route_key_pos;  // route: where each key's value is
  std::string ruleset;                             // nftables: nft commands
  SourcePos ruleset_pos;
  std::vector<SysctlSpec> sysctls;
};

struct StepSpec {
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
  Expectation expect;
  // change
  ChangeSpec change;
  // wait
  Located<std::string> wait_step;
  Pattern wait_record;
};

struct Requirement {
  enum class Kind { real_root, userns_root, kernel };
  Kind kind = Kind::real_root;
  int major = 0, minor = 0;  // kernel >= major.minor
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
  std::chrono::milliseconds timeout{60000};
  std::vector<StepSpec> steps;
  bool topology_loaded = false;  // false when it could not be read: no cross-checks against it

  const StepSpec* step(const std::string& name) const;
};

inline constexpr std::chrono::milliseconds kDefaultStepTimeout{10000};

// Loading: parse + validate; throws InputError with every problem, each at its YAML position.
Scenario load_scenario_file(const std::string& path);
// Structure only / cross references only, for `nslab validate`.
Scenario parse_scenario_file(const std::string& path, Diagnostics& diags);
// The same from text; `file` names it in diagnostics and anchors a relative topology path.
Scenario parse_scenario_text(const std::string& text, const std::string& file, Diagnostics& diags);
void validate_scenario(const Scenario& scenario, Diagnostics& diags);
// True when the file looks like a scenario (has `steps` or `topology`), false for a topology.
bool is_scenario_file(const std::string& path);

}  // namespace nslab
