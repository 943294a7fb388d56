#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "commands.hpp"
#include "nslab/load.hpp"
#include "nslab/match.hpp"
#include "nslab/paths.hpp"
#include "nslab/report.hpp"
#include "nslab/runner.hpp"
#include "nslab/scenario.hpp"
#include "nslab/signals.hpp"
#include "nslab/suite.hpp"
#include "nslab/unique_fd.hpp"

namespace fs = std::filesystem;

namespace nslab::cli {

namespace {

// Scenario files under the given paths (folders searched recursively), in a stable order.
std::vector<std::string> scenario_files(const std::vector<std::string>& paths, bool& bad) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    bool folder = fs::is_directory(p, ec);
    for (const auto& f : yaml_files({p}, bad))
      if (!folder || is_scenario_file(f)) out.push_back(f);
  }
  return out;
}

// On a terminal a "[n/N]" counter and colour (none with NO_COLOR set, https://no-color.org);
// plain lines in logs and pipes.
LineStyle terminal_style(std::size_t index, std::size_t total, bool progress) {
  static const bool tty = isatty(STDOUT_FILENO) == 1;
  static const bool no_colour = std::getenv("NO_COLOR") && *std::getenv("NO_COLOR");
  if (!tty) return progress ? LineStyle{index, total, false} : LineStyle{};
  return {index, total, !no_colour};
}

// What the command line's checks could not see: a --filter RE2 does not compile; --keep with -j.
bool arguments_agree(const RunArgs& a) {
  if (auto e = regex_error(a.filter)) {
    fmt::print(stderr, "nslab: --filter: invalid regular expression: {}\n", *e);
    return false;
  }
  if (a.keep && a.jobs > 1) {
    fmt::print(stderr, "nslab: --keep holds one failed lab at a time: use it without -j\n");
    return false;
  }
  return true;
}

// The scenario files of the PATHs given (none: the bundled scenarios); nullopt, after saying
// why, when a path does not exist or there is nothing to run.
std::optional<std::vector<std::string>> suite_paths(std::vector<std::string> paths,
                                                    const DataPaths& data) {
  if (paths.empty()) {
    if (data.scenarios.empty()) {
      fmt::print(stderr,
                 "nslab: no PATH given and the bundled scenarios are not found (beside this "
                 "nslab, or in $NSLAB_SCENARIOS)\n");
      return std::nullopt;
    }
    paths.push_back(data.scenarios);
  }
  bool bad_path = false;
  auto files = scenario_files(paths, bad_path);
  if (bad_path) return std::nullopt;
  return files;
}

// Each file loaded, or its diagnostics (printed as they come, each at its position).
std::vector<SuiteFile> load_suite_files(const std::vector<std::string>& files) {
  std::vector<SuiteFile> loaded;
  for (const auto& f : files) {
    try {
      loaded.push_back({f, load_scenario_file(f), {}});
    } catch (const InputError& e) {
      SuiteFile bad{f, std::nullopt, {}};
      for (const auto& d : e.diagnostics()) {
        fmt::print(stderr, "{}\n", d.str());
        bad.diagnostics.push_back(d.str());
      }
      hint_if_other_kind(f, /*wanted_scenario=*/true);
      loaded.push_back(std::move(bad));
    }
  }
  return loaded;
}

// Bazel asks a sharded test to say that it shards by touching this file. Never through a
// symlink (nslab may run as root in a folder others can write).
bool touch_shard_status_file() {
  const char* status = std::getenv("TEST_SHARD_STATUS_FILE");
  if (!status || !*status) return true;
  UniqueFd fd(open(status, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) {
    fmt::print(stderr, "nslab: TEST_SHARD_STATUS_FILE {}: {}\n", status, std::strerror(errno));
    return false;
  }
  return true;
}

bool write_reports(ReportFile& junit, ReportFile& json,
                   const std::vector<ScenarioOutcome>& outcomes) {
  bool ok = true;
  if (junit.wanted()) ok = junit.write(junit_xml(outcomes)) && ok;
  // A program's output may be any bytes: invalid UTF-8 becomes U+FFFD, never an exception.
  if (json.wanted())
    ok = json.write(outcomes_json(outcomes, NSLAB_VERSION)
                        .dump(2, ' ', false, Json::error_handler_t::replace) +
                    "\n") &&
         ok;
  return ok;
}

// --list: what would run, and nothing runs. One line per scenario (path, name, labels,
// requires); with --json FILE the same as a JSON array there, for tools (nslab_add_scenarios).
int list_scenarios(const std::vector<Scenario>& selected, ReportFile& json, bool invalid) {
  Json all = Json::array();
  for (const auto& s : selected) {
    std::vector<std::string> requires_;
    for (const auto& r : s.requires_) requires_.push_back(r.text);
    auto joined = [](const std::vector<std::string>& v) {
      return v.empty() ? std::string("-") : fmt::format("{}", fmt::join(v, ","));
    };
    fmt::print("{}  {}  labels: {}  requires: {}\n", s.file, s.name, joined(s.labels),
               joined(requires_));
    all.push_back(
        {{"path", s.file}, {"name", s.name}, {"labels", s.labels}, {"requires", requires_}});
  }
  if (json.wanted() && !json.write(all.dump(2) + "\n")) return kSetup;
  if (invalid) return kFailed;
  return selected.empty() ? kSetup : kOk;
}

}  // namespace

