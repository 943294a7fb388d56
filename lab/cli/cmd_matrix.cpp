// nslab matrix --kernel V [--kernel V ...] [run options] [PATH...]: the same scenarios on
// several kernels, a scenario x kernel table of verdicts, then the diff of their observations
// (SPEC 8).

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "commands.hpp"
#include "nslab/error.hpp"
#include "nslab/load.hpp"
#include "nslab/matrix.hpp"
#include "nslab/paths.hpp"

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

}  // namespace

int run_matrix(const MatrixArgs& a) {
  using namespace nslab::matrix;
  // The report files are checked before anything is fetched or booted.
  ReportFile json("--json", a.json), junit("--junit", a.junit);
  for (ReportFile* r : {&json, &junit})
    if (r->wanted() && !r->prepare()) return kSetup;
  std::vector<std::string> paths = a.paths;
  if (paths.empty()) paths.push_back(data_paths().scenarios);
  MatrixOptions m{.kernels = a.kernels,
                  .baseline = a.baseline,
                  .jobs = a.jobs,
                  .time_scale = a.time_scale,
                  .boot_bound = std::chrono::seconds(a.boot_bound),
                  .longest_timeout = longest_timeout(paths)};
  if (a.verbose) m.run_args.push_back("-v");
  if (!a.filter.empty()) m.run_args.insert(m.run_args.end(), {"--filter", a.filter});
  for (const auto& l : a.labels) m.run_args.insert(m.run_args.end(), {"--label", l});
  for (const auto& p : a.probes) m.run_args.insert(m.run_args.end(), {"--probes", p});
  m.run_args.insert(m.run_args.end(), a.paths.begin(), a.paths.end());
  MatrixOutcome r;
  try {
    r = nslab::matrix::run_matrix(m, stdout);
  } catch (const Error& e) {
    fmt::print(stderr, "nslab: matrix: {}\n", e.what());
    return kSetup;
  }
  print_verdict_table(r.runs, stdout);
  print_diffs(r.runs, r.baseline, a.ignore, stdout);
  bool ok = true;
  if (json.wanted())
    ok = json.write(Json{{"schema_version", 1}, {"nslab", NSLAB_VERSION}, {"matrix", r.runs}}.dump(
                        2, ' ', false, Json::error_handler_t::replace) +
                    "\n") &&
         ok;
  if (junit.wanted()) ok = junit.write(matrix_junit(r.runs)) && ok;
  if (!ok || r.any_setup) return kSetup;
  return r.any_failed ? kFailed : kOk;
}
}  // namespace nslab::cli
