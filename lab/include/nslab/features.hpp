#pragma once
// Kernel features a topology may need (SPEC 6): interface kinds that some kernels lack.

#include <optional>
#include <string>

#include "nslab/topology.hpp"  // is_feature_name

namespace nslab {

// Why `feature` cannot be used here ("this kernel has no vrf", or the reason this process may
// not use it), or nullopt when it can: tried once, in a throwaway network namespace, and cached.
std::optional<std::string> missing_feature(const std::string& feature);

// A persistent tun (or tap) device in the calling thread's network namespace, with the given
// ifindex (0: the kernel's choice). Programs in the namespace attach to it by name.
void create_tun(const std::string& name, int ifindex, bool tap);

}  // namespace nslab
