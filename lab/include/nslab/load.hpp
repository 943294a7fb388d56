#pragma once
// Reading topology and scenario files: YAML -> model -> validated model. The yaml layer (the only
// one that speaks yaml-cpp); the checks themselves are the model's (nslab/validate.hpp).

#include <string>
#include <vector>

#include "nslab/error.hpp"
#include "nslab/scenario.hpp"
#include "nslab/topology.hpp"
#include "nslab/validate.hpp"

namespace nslab {

// Structure only (types, keys, syntax of names and addresses); errors go to `diags`.
Topology parse_topology_file(const std::string& path, Diagnostics& diags);
Topology parse_topology_text(const std::string& text, const std::string& file, Diagnostics& diags);

// parse + validate; throws InputError listing every problem.
Topology load_topology_file(const std::string& path);
Topology load_topology_text(const std::string& text, const std::string& file = "<inline>");

// Scenarios: parse + validate; throws InputError with every problem, each at its YAML position.
Scenario load_scenario_file(const std::string& path);
// Structure only (cross references are validate_scenario's), for `nslab validate`.
Scenario parse_scenario_file(const std::string& path, Diagnostics& diags);
// The same from text; `file` names it in diagnostics and anchors a relative topology path.
Scenario parse_scenario_text(const std::string& text, const std::string& file, Diagnostics& diags);
// True when the file looks like a scenario (has `steps` or `topology`), false for a topology.
bool is_scenario_file(const std::string& path);

}  // namespace nslab
