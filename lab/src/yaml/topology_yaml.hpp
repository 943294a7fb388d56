#pragma once
// Internal: a topology from an already parsed YAML node (scenarios may carry one inline).

#include <yaml-cpp/yaml.h>

#include "nslab/topology.hpp"
#include "yaml_reader.hpp"

namespace nslab::yaml {

Topology parse_topology(Reader& reader, const YAML::Node& root);
// A change fragment (SPEC 7). `for_del`: objects need only their identity keys.
Topology parse_fragment(Reader& reader, const YAML::Node& root, bool for_del);

}  // namespace nslab::yaml
