// nslab diff on big steps (issue 22: it was quadratic in the records of one event): 200,000
// records against themselves, against themselves reversed, and with 8,000 of them changed, side
// by side with the floor, the work no diff can skip (writing every record of both sides once). Min,
// median and max of 5 runs each, with the load average.
//
//   build/lab/bench/nslab-diff-bench

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

#include "nslab/diff.hpp"
#include "nslab/report.hpp"

using Json = nlohmann::ordered_json;

namespace {

constexpr int kRecords = 200000;

// One step of `n` records of a few events, as a dump or a packet capture gives them.
Json report_of(int n, bool reversed, int changed) {
  Json records = Json::array();
  for (int i = 0; i < n; ++i) {
    const char* ev = i % 3 == 0 ? "send" : i % 3 == 1 ? "errqueue" : "packet";
    records.push_back({{"event", ev},
                       {"seq", i},
                       {"n", i},
                       {"size", 100 + i % 1400},
                       {"result", i < changed ? "EMSGSIZE" : "ok"},
                       {"pid", 1000 + i}});
  }
  if (reversed) std::reverse(records.begin(), records.end());
  Json step = {{"name", "s"},    {"kind", "run"}, {"ran", true},
               {"passed", true}, {"exit", 0},     {"records", std::move(records)}};
  return {{"totals", Json::object()},
          {"scenarios", Json::array({{{"file", "big.yaml"},
                                      {"verdict", "passed"},
                                      {"steps", Json::array({std::move(step)})}}})}};
}

const Json& base() {
  static const Json r = report_of(kRecords, false, 0);
  return r;
}

void BM_Floor(benchmark::State& state) {
  for (auto _ : state)
    for (const Json* side : {&base(), &base()})
      for (const auto& r : (*side)["scenarios"][0]["steps"][0]["records"])
        benchmark::DoNotOptimize(r.dump());
}

// The diff proper: both reports read once (outcomes_from_json), outside the timing.
void BM_Diff(benchmark::State& state, const Json* other, std::size_t want_changed) {
  static const auto a = nslab::outcomes_from_json(base());
  const auto b = nslab::outcomes_from_json(*other);
  for (auto _ : state) {
    auto d = nslab::diff_reports(a, b);
    std::size_t changed = d.changed() ? d.scenarios[0]["steps"][0]["changed"].size() : 0;
    if (changed != want_changed) {
      state.SkipWithError(
          fmt::format("{} records changed, {} expected", changed, want_changed).c_str());
      return;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  static const Json reversed = report_of(kRecords, true, 0);
  static const Json changed = report_of(kRecords, false, 8000);
  auto add = [](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond)
        ->Iterations(1)
        ->Repetitions(5)
        ->ReportAggregatesOnly(true)
        ->ComputeStatistics(
            "min",
            [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); })
        ->ComputeStatistics("max", [](const std::vector<double>& v) {
          return *std::max_element(v.begin(), v.end());
        });
  };
  add(benchmark::RegisterBenchmark("diff/floor: dump 2x200k", BM_Floor));
  add(benchmark::RegisterBenchmark("diff/200k vs itself", BM_Diff, &base(), 0));
  add(benchmark::RegisterBenchmark("diff/200k vs reversed", BM_Diff, &reversed, 0));
  add(benchmark::RegisterBenchmark("diff/200k, 8000 changed", BM_Diff, &changed, 8000));
  benchmark::Initialize(&argc, argv);
  double load[3] = {};
  if (getloadavg(load, 3) == 3)
    fmt::print("load average: {:.2f} {:.2f} {:.2f}\n", load[0], load[1], load[2]);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