int run_scenarios(const RunArgs& a) {
  bool own_userns = geteuid() != 0;
  if (!arguments_agree(a)) return kSetup;
  // Bazel's XML_OUTPUT_FILE is where a test writes its JUnit XML, when --junit does not say.
  const char* bazel_xml = std::getenv("XML_OUTPUT_FILE");
  ReportFile junit("--junit", a.junit.empty() && bazel_xml ? std::string(bazel_xml) : a.junit),
      json("--json", a.json);
  for (ReportFile* r : {&junit, &json})
    if (r->wanted() && !r->prepare()) return kSetup;
  const DataPaths data = data_paths();
  auto files = suite_paths(a.paths, data);
  if (!files) return kSetup;

  RunOptions opt{.probe_dirs = probe_search_path(a.probes, data),
                 .verbose = a.verbose,
                 .capture_dir = a.capture,
                 .capture_all = a.capture_all,
                 .time_scale = a.time_scale};
  // The signals are blocked before any thread starts. With -j, a signal stops every scenario
  // running at the time (latching), not only the one whose thread read it.
  std::optional<SignalWatch> watch;
  if (a.jobs > 1)
    watch.emplace(SignalWatch::Latching{});
  else
    watch.emplace();
  SignalWatch& signals = *watch;
  if (a.keep) {
    opt.on_failed_lab = [&](Lab& lab, const ScenarioOutcome& o) {
      print_scenario(stdout, o, true);
      fmt::print("--keep: holding the lab of {} for inspection.\n", o.file);
      print_shell_commands(lab, own_userns);
      signals.wait();
    };
  }
  // The scenarios to run: loaded (each error at its position), then --filter, --label and the
  // shard. An invalid file is reported as such (a failed testcase in every format) in its shard.
  std::string shard_error;
  auto shard = parse_shard(a.shard, shard_error);
  if (!shard) {
    fmt::print(stderr, "nslab: {}\n", shard_error);
    return kSetup;
  }
  Suite suite = select_suite(load_suite_files(*files), {.filter = a.filter,
                                                        .labels = a.labels,
                                                        .shard_index = shard->index,
                                                        .shard_total = shard->total});
  std::vector<Scenario>& selected = suite.selected;
  std::vector<ScenarioOutcome>& invalid_files = suite.invalid;
  const bool invalid = !invalid_files.empty();
  if (!touch_shard_status_file()) return kSetup;
  if (a.list) return list_scenarios(selected, json, invalid);

  if (!acquire_privileges_or_report()) return kSetup;
  nslab::Runner runner(opt, signals);
  std::vector<ScenarioOutcome> outcomes;
  auto t0 = std::chrono::steady_clock::now();
  const std::size_t total = invalid_files.size() + selected.size();
  if (a.tap) print_tap_plan(stdout, total);
  // Each outcome is reported as soon as it and every one before it are in: input order, after
  // the invalid files.
  auto report = [&](ScenarioOutcome o) {
    outcomes.push_back(std::move(o));
    if (a.tap)
      print_tap_result(stdout, outcomes.size(), outcomes.back());
    else
      print_scenario(stdout, outcomes.back(), a.verbose,
                     terminal_style(outcomes.size(), total, a.progress));
    std::fflush(stdout);
  };
  for (auto& o : invalid_files) report(std::move(o));
  run_suite(runner, selected, static_cast<std::size_t>(a.jobs), report);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!a.tap) print_summary(stdout, outcomes, ms);
  if (!write_reports(junit, json, outcomes)) return kSetup;

  if (!invalid && outcomes.empty()) fmt::print(stderr, "nslab: no scenario matched\n");
  return suite_exit_status(outcomes, invalid, runner.interrupted());
}

}  // namespace nslab::cli
