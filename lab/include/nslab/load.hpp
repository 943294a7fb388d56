#pragma once
// Reading topology files: YAML -> model -> validated model.

#include <string>
#include <vector>

#include "nslab/error.hpp"
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

// Structure only (types, keys, syntax of names and addresses); errors go to `diags`.
Topology parse_topology_file(const std::string& path, Diagnostics& diags);
Topology parse_topology_text(const std::string& text, const std::string& file, Diagnostics& diags);

// Cross references and kernel limits (pure: touches no kernel object).
void validate_topology(const Topology& topology, Diagnostics& diags);

// parse + validate; throws InputError listing every problem.
Topology load_topology_file(const std::string& path);
Topology load_topology_text(const std::string& text, const std::string& file = "<inline>");

}  // namespace nslab
