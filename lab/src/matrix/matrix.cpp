// The matrix itself (nslab/matrix.hpp, MatrixOptions on): every kernel prepared, then each booted
// with the suite run inside, the verdict table, the diffs against the baseline, and JUnit.

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "nslab/diff.hpp"
#include "nslab/error.hpp"
#include "nslab/matrix.hpp"
#include "nslab/report.hpp"

namespace nslab::matrix {

namespace {

using Json = nlohmann::ordered_json;

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The kernels, fetched and unpacked before anything boots.
std::vector<Kernel> prepare_kernels(const std::vector<std::string>& specs, std::FILE* out) {
  std::vector<Kernel> kernels;
  for (const auto& spec : specs) {
    if (std::count(specs.begin(), specs.end(), spec) > 1)
      throw Error(fmt::format("kernel '{}' is named twice", spec));
    try {
      kernels.push_back(prepare_kernel(spec, out));
    } catch (const Error& e) {
      throw Error(fmt::format("kernel '{}': {}", spec, e.what()));
    }
    const Kernel& k = kernels.back();
    if (!k.host)
      fmt::print(out, "kernel {}: {} ({}), cached in {}\n", spec, k.release,
                 k.package.empty() ? "unpacked by you" : k.package, k.tree);
  }
  std::fflush(out);
  return kernels;
}

struct Shared {
  std::string self, cwd, work;
  Accel accel{false, "no guest"};
  double guest_scale = 1;
};

// One kernel: booted (or the host), the suite run, its line of results; the run's JSON.
Json run_one(const Kernel& k, const MatrixOptions& m, const Shared& sh, std::FILE* out) {
  const double scale = k.host ? (m.time_scale > 0 ? m.time_scale : 1.0) : sh.guest_scale;
  GuestOptions o;
  o.cwd = sh.cwd;
  o.nslab = sh.self;
  o.work_dir = sh.work;
  o.kvm = sh.accel.kvm;
  o.boot_bound = m.boot_bound;
  // A scenario may run its whole timeout without a line; then a margin for the last lines.
  o.quiet_bound = std::chrono::seconds(
                      static_cast<long>(static_cast<double>(m.longest_timeout.count()) * scale)) +
                  std::chrono::seconds(60);
  o.run_args = {"--progress", "--time-scale", fmt::format("{}", scale), "-j",
                std::to_string(m.jobs)};
  o.run_args.insert(o.run_args.end(), m.run_args.begin(), m.run_args.end());
  o.on_line = [&](const std::string& l) {
    fmt::print(out, "  {:>6} | {}\n", k.label, l), std::fflush(out);
  };
  if (k.host)
    fmt::print(out, "== {}: running on this kernel\n", k.label);
  else
    fmt::print(out, "== {}: booting {} under {} (1 vCPU, 1 GiB; timeouts x{})\n", k.label,
               k.release, sh.accel.kvm ? "KVM" : "software emulation (TCG)", scale);
  std::fflush(out);
  GuestRun g;
  try {
    g = k.host ? run_on_host(o) : run_in_guest(k, o);
  } catch (const Error& e) {
    g.failure = e.what();
  }
  Json run = {{"label", k.label},
              {"kernel", kernel_facts(k)},
              {"accel", k.host         ? "none"
                        : sh.accel.kvm ? "kvm"
                                       : "tcg"},
              {"time_scale", scale},
              {"boot_ms", g.boot_ms},
              {"run_ms", g.run_ms},
              {"exit", g.exit_status},
              {"failure", g.failure.empty() ? Json() : Json(g.failure)},
              {"report", g.report}};
  if (!g.failure.empty()) {
    fmt::print(out, "== {}: {}\n", k.label, g.failure);
    fmt::print(out, "   the console's last lines:\n");
    for (const auto& l : g.console_tail) fmt::print(out, "   | {}\n", l);
    run["console_tail"] = g.console_tail;
  } else {
    const Json& t = g.report["totals"];
    fmt::print(out, "== {}: {}{:.1f} s of scenarios: {} passed, {} failed, {} skipped\n", k.label,
               k.host ? "" : fmt::format("booted in {:.1f} s, ", g.boot_ms / 1000), g.run_ms / 1000,
               t.value("passed", 0), t.value("failed", 0), t.value("skipped", 0));
  }
  std::fflush(out);
  return run;
}

}  // namespace

// One testsuite per kernel, by the run's own JUnit writer; a kernel that did not run, or whose
// report cannot be read, is one failed testcase.
std::string matrix_junit(const Json& runs) {
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nslab matrix\">\n";
  auto failed = [&](const std::string& label, const char* what, const std::string& why) {
    x += fmt::format(
        "  <testsuite name=\"nslab@{0}\" tests=\"1\" failures=\"1\">\n    <testcase "
        "classname=\"nslab.{0}\" name=\"{1}\"><failure message=\"{2}\"/></testcase>\n  "
        "</testsuite>\n",
        xml_escape(label), what, xml_escape(why));
  };
  for (const auto& run : runs) {
    std::string label = run.value("label", "");
    if (run["report"].is_null()) {
      failed(label, "boot", run.value("failure", ""));
      continue;
    }
    try {
      x += junit_testsuite(outcomes_from_json(run["report"]), "nslab@" + label, "nslab." + label,
                           "  ");
    } catch (const Error& e) {
      failed(label, "report", e.what());
    }
  }
  return x + "</testsuites>\n";
}

MatrixOutcome run_matrix(const MatrixOptions& m, std::FILE* out) {
  MatrixOutcome r{.runs = Json::array(),
                  .baseline = m.baseline.empty() ? m.kernels.front() : m.baseline};
  if (std::find(m.kernels.begin(), m.kernels.end(), r.baseline) == m.kernels.end())
    throw Error(fmt::format("--baseline '{}' is none of the kernels named ({})", r.baseline,
                            joined(m.kernels)));
  Shared sh;
  sh.self = std::filesystem::canonical("/proc/self/exe").string();
  std::error_code ec;
  sh.cwd = std::filesystem::current_path(ec).string();
  std::vector<Kernel> kernels = prepare_kernels(m.kernels, out);
  auto guest =
      std::find_if(kernels.begin(), kernels.end(), [](const Kernel& k) { return !k.host; });
  if (guest != kernels.end()) sh.accel = detect_accel(*guest, out);
  sh.work = private_work_dir();
  sh.guest_scale = m.time_scale > 0 ? m.time_scale : sh.accel.kvm ? 1.0 : kTcgTimeScale;
  for (const auto& k : kernels) {
    Json run = run_one(k, m, sh, out);
    if (!run["failure"].is_null())
      r.any_setup = true;
    else
      r.any_failed = r.any_failed || run["report"]["totals"].value("failed", 0) > 0;
    r.runs.push_back(std::move(run));
  }
  return r;
}

void print_verdict_table(const Json& runs, std::FILE* out) {
  std::vector<std::string> files;
  std::map<std::string, std::map<std::string, std::string>> cells;
  for (const auto& run : runs) {
    if (run["report"].is_null()) continue;
    // A guest's report was shape-checked when it was read (guest.cpp): the reader takes it.
    for (const auto& s : outcomes_from_json(run["report"])) {
      if (!cells.count(s.file)) files.push_back(s.file);
      cells[s.file][run.value("label", "")] = verdict_tag(s.verdict);
    }
  }
  std::size_t width = 8;
  for (const auto& f : files) width = std::max(width, f.size());
  fmt::print(out, "\n  {:<{}}", "scenario", width);
  for (const auto& run : runs) fmt::print(out, "  {:>6}", run.value("label", ""));
  fmt::print(out, "\n");
  std::size_t differing = 0;
  for (const auto& f : files) {
    std::set<std::string> seen;
    std::string row;
    for (const auto& run : runs) {
      auto cell = cells[f].find(run.value("label", ""));
      std::string c = run["report"].is_null() || cell == cells[f].end() ? "-" : cell->second;
      seen.insert(c);
      row += fmt::format("  {:>6}", c);
    }
    differing += seen.size() > 1;
    fmt::print(out, "{} {:<{}}{}\n", seen.size() > 1 ? '*' : ' ', f, width, row);
  }
  fmt::print(out, "{} scenarios, {} with verdicts that differ between kernels\n", files.size(),
             differing);
}

void print_diffs(const Json& runs, const std::string& baseline,
                 const std::vector<std::string>& ignore, std::FILE* out) {
  auto base = std::find_if(runs.begin(), runs.end(),
                           [&](const Json& r) { return r.value("label", "") == baseline; });
  if (runs.size() < 2 || base == runs.end() || (*base)["report"].is_null()) return;
  DiffOptions d;
  d.ignore = ignore;
  for (const auto& run : runs) {
    if (&run == &*base || run["report"].is_null()) continue;
    fmt::print(out, "\n== diff {} -> {}\n", baseline, run.value("label", ""));
    ReportDiff r =
        diff_reports(outcomes_from_json((*base)["report"]), outcomes_from_json(run["report"]), d);
    for (const auto& l : r.lines) fmt::print(out, "{}\n", l);
    if (!r.changed())
      fmt::print(out, "no changes\n");
    else
      fmt::print(out, "{} verdicts changed, {} steps differ\n", r.verdicts_changed,
                 r.steps_changed);
  }
}

}  // namespace nslab::matrix
