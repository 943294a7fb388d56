#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>

#include <unistd.h>

#include "commands.hpp"
#include "nslab/load.hpp"
#include "nslab/report.hpp"
#include "nslab/runner.hpp"
#include "nslab/scenario.hpp"
#include "nslab/signals.hpp"

namespace fs = std::filesystem;

namespace nslab::cli {

namespace {

struct RunArgs {
  std::vector<std::string> paths;
  std::string junit, json, filter, probes, capture;
  std::vector<std::string> labels;
  bool verbose = false, capture_all = false, keep = false;
};

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// A path as a person would type it from here: relative when below the current folder.
std::string shortest(const fs::path& p) {
  fs::path rel = p.lexically_proximate(fs::current_path());
  return rel.empty() || rel.string().starts_with("..") ? p.string() : rel.string();
}

// Scenario files under the given paths (folders searched recursively), in a stable order.
std::vector<std::string> scenario_files(const std::vector<std::string>& paths, bool& bad) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      std::vector<std::string> found;
      for (const auto& e : fs::recursive_directory_iterator(p))
        if (e.is_regular_file() && e.path().extension() == ".yaml" && is_scenario_file(e.path()))
          found.push_back(shortest(e.path()));
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p)) {
      out.push_back(p);
    } else {
      fmt::print(stderr, "nslab: {}: no such file or folder\n", p);
      bad = true;
    }
  }
  return out;
}

int run_scenarios(const RunArgs& a) {
  bool own_userns = geteuid() != 0;
  if (!acquire_privileges_or_report()) return kSetup;
  std::regex filter;
  try {
    filter = std::regex(a.filter.empty() ? "." : a.filter);
  } catch (const std::regex_error& e) {
    fmt::print(stderr, "nslab: --filter: invalid regular expression: {}\n", e.what());
    return kSetup;
  }
  std::vector<std::string> paths = a.paths;
  if (paths.empty()) paths.push_back(env_or("NSLAB_SCENARIOS", NSLAB_SCENARIOS_DIR));
  bool bad_path = false;
  auto files = scenario_files(paths, bad_path);
  if (bad_path) return kSetup;

  RunOptions opt;
  opt.probes_dir = a.probes.empty() ? env_or("NSLAB_PROBES", NSLAB_PROBES_DIR) : a.probes;
  opt.verbose = a.verbose;
  opt.capture_dir = a.capture;
  opt.capture_all = a.capture_all;
  sweep_stale_lab_dirs();
  SignalWatch signals;
  if (a.keep) {
    opt.on_failed_lab = [&](Lab& lab, const ScenarioOutcome& o) {
      print_scenario(stdout, o, true);
      fmt::print("--keep: holding the lab of {} for inspection.\n", o.file);
      print_shell_commands(lab, own_userns);
      signals.wait();
    };
  }
  nslab::Runner runner(opt, signals);
  std::vector<ScenarioOutcome> outcomes;
  bool invalid = false;
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& f : files) {
    Scenario s;
    try {
      s = load_scenario_file(f);
    } catch (const InputError& e) {
      for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", d.str());
      invalid = true;
      continue;
    }
    if (!std::regex_search(f, filter) && !std::regex_search(s.name, filter)) continue;
    if (!a.labels.empty() &&
        std::none_of(a.labels.begin(), a.labels.end(), [&](const std::string& l) {
          return std::find(s.labels.begin(), s.labels.end(), l) != s.labels.end();
        }))
      continue;
    outcomes.push_back(runner.run(s));
    print_scenario(stdout, outcomes.back(), a.verbose);
    std::fflush(stdout);
    if (runner.interrupted()) break;
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  print_summary(stdout, outcomes, ms);
  if (!a.junit.empty()) std::ofstream(a.junit) << junit_xml(outcomes);
  if (!a.json.empty()) std::ofstream(a.json) << outcomes_json(outcomes).dump(2) << "\n";

  if (invalid) return kFailed;
  if (outcomes.empty()) {
    fmt::print(stderr, "nslab: no scenario matched\n");
    return kSetup;
  }
  bool any_failed = std::any_of(outcomes.begin(), outcomes.end(),
                                [](const auto& o) { return o.verdict == Verdict::failed; });
  bool all_skipped = std::all_of(outcomes.begin(), outcomes.end(),
                                 [](const auto& o) { return o.verdict == Verdict::skipped; });
  if (any_failed || runner.interrupted()) return kFailed;
  return all_skipped ? kSkipped : kOk;
}

}  // namespace

Command add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  auto* sub = app.add_subcommand(
      "run",
      "Run scenarios: each in a fresh lab, steps in order, expectations checked. PATH is a "
      "scenario file or a folder (searched recursively); none: the bundled scenarios.");
  sub->add_option("PATH", a->paths, "scenario files or folders");
  sub->add_option("--junit", a->junit, "write JUnit XML here (one testcase per scenario)");
  sub->add_option("--json", a->json, "write every scenario, step, record and verdict as JSON");
  sub->add_option("--filter", a->filter, "run scenarios whose path or name matches this regex");
  sub->add_option("--label", a->labels, "run scenarios carrying this label (repeatable)");
  sub->add_option("--probes", a->probes,
                  "where probes are (default: $NSLAB_PROBES or the build's)");
  sub->add_option("--capture", a->capture, "write a pcap per interface here; kept for failures");
  sub->add_flag("--capture-all", a->capture_all, "keep the pcaps of passing scenarios too");
  sub->add_flag("--keep", a->keep, "hold a failed scenario's lab until SIGINT/SIGTERM");
  sub->add_flag("-v,--verbose", a->verbose, "one line per step");
  sub->footer(
      "Exit status: 0 all passed, 1 a scenario failed or a file is invalid, 2 setup, "
      "77 everything was skipped.");
  return [a] { return run_scenarios(*a); };
}

}  // namespace nslab::cli
