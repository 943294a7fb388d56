#include "nslab/report.hpp"

#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>

#include "nslab/error.hpp"
#include "nslab/versions.hpp"

#include <algorithm>

namespace nslab {

namespace {

std::string xml(const std::string& s) {
  return xml_escape(s);
}

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t')
          out += '?';
        else
          out += c;
    }
  }
  return out;
}

namespace {

// A scenario's family: the folder it is in (scenarios/pmtu/x.yaml: pmtu).
std::string family_of(const std::string& file) {
  auto slash = file.rfind('/');
  if (slash == std::string::npos || slash == 0) return "scenarios";
  auto before = file.rfind('/', slash - 1);
  return file.substr(before == std::string::npos ? 0 : before + 1,
                     slash - (before == std::string::npos ? 0 : before + 1));
}

std::string step_line(const StepOutcome& s, std::size_t name_width) {
  std::string status = !s.ran ? "not run" : s.passed ? "ok" : "FAILED: " + s.reason;
  std::string where = s.node.empty() ? "" : "on " + s.node;
  std::string alternative =
      s.expect_kernel.empty() ? "" : fmt::format("  [expect for kernel {}]", s.expect_kernel);
  return fmt::format("{:<{}}  {:<10} {:<10} {:>8.1f} ms  {}  {}{}", s.name, name_width, s.kind,
                     where, s.ms, status, s.command, alternative);
}

std::size_t name_width(const ScenarioOutcome& o) {
  std::size_t w = 4;
  for (const auto& s : o.steps) w = std::max(w, s.name.size());
  return w;
}

}  // namespace

void print_scenario(std::FILE* out, const ScenarioOutcome& o, bool verbose,
                    const LineStyle& style) {
  std::string counter =
      style.index ? fmt::format("[{}/{}] ", style.index, style.total) : std::string();
  const char* colour = o.verdict == Verdict::passed    ? "\033[32m"
                       : o.verdict == Verdict::skipped ? "\033[33m"
                                                       : "\033[1;31m";
  std::string verdict = style.colour ? fmt::format("{}{}\033[0m", colour, verdict_tag(o.verdict))
                                     : std::string(verdict_tag(o.verdict));
  fmt::print(out, "{}{}  {}  ({:.0f} ms)\n", counter, verdict, o.file, o.ms);
  if (o.verdict == Verdict::skipped) {
    fmt::print(out, "      {}\n", o.reason);
    return;
  }
  for (const auto& d : o.diagnostics) fmt::print(out, "      {}\n", d);
  if (o.verdict == Verdict::failed) fmt::print(out, "      {}\n", o.reason);
  for (const auto& s : o.steps) {
    if (verbose) fmt::print(out, "      {}\n", step_line(s, name_width(o)));
    if (!s.passed)
      for (const auto& d : s.details) fmt::print(out, "        {}\n", d);
  }
  for (const auto& c : o.captures) fmt::print(out, "      capture: {}\n", c);
}

void print_summary(std::FILE* out, const std::vector<ScenarioOutcome>& all, double ms) {
  int passed = 0, failed = 0, skipped = 0, invalid = 0;
  for (const auto& o : all) {
    if (o.verdict == Verdict::passed) ++passed;
    if (o.verdict == Verdict::failed) ++failed;
    if (o.verdict == Verdict::skipped) ++skipped;
    if (o.verdict == Verdict::invalid) ++invalid;
  }
  fmt::print(out, "\n{} scenarios in {:.1f} s\n", all.size(), ms / 1000.0);
  fmt::print(out, "{} passed, {} failed, {} skipped{}\n", passed, failed, skipped,
             invalid ? fmt::format(", {} invalid", invalid) : std::string());
}

void print_tap_plan(std::FILE* out, std::size_t count) {
  fmt::print(out, "TAP version 14\n1..{}\n", count);
}

void print_tap_result(std::FILE* out, std::size_t n, const ScenarioOutcome& o) {
  // A description may not hold '#' (it starts a directive).
  std::string what = o.file;
  std::replace(what.begin(), what.end(), '#', '_');
  if (o.verdict == Verdict::skipped) {
    std::string reason = o.reason;
    std::replace(reason.begin(), reason.end(), '\n', ' ');
    fmt::print(out, "ok {} - {} # SKIP {}\n", n, what, reason);
    return;
  }
  fmt::print(out, "{} {} - {}\n", o.verdict == Verdict::passed ? "ok" : "not ok", n, what);
  if (o.verdict == Verdict::passed) return;
  Json details = Json::array();
  for (const auto& d : o.diagnostics) details.push_back(d);
  for (const auto& st : o.steps)
    if (!st.passed)
      for (const auto& d : st.details) details.push_back(d);
  fmt::print(out, "  ---\n  message: {}\n  severity: fail\n", Json(o.reason).dump());
  if (!details.empty()) {
    fmt::print(out, "  details:\n");
    for (const auto& d : details) fmt::print(out, "    - {}\n", d.dump());
  }
  fmt::print(out, "  ...\n");
}

