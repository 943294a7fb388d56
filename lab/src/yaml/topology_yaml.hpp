#pragma once
// Internal: a topology from an already parsed YAML node (scenarios may carry one inline).

#include <yaml-cpp/yaml.h>

#include "nslab/topology.hpp"
#include "yaml_reader.hpp"

namespace nslab::yaml {

Topology parse_topology(Reader& reader, const YAML::Node& root);

}  // namespace nslab::yaml
