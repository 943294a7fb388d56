// libFuzzer target: any bytes as a topology file. Loading and validating must end in a model and
// diagnostics, never in a crash, an escaped exception, a sanitizer report or a hang.

#include <cstddef>
#include <cstdint>
#include <string>

#include "nslab/load.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  nslab::Diagnostics diags;
  nslab::Topology t = nslab::parse_topology_text(text, "fuzz.yaml", diags);
  nslab::validate_topology(t, diags);
  for (const auto& d : diags.sorted()) (void)d.str();
  return 0;
}