std::string junit_testsuite(const std::vector<ScenarioOutcome>& all, const std::string& name,
                            const std::string& prefix, const std::string& indent) {
  int failures = 0, skipped = 0, errors = 0;
  double total = 0;
  for (const auto& o : all) {
    failures += o.verdict == Verdict::failed;
    skipped += o.verdict == Verdict::skipped;
    errors += o.verdict == Verdict::invalid;
    total += o.ms;
  }
  // An invalid file is an <error> (the test could not run), which CI dashboards show as red.
  std::string x = fmt::format(
      "{}<testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" "
      "time=\"{:.3f}\">\n",
      indent, xml(name), all.size(), failures, errors, skipped, total / 1000);
  for (const auto& o : all) {
    // classname: the family, so that Jenkins and GitLab group the scenarios by it.
    x += fmt::format("{}  <testcase classname=\"{}.{}\" name=\"{}\" file=\"{}\" time=\"{:.3f}\">\n",
                     indent, xml(prefix), xml(family_of(o.file)), xml(o.name), xml(o.file),
                     o.ms / 1000);
    if (o.verdict == Verdict::failed)
      x += fmt::format("{}    <failure message=\"{}\"/>\n", indent, xml(o.reason));
    if (o.verdict == Verdict::skipped)
      x += fmt::format("{}    <skipped message=\"{}\"/>\n", indent, xml(o.reason));
    if (o.verdict == Verdict::invalid) {
      std::string all_errors;
      for (const auto& d : o.diagnostics) all_errors += d + "\n";
      x += fmt::format("{}    <error message=\"{}\" type=\"invalid\">{}</error>\n", indent,
                       xml(o.reason), xml(all_errors));
    }
    std::string out;
    for (const auto& st : o.steps) {
      out += step_line(st, name_width(o)) + "\n";
      for (const auto& d : st.details) out += "  " + d + "\n";
    }
    x += fmt::format("{0}    <system-out>{1}</system-out>\n{0}  </testcase>\n", indent, xml(out));
  }
  return x + indent + "</testsuite>\n";
}

std::string junit_xml(const std::vector<ScenarioOutcome>& all) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + junit_testsuite(all, "nslab", "nslab");
}

nlohmann::ordered_json outcomes_json(const std::vector<ScenarioOutcome>& all,
                                     const std::string& nslab_version) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& o : all) {
    nlohmann::ordered_json steps = nlohmann::ordered_json::array();
    for (const auto& s : o.steps) {
      nlohmann::ordered_json j = {{"name", s.name},
                                  {"kind", s.kind},
                                  {"node", s.node},
                                  {"command", s.command},
                                  {"ran", s.ran},
                                  {"passed", s.passed},
                                  {"reason", s.reason},
                                  {"details", s.details},
                                  {"records", s.records},
                                  {"stdout", s.stdout_text},
                                  {"stderr", s.stderr_text},
                                  {"ms", s.ms}};
      if (!s.expect_kernel.empty()) j["expect_kernel"] = s.expect_kernel;
      j["exit"] =
          s.exit_status ? nlohmann::ordered_json(*s.exit_status) : nlohmann::ordered_json(nullptr);
      if (s.signal) {
        const char* abbrev = sigabbrev_np(*s.signal);
        j["signal"] = abbrev ? fmt::format("SIG{}", abbrev) : std::to_string(*s.signal);
      }
      if (s.skipped) j["skipped"] = true;
      steps.push_back(j);
    }
    a.push_back({{"file", o.file},
                 {"family", family_of(o.file)},
                 {"name", o.name},
                 {"labels", o.labels},
                 {"volatile", o.volatile_},
                 {"verdict", verdict_name(o.verdict)},
                 {"reason", o.reason},
                 {"build_ms", o.build_ms},
                 {"ms", o.ms},
                 {"captures", o.captures},
                 {"steps", steps}});
    if (o.verdict == Verdict::invalid) a.back()["diagnostics"] = o.diagnostics;
  }
  std::size_t passed = 0, failed = 0, skipped = 0, invalid = 0;
  double ms = 0;
  for (const auto& o : all) {
    passed += o.verdict == Verdict::passed;
    failed += o.verdict == Verdict::failed;
    skipped += o.verdict == Verdict::skipped;
    invalid += o.verdict == Verdict::invalid;
    ms += o.ms;
  }
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return {{"schema_version", kReportSchemaVersion},
          {"nslab", nslab_version},
          {"host", host},
          {"versions", runtime_versions()},
          {"totals",
           {{"scenarios", all.size()},
            {"passed", passed},
            {"failed", failed},
            {"skipped", skipped},
            {"invalid", invalid},
            {"ms", ms}}},
          {"scenarios", a}};
}

}  // namespace nslab
