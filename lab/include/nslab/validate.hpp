#pragma once
// The model's checks: cross references and kernel limits, pure (no kernel object is touched, no
// file is read). The loaders (nslab/load.hpp) run them after parsing.

#include <vector>

#include "nslab/error.hpp"
#include "nslab/scenario.hpp"
#include "nslab/source.hpp"
#include "nslab/topology.hpp"

namespace nslab {

// Thrown when an input file is invalid; carries every diagnostic of the file.
class InputError : public Error {
 public:
  explicit InputError(std::vector<Diagnostic> diagnostics);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

void validate_topology(const Topology& topology, Diagnostics& diags);
// `running`: the kernel whose expectations must exist (kernel alternatives, SPEC 7).
void validate_scenario(const Scenario& scenario, Diagnostics& diags,
                       const KernelVersion& running = running_kernel());

}  // namespace nslab
