#pragma once
// A topology as Graphviz DOT: nodes as clusters, interfaces with addresses and MTUs, links as
// edges, bridges and their ports, routes, and a mark on nodes that carry nftables rules.

#include <string>

#include "nslab/topology.hpp"

namespace nslab {

std::string topology_dot(const Topology& topology);

}  // namespace nslab
