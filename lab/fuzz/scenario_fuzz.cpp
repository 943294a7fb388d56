// libFuzzer target: any bytes as a scenario file (inline topologies included). Loading and
// validating must end in a model and diagnostics, never in a crash, an escaped exception, a
// sanitizer report or a hang. A topology path in the input is read relative to this folder.

#include <cstddef>
#include <cstdint>
#include <string>

#include "nslab/load.hpp"
#include "nslab/scenario.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  nslab::Diagnostics diags;
  nslab::Scenario s = nslab::parse_scenario_text(text, NSLAB_FUZZ_ANCHOR, diags);
  nslab::validate_scenario(s, diags);
  for (const auto& d : diags.sorted()) (void)d.str();
  return 0;
}
