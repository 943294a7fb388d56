// nslab matrix --kernel V [--kernel V ...] [run options] [PATH...]: the same scenarios on
// several kernels, a scenario x kernel table of verdicts, then the diff of their observations
// (SPEC 8).

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>

#include "commands.hpp"
#include "nslab/diff.hpp"
#include "nslab/error.hpp"
#include "nslab/load.hpp"
#include "nslab/matrix.hpp"
#include "nslab/paths.hpp"
#include "nslab/report.hpp"

namespace nslab::cli {

namespace {

using Json = nlohmann::ordered_json;

// The longest timeout of the selected scenarios: the guest may be silent that long.
std::chrono::seconds longest_timeout(const std::vector<std::string>& paths) {
  std::chrono::milliseconds longest{60000};
  bool bad = false;
  for (const auto& f : yaml_files(paths, bad)) {
    if (!is_scenario_file(f)) continue;
    Diagnostics d;
    Scenario s = parse_scenario_file(f, d);
    longest = std::max(longest, s.timeout);
  }
  return std::chrono::duration_cast<std::chrono::seconds>(longest);
}

std::string verdict_cell(const Json& scenario) {
  std::string v = scenario.value("verdict", "");
  return v == "passed"    ? "PASS"
         : v == "failed"  ? "FAIL"
         : v == "skipped" ? "SKIP"
         : v == "invalid" ? "INVALID"
                          : "?";
}

std::string xml(const std::string& s) {
  return xml_escape(s);
}

// One testsuite per kernel; a kernel that did not run is one failed testcase.
std::string matrix_junit(const Json& runs) {
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nslab matrix\">\n";
  for (const auto& run : runs) {
    std::string label = run.value("label", "");
    const Json& report = run["report"];
    if (report.is_null()) {
      x += fmt::format(
          "  <testsuite name=\"nslab@{0}\" tests=\"1\" failures=\"1\">\n    <testcase "
          "classname=\"nslab.{0}\" name=\"boot\"><failure message=\"{1}\"/></testcase>\n  "
          "</testsuite>\n",
          xml(label), xml(run.value("failure", "")));
      continue;
    }
    const Json& t = report["totals"];
    x += fmt::format(
        "  <testsuite name=\"nslab@{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
        "skipped=\"{}\">\n",
        xml(label), t.value("scenarios", 0), t.value("failed", 0), t.value("invalid", 0),
        t.value("skipped", 0));
    for (const auto& s : report["scenarios"]) {
      x += fmt::format(
          "    <testcase classname=\"nslab.{}.{}\" name=\"{}\" file=\"{}\" time=\"{:.3f}\">",
          xml(label), xml(s.value("family", "")), xml(s.value("name", "")),
          xml(s.value("file", "")), s.value("ms", 0.0) / 1000);
      std::string v = s.value("verdict", "");
      if (v == "failed") x += fmt::format("<failure message=\"{}\"/>", xml(s.value("reason", "")));
      if (v == "skipped") x += fmt::format("<skipped message=\"{}\"/>", xml(s.value("reason", "")));
      if (v == "invalid") x += fmt::format("<error message=\"{}\"/>", xml(s.value("reason", "")));
      x += "</testcase>\n";
    }
    x += "  </testsuite>\n";
  }
  return x + "</testsuites>\n";
}

}  // namespace

int run_matrix(const MatrixArgs& a) {
  using namespace nslab::matrix;
  // The report files are checked before anything is fetched or booted.
  ReportFile json("--json", a.json), junit("--junit", a.junit);
  for (ReportFile* r : {&json, &junit})
    if (r->wanted() && !r->prepare()) return kSetup;
  const std::string baseline = a.baseline.empty() ? a.kernels.front() : a.baseline;
  if (std::find(a.kernels.begin(), a.kernels.end(), baseline) == a.kernels.end()) {
    std::string named;
    for (const auto& k : a.kernels) named += (named.empty() ? "" : ", ") + k;
    fmt::print(stderr, "nslab: matrix: --baseline '{}' is none of the kernels named ({})\n",
               baseline, named);
    return kSetup;
  }
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  std::error_code ec;
  const std::string cwd = std::filesystem::current_path(ec).string();
  // The kernels, fetched and unpacked before anything boots.
  std::vector<Kernel> kernels;
  for (const auto& spec : a.kernels) {
    if (std::count(a.kernels.begin(), a.kernels.end(), spec) > 1) {
      fmt::print(stderr, "nslab: matrix: kernel '{}' is named twice\n", spec);
      return kSetup;
    }
    try {
      kernels.push_back(prepare_kernel(spec, stdout));
      const Kernel& k = kernels.back();
      if (!k.host)
        fmt::print("kernel {}: {} ({}), cached in {}\n", spec, k.release,
                   k.package.empty() ? "unpacked by you" : k.package, k.tree);
    } catch (const Error& e) {
      fmt::print(stderr, "nslab: matrix: kernel '{}': {}\n", spec, e.what());
      return kSetup;
    }
  }
  std::fflush(stdout);
  Accel accel{false, "no guest"};
  auto guest =
      std::find_if(kernels.begin(), kernels.end(), [](const Kernel& k) { return !k.host; });
  std::string work;
  try {
    if (guest != kernels.end()) accel = detect_accel(*guest, stdout);
    work = private_work_dir();
  } catch (const Error& e) {
    fmt::print(stderr, "nslab: matrix: {}\n", e.what());
    return kSetup;
  }
  std::vector<std::string> paths = a.paths;
  if (paths.empty()) paths.push_back(data_paths().scenarios);
  const double guest_scale = a.time_scale > 0 ? a.time_scale : accel.kvm ? 1.0 : kTcgTimeScale;
  const std::chrono::seconds longest = longest_timeout(paths);

  Json runs = Json::array();
  bool any_failed = false, any_setup = false;
  for (const auto& k : kernels) {
    const double scale = k.host ? (a.time_scale > 0 ? a.time_scale : 1.0) : guest_scale;
    GuestOptions o;
    o.cwd = cwd;
    o.nslab = self;
    o.work_dir = work;
    o.kvm = accel.kvm;
    o.boot_bound = std::chrono::seconds(a.boot_bound);
    // A scenario may run its whole timeout without a line; then a margin for the last lines.
    o.quiet_bound =
        std::chrono::seconds(static_cast<long>(static_cast<double>(longest.count()) * scale)) +
        std::chrono::seconds(60);
    o.run_args = {"--progress", "--time-scale", fmt::format("{}", scale), "-j",
                  std::to_string(a.jobs)};
    if (a.verbose) o.run_args.push_back("-v");
    if (!a.filter.empty()) o.run_args.insert(o.run_args.end(), {"--filter", a.filter});
    for (const auto& l : a.labels) o.run_args.insert(o.run_args.end(), {"--label", l});
    for (const auto& p : a.probes) o.run_args.insert(o.run_args.end(), {"--probes", p});
    o.run_args.insert(o.run_args.end(), a.paths.begin(), a.paths.end());
    o.on_line = [&](const std::string& l) {
      fmt::print("  {:>6} | {}\n", k.label, l), std::fflush(stdout);
    };
    if (k.host)
      fmt::print("== {}: running on this kernel\n", k.label);
    else
      fmt::print("== {}: booting {} under {} (1 vCPU, 1 GiB; timeouts x{})\n", k.label, k.release,
                 accel.kvm ? "KVM" : "software emulation (TCG)", scale);
    std::fflush(stdout);
    GuestRun g;
    try {
      g = k.host ? run_on_host(o) : run_in_guest(k, o);
    } catch (const Error& e) {
      g.failure = e.what();
    }
    Json run = {{"label", k.label},
                {"kernel", kernel_facts(k)},
                {"accel", k.host      ? "none"
                          : accel.kvm ? "kvm"
                                      : "tcg"},
                {"time_scale", scale},
                {"boot_ms", g.boot_ms},
                {"run_ms", g.run_ms},
                {"exit", g.exit_status},
                {"failure", g.failure.empty() ? Json() : Json(g.failure)},
                {"report", g.report}};
    if (!g.failure.empty()) {
      any_setup = true;
      fmt::print("== {}: {}\n", k.label, g.failure);
      fmt::print("   the console's last lines:\n");
      for (const auto& l : g.console_tail) fmt::print("   | {}\n", l);
      run["console_tail"] = g.console_tail;
    } else {
      const Json& t = g.report["totals"];
      any_failed = any_failed || t.value("failed", 0) > 0;
      fmt::print("== {}: {}{:.1f} s of scenarios: {} passed, {} failed, {} skipped\n", k.label,
                 k.host ? "" : fmt::format("booted in {:.1f} s, ", g.boot_ms / 1000),
                 g.run_ms / 1000, t.value("passed", 0), t.value("failed", 0),
                 t.value("skipped", 0));
    }
    std::fflush(stdout);
    runs.push_back(std::move(run));
  }

  // The table: one row per scenario, one column per kernel; '*' marks rows that differ.
  std::vector<std::string> files;
  std::map<std::string, std::map<std::string, std::string>> cells;
  for (const auto& run : runs) {
    if (run["report"].is_null()) continue;
    for (const auto& s : run["report"]["scenarios"]) {
      std::string f = s.value("file", "");
      if (!cells.count(f)) files.push_back(f);
      cells[f][run.value("label", "")] = verdict_cell(s);
    }
  }
  std::size_t width = 8;
  for (const auto& f : files) width = std::max(width, f.size());
  fmt::print("\n  {:<{}}", "scenario", width);
  for (const auto& run : runs) fmt::print("  {:>6}", run.value("label", ""));
  fmt::print("\n");
  std::size_t differing = 0;
  for (const auto& f : files) {
    std::set<std::string> seen;
    std::string row;
    for (const auto& run : runs) {
      std::string c = run["report"].is_null()                  ? "-"
                      : cells[f].count(run.value("label", "")) ? cells[f][run.value("label", "")]
                                                               : "-";
      seen.insert(c);
      row += fmt::format("  {:>6}", c);
    }
    differing += seen.size() > 1;
    fmt::print("{} {:<{}}{}\n", seen.size() > 1 ? '*' : ' ', f, width, row);
  }
  fmt::print("{} scenarios, {} with verdicts that differ between kernels\n", files.size(),
             differing);

  // The observations, each kernel against the baseline (the first, unless --baseline).
  auto base = std::find_if(runs.begin(), runs.end(),
                           [&](const Json& r) { return r.value("label", "") == baseline; });
  if (runs.size() > 1 && base != runs.end() && !(*base)["report"].is_null()) {
    DiffOptions d;
    d.ignore = a.ignore;
    for (const auto& run : runs) {
      if (&run == &*base || run["report"].is_null()) continue;
      fmt::print("\n== diff {} -> {}\n", baseline, run.value("label", ""));
      ReportDiff r = diff_reports((*base)["report"], run["report"], d);
      for (const auto& l : r.lines) fmt::print("{}\n", l);
      if (!r.changed())
        fmt::print("no changes\n");
      else
        fmt::print("{} verdicts changed, {} steps differ\n", r.verdicts_changed, r.steps_changed);
    }
  }
  bool ok = true;
  if (json.wanted())
    ok = json.write(Json{{"schema_version", 1}, {"nslab", NSLAB_VERSION}, {"matrix", runs}}.dump(
                        2, ' ', false, Json::error_handler_t::replace) +
                    "\n") &&
         ok;
  if (junit.wanted()) ok = junit.write(matrix_junit(runs)) && ok;
  if (!ok || any_setup) return kSetup;
  return any_failed ? kFailed : kOk;
}

}  // namespace nslab::cli
