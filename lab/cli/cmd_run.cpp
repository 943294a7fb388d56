#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

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

// -j N: N threads take the scenarios in input order, each into a lab of its own, and `report`
// gets the outcomes in input order on this thread. Scenarios labelled sigio never run at the same
// time: they measure the uid's queue of pending signals, which they would share (nslab's ctest
// tests hold a resource lock for the same reason). After an interruption no scenario starts.
void run_parallel(Runner& runner, const std::vector<Scenario>& selected, std::size_t jobs,
                  const std::function<void(ScenarioOutcome)>& report) {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::optional<ScenarioOutcome>> done(selected.size());
  std::size_t next = 0, workers_left = std::min(jobs, selected.size());
  std::mutex signal_queue;  // held by a sigio scenario while it runs
  auto work = [&] {
    for (;;) {
      std::size_t k;
      {
        std::lock_guard lock(mutex);
        if (next == selected.size() || runner.interrupted()) break;
        k = next++;
      }
      const auto& labels = selected[k].labels;
      std::unique_lock<std::mutex> serial(signal_queue, std::defer_lock);
      if (std::find(labels.begin(), labels.end(), "sigio") != labels.end()) serial.lock();
      ScenarioOutcome o = runner.run(selected[k]);
      serial = {};
      std::lock_guard lock(mutex);
      done[k] = std::move(o);
      changed.notify_all();
    }
    std::lock_guard lock(mutex);
    --workers_left;
    changed.notify_all();
  };
  std::vector<std::jthread> threads;
  for (std::size_t i = 0; i < std::min(jobs, selected.size()); ++i) threads.emplace_back(work);
  for (std::size_t k = 0; k < selected.size(); ++k) {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return done[k].has_value() || (workers_left == 0); });
    if (!done[k]) continue;  // never started: interrupted before its turn
    ScenarioOutcome o = std::move(*done[k]);
    lock.unlock();
    report(std::move(o));
  }
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
  if (auto e = regex_error(a.filter)) {
    fmt::print(stderr, "nslab: --filter: invalid regular expression: {}\n", *e);
    return kSetup;
  }
  // Bazel's XML_OUTPUT_FILE is where a test writes its JUnit XML, when --junit does not say.
  const char* bazel_xml = std::getenv("XML_OUTPUT_FILE");
  ReportFile junit("--junit", a.junit.empty() && bazel_xml ? std::string(bazel_xml) : a.junit),
      json("--json", a.json);
  for (ReportFile* r : {&junit, &json})
    if (r->wanted() && !r->prepare()) return kSetup;
  const DataPaths data = data_paths();
  std::vector<std::string> paths = a.paths;
  if (paths.empty()) {
    if (data.scenarios.empty()) {
      fmt::print(stderr,
                 "nslab: no PATH given and the bundled scenarios are not found (beside this "
                 "nslab, or in $NSLAB_SCENARIOS)\n");
      return kSetup;
    }
    paths.push_back(data.scenarios);
  }
  bool bad_path = false;
  auto files = scenario_files(paths, bad_path);
  if (bad_path) return kSetup;

  RunOptions opt;
  opt.probe_dirs = probe_search_path(a.probes, data);
  opt.verbose = a.verbose;
  opt.capture_dir = a.capture;
  opt.capture_all = a.capture_all;
  opt.time_scale = a.time_scale;
  if (a.keep && a.jobs > 1) {
    fmt::print(stderr, "nslab: --keep holds one failed lab at a time: use it without -j\n");
    return kSetup;
  }
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
  // The scenarios to run: loaded (each error at its position), then --filter and --label. An
  // invalid file is reported as such (a failed testcase in every format) in its shard.
  struct Entry {
    std::optional<Scenario> scenario;
    ScenarioOutcome invalid;  // when there is no scenario
  };
  std::vector<Entry> entries;
  for (const auto& f : files) {
    Scenario s;
    try {
      s = load_scenario_file(f);
    } catch (const InputError& e) {
      ScenarioOutcome o;
      o.file = f;
      o.name = fs::path(f).stem().string();
      o.verdict = Verdict::invalid;
      for (const auto& d : e.diagnostics()) {
        fmt::print(stderr, "{}\n", d.str());
        o.diagnostics.push_back(d.str());
      }
      o.reason = o.diagnostics.empty() ? std::string("invalid") : o.diagnostics.front();
      hint_if_other_kind(f, /*wanted_scenario=*/true);
      entries.push_back({std::nullopt, std::move(o)});
      continue;
    }
    if (!a.filter.empty() && !regex_search(a.filter, f) && !regex_search(a.filter, s.name))
      continue;
    if (!a.labels.empty() &&
        std::none_of(a.labels.begin(), a.labels.end(), [&](const std::string& l) {
          return std::find(s.labels.begin(), s.labels.end(), l) != s.labels.end();
        }))
      continue;
    entries.push_back({std::move(s), {}});
  }
  std::string shard_error;
  auto shard = parse_shard(a.shard, shard_error);
  if (!shard) {
    fmt::print(stderr, "nslab: {}\n", shard_error);
    return kSetup;
  }
  std::vector<Scenario> selected;
  std::vector<ScenarioOutcome> invalid_files;
  for (std::size_t k = 0; k < entries.size(); ++k) {
    if (static_cast<long>(k % static_cast<std::size_t>(shard->total)) != shard->index) continue;
    if (entries[k].scenario)
      selected.push_back(std::move(*entries[k].scenario));
    else
      invalid_files.push_back(std::move(entries[k].invalid));
  }
  const bool invalid = !invalid_files.empty();
  // Bazel asks a sharded test to say that it shards by touching this file.
  // Never through a symlink (nslab may run as root in a folder others can write).
  if (const char* status = std::getenv("TEST_SHARD_STATUS_FILE"); status && *status) {
    int fd = open(status, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      fmt::print(stderr, "nslab: TEST_SHARD_STATUS_FILE {}: {}\n", status, std::strerror(errno));
      return kSetup;
    }
    close(fd);
  }
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
  if (a.jobs > 1) {
    run_parallel(runner, selected, static_cast<std::size_t>(a.jobs), report);
  } else {
    for (const auto& s : selected) {
      report(runner.run(s));
      if (runner.interrupted()) break;
    }
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!a.tap) print_summary(stdout, outcomes, ms);
  bool reports_ok = true;
  if (junit.wanted()) reports_ok = junit.write(junit_xml(outcomes)) && reports_ok;
  if (json.wanted())
    reports_ok =
        json.write(
            // a program's output may be any bytes: invalid UTF-8 becomes U+FFFD, never an exception
            outcomes_json(outcomes, NSLAB_VERSION)
                .dump(2, ' ', false, Json::error_handler_t::replace) +
            "\n") &&
        reports_ok;
  if (!reports_ok) return kSetup;

  if (invalid) return kFailed;
  if (outcomes.empty()) {
    fmt::print(stderr, "nslab: no scenario matched\n");
    return kSetup;
  }
  bool any_failed = std::any_of(outcomes.begin(), outcomes.end(), [](const auto& o) {
    return o.verdict == Verdict::failed && !o.setup_failed;
  });
  bool any_setup_failed =
      std::any_of(outcomes.begin(), outcomes.end(), [](const auto& o) { return o.setup_failed; });
  bool all_skipped = std::all_of(outcomes.begin(), outcomes.end(),
                                 [](const auto& o) { return o.verdict == Verdict::skipped; });
  if (any_failed || runner.interrupted()) return kFailed;
  if (any_setup_failed) return kSetup;  // SPEC: the lab could not be set up
  return all_skipped ? kSkipped : kOk;
}

}  // namespace nslab::cli
