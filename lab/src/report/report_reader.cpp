// The report's one reader (outcomes_from_json, nslab/report.hpp): a --json report read back into
// the outcomes it was written from. Its own file: the fuzz build compiles it with the diff, without
// the writer's layers.

#include <signal.h>
#include <string.h>

#include <charconv>

#include <fmt/format.h>

#include "nslab/error.hpp"
#include "nslab/report.hpp"

namespace nslab {

namespace {

// The JSON report read back: each value must have the type the writer gave it.
template <class T>
T field(const nlohmann::ordered_json& j, const char* key, T fallback = {}) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(
        fmt::format("report: '{}' is {}, not what nslab writes there", key, it->type_name()));
  }
}

std::optional<int> signal_of(const std::string& name) {
  for (int s = 1; s < NSIG; ++s)
    if (const char* a = sigabbrev_np(s); a && name == fmt::format("SIG{}", a)) return s;
  int n = 0;
  auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
  if (ec == std::errc() && p == name.data() + name.size()) return n;
  return std::nullopt;
}

}  // namespace

std::vector<ScenarioOutcome> outcomes_from_json(const nlohmann::ordered_json& report) {
  if (!report.is_object() || !report.contains("scenarios") || !report["scenarios"].is_array())
    throw Error("report: not an nslab JSON report (no 'scenarios' list)");
  std::vector<ScenarioOutcome> out;
  for (const auto& s : report["scenarios"]) {
    if (!s.is_object()) throw Error("report: a scenario that is not an object");
    ScenarioOutcome o;
    o.file = field<std::string>(s, "file");
    o.name = field<std::string>(s, "name");
    o.labels = field<std::vector<std::string>>(s, "labels");
    o.volatile_ = field<std::vector<Json>>(s, "volatile");
    const auto verdict = field<std::string>(s, "verdict");
    bool known = false;
    for (Verdict v : {Verdict::passed, Verdict::failed, Verdict::skipped, Verdict::invalid})
      if (verdict == verdict_name(v)) {
        o.verdict = v;
        known = true;
      }
    if (!known) throw Error(fmt::format("report: unknown verdict '{}'", verdict));
    o.reason = field<std::string>(s, "reason");
    o.build_ms = field<double>(s, "build_ms");
    o.ms = field<double>(s, "ms");
    o.captures = field<std::vector<std::string>>(s, "captures");
    o.diagnostics = field<std::vector<std::string>>(s, "diagnostics");
    for (const auto& j : field<std::vector<nlohmann::ordered_json>>(s, "steps")) {
      if (!j.is_object()) throw Error("report: a step that is not an object");
      StepOutcome st;
      st.name = field<std::string>(j, "name");
      st.kind = field<std::string>(j, "kind");
      st.node = field<std::string>(j, "node");
      st.command = field<std::string>(j, "command");
      st.ran = field<bool>(j, "ran");
      st.passed = field<bool>(j, "passed", true);
      st.skipped = field<bool>(j, "skipped");
      st.reason = field<std::string>(j, "reason");
      st.details = field<std::vector<std::string>>(j, "details");
      st.records = field<std::vector<Json>>(j, "records");
      st.stdout_text = field<std::string>(j, "stdout");
      st.stderr_text = field<std::string>(j, "stderr");
      st.expect_kernel = field<std::string>(j, "expect_kernel");
      st.ms = field<double>(j, "ms");
      if (j.contains("exit") && !j["exit"].is_null()) st.exit_status = field<int>(j, "exit");
      if (j.contains("signal")) st.signal = signal_of(field<std::string>(j, "signal"));
      o.steps.push_back(std::move(st));
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace nslab
