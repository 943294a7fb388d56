// libFuzzer target: a scenario's change steps as they run, with saved values from program
// output. The input is a scenario file, optionally followed by a line "#%saved%" and the value
// every ${save.NAME} resolves to (what a program printed: any bytes). Each change fragment is
// parsed again with that value and checked against the model as the steps before left it, as
// the runner does before touching the kernel: diagnostics, never a crash, an escaped exception,
// a sanitizer report or a hang.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "nslab/change.hpp"
#include "nslab/error.hpp"
#include "nslab/load.hpp"
#include "nslab/scenario.hpp"
#include "nslab/templates.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string value = "42";
  if (auto at = text.find("\n#%saved%\n"); at != std::string::npos) {
    value = text.substr(at + 10);
    text.resize(at + 1);
  }
  nslab::Diagnostics diags;
  nslab::Scenario s = nslab::parse_scenario_text(text, NSLAB_FUZZ_ANCHOR, diags);
  nslab::validate_scenario(s, diags);
  if (!diags.empty()) return 0;
  std::map<std::string, std::string> saved;
  nslab::Topology model = s.topology;
  for (const auto& st : s.steps) {
    for (const auto& v : st.saves) saved[v.name] = value;
    if (st.kind != nslab::StepSpec::Kind::change || !st.change.fragment) continue;
    nslab::TemplateResolver from_model = nslab::model_resolver(model);
    nslab::TemplateResolver resolve = [&](const nslab::TemplateRef& ref) {
      return ref.save.empty() ? from_model(ref) : nslab::resolve_saved(ref, &saved);
    };
    nslab::Diagnostics d;
    nslab::Topology fragment = st.change.fragment(resolve, d, nullptr);
    nslab::Topology after = model;
    if (d.empty()) nslab::change_model(after, st.change.op, fragment, d);
    for (const auto& x : d.sorted()) (void)x.str();
    if (d.empty()) model = std::move(after);
  }
  return 0;
}
