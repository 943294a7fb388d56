// Build-until-ready and teardown, by nslab and by the equivalent `ip` command script (one `ip`
// per step, as shell-based labs do), for router-lowmtu and for chains of 16, 32 and 64 nodes.
// Whole processes, paired in each iteration: `nslab exec router-lowmtu client -- true` against
// nslab-floor (lab/bench/floor.cpp: the same lab with raw rtnetlink, root only), and nslab's bare
// start-up (`nslab --help`).
//
//   build/lab/bench/nslab-bench [--benchmark_filter=...]
//
// nslab part: root or unprivileged (own user namespace). ip part: root only (named namespaces).
// Prints Google Benchmark's table, then medians per iteration and the ip/nslab ratio.

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>

#include "nslab/captured.hpp"
#include "nslab/lab.hpp"
#include "nslab/load.hpp"
#include "nslab/runner.hpp"
#include "nslab/scenario.hpp"
#include "nslab/signals.hpp"
#include "nslab/userns.hpp"

using namespace nslab;
using clock_type = std::chrono::steady_clock;

namespace {

struct Samples {
  std::vector<double> build_ms, teardown_ms;
};
std::map<std::string, Samples> g_samples;

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// client - n1 - ... - server: a line of `n` nodes, /24 per link, IPv4 and IPv6, a default route
// towards the far end in every node but the last, forwarding in the middle.
std::string chain_yaml(int n) {
  std::string y = fmt::format("name: chain{}\nnodes:\n", n);
  for (int i = 0; i < n; ++i) {
    y += fmt::format("  n{}:\n    forwarding: {}\n    interfaces:\n", i,
                     i > 0 && i < n - 1 ? "true" : "false");
    if (i > 0)
      y += fmt::format("      eth0: {{ipv4: 10.{}.{}.2/24, ipv6: \"fd00:{:x}::2/64\"}}\n",
                       (i - 1) / 256, (i - 1) % 256, i - 1);
    if (i < n - 1)
      y += fmt::format("      eth1: {{ipv4: 10.{}.{}.1/24, ipv6: \"fd00:{:x}::1/64\"}}\n", i / 256,
                       i % 256, i);
    y += "    routes:\n";
    if (i < n - 1)
      y += fmt::format(
          "      - {{to: default, via: 10.{}.{}.2}}\n      - {{to: default, via: "
          "\"fd00:{:x}::2\"}}\n",
          i / 256, i % 256, i);
    else
      y += fmt::format(
          "      - {{to: default, via: 10.{}.{}.1}}\n      - {{to: default, via: "
          "\"fd00:{:x}::1\"}}\n",
          (i - 1) / 256, (i - 1) % 256, i - 1);
  }
  y += "links:\n";
  for (int i = 0; i + 1 < n; ++i) y += fmt::format("  - [n{}:eth1, n{}:eth0]\n", i, i + 1);
  return y;
}

// The same topology as a script of `ip` commands, one per step; and its teardown.
struct IpScript {
  std::string up, down;
};

IpScript ip_script(const Topology& t, const std::string& prefix) {
  IpScript s;
  auto ns = [&](const std::string& node) { return prefix + node; };
  for (const auto& n : t.nodes) {
    const char* fwd = n.forwarding ? "1" : "0";
    s.up += fmt::format("ip netns add {}\n", ns(n.name));
    s.up += fmt::format(
        "ip netns exec {} sysctl -qw net.ipv6.conf.all.accept_dad=0 "
        "net.ipv6.conf.default.accept_dad=0 net.ipv4.ip_forward={} "
        "net.ipv6.conf.all.forwarding={}\n",
        ns(n.name), fwd, fwd);
    for (const auto& sc : n.sysctls)
      s.up += fmt::format("ip netns exec {} sysctl -qw {}={}\n", ns(n.name), sc.key, sc.value);
    s.up += fmt::format("ip -n {} link set lo up\n", ns(n.name));
    s.down += fmt::format("ip netns del {}\n", ns(n.name));
  }
  for (const auto& l : t.links) {
    auto mtu_a = t.effective_mtu(l.a.node, l.a.ifname).value_or(kDefaultMtu);
    auto mtu_b = t.effective_mtu(l.b.node, l.b.ifname).value_or(kDefaultMtu);
    s.up += fmt::format("ip link add {} netns {} mtu {} type veth peer name {} netns {} mtu {}\n",
                        l.a.ifname, ns(l.a.node), mtu_a, l.b.ifname, ns(l.b.node), mtu_b);
  }
  for (const auto& n : t.nodes) {
    for (const auto& br : n.bridges) {
      s.up += fmt::format("ip -n {} link add {} type bridge\n", ns(n.name), br.name);
      for (const auto& p : br.ports)
        s.up += fmt::format("ip -n {} link set {} master {}\n", ns(n.name), p.value, br.name);
    }
    for (const auto& ifname : t.created_interfaces(n.name))
      s.up += fmt::format("ip -n {} link set {} up\n", ns(n.name), ifname);
    for (const auto& ifc : n.interfaces)
      for (const auto& a : ifc.addresses)
        s.up += fmt::format("ip -n {} addr add {} dev {}{}\n", ns(n.name), a.prefix.str(), ifc.name,
                            a.prefix.address.family == Family::ipv6 ? " nodad" : "");
    for (const auto& r : n.routes) {
      s.up += fmt::format("ip -n {} {} route add {}", ns(n.name),
                          r.family == Family::ipv6 ? "-6" : "-4",
                          r.is_default ? "default" : r.to.str());
      if (r.via) s.up += " via " + r.via->value.str();
      if (r.dev) s.up += " dev " + r.dev->value;
      if (r.mtu) s.up += fmt::format(" mtu {}{}", r.lock_mtu ? "lock " : "", r.mtu->value);
      if (r.metric) s.up += fmt::format(" metric {}", r.metric->value);
      s.up += "\n";
    }
    if (n.nftables) {
      s.up +=
          fmt::format("ip netns exec {} nft -f - <<'NFT'\n{}\nNFT\n", ns(n.name), n.nftables->text);
    }
  }
  return s;
}

int run_sh(const std::string& script) {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-ec", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

void BM_Nslab(benchmark::State& state, const Topology& t, const std::string& key) {
  Samples& s = g_samples["nslab " + key];
  for (auto _ : state) {
    auto t0 = clock_type::now();
    auto lab = Lab::build(t);
    s.build_ms.push_back(ms_since(t0));
    auto t1 = clock_type::now();
    lab.reset();
    s.teardown_ms.push_back(ms_since(t1));
  }
}

void BM_IpScript(benchmark::State& state, const Topology& t, const std::string& key) {
  if (!is_real_root()) {
    state.SkipWithError("the ip script needs real root (ip netns add)");
    return;
  }
  Samples& s = g_samples["ip " + key];
  IpScript script = ip_script(t, fmt::format("nslab-bench-{}-", getpid()));
  for (auto _ : state) {
    auto t0 = clock_type::now();
    int rc = run_sh(script.up);
    s.build_ms.push_back(ms_since(t0));
    auto t1 = clock_type::now();
    run_sh(script.down);
    s.teardown_ms.push_back(ms_since(t1));
    if (rc != 0) {
      state.SkipWithError("the ip script failed");
      break;
    }
  }
}

// --- the runner's own cost per step ----------------------------------------------------------

const char* kRecord = R"({"event":"x","n":1})";
std::map<std::string, std::vector<double>> g_step_ms;

// The floor: the program itself, spawned and reaped outside any namespace.
void BM_SpawnBaseline(benchmark::State& state) {
  for (auto _ : state) {
    auto t0 = clock_type::now();
    pid_t pid = 0;
    const char* args[] = {"/bin/echo", kRecord, nullptr};
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn(&pid, "/bin/echo", &quiet, nullptr, const_cast<char**>(args), environ);
    waitpid(pid, nullptr, 0);
    posix_spawn_file_actions_destroy(&quiet);
    g_step_ms["spawn /bin/echo (baseline)"].push_back(ms_since(t0));
  }
}

// The same program in a node: setns, its own /sys, pdeathsig, process group, stdout to records.
void BM_RunInNode(benchmark::State& state, const Topology& t) {
  auto lab = Lab::build(t);
  for (auto _ : state) {
    auto t0 = clock_type::now();
    auto r =
        run_in_node(*lab, t.nodes.front().name, {"/bin/echo", kRecord}, std::chrono::seconds(5));
    g_step_ms["run_in_node /bin/echo"].push_back(ms_since(t0));
    if (r.records.size() != 1) state.SkipWithError("no record");
  }
}

// Whole scenarios through the runner: (21 steps - 1 step) / 20 is the cost of one step with
// template expansion, spawning, collecting and matching, without the lab's build and teardown.
std::string steps_scenario(const std::string& dir, int steps) {
  std::string y = "name: bench\ntopology: {name: t, nodes: {a: {}}}\nsteps:\n";
  for (int i = 0; i < steps; ++i)
    y += fmt::format(
        "  - on: a\n    run: /bin/echo '{}'\n    expect:\n      exit: 0\n"
        "      records: [{{event: x, n: {{ge: 1}}}}]\n",
        kRecord);
  std::string path = fmt::format("{}/steps{}.yaml", dir, steps);
  std::ofstream(path) << y;
  return path;
}

void BM_RunnerSteps(benchmark::State& state, int steps) {
  static SignalWatch signals;
  char tmpl[] = "/tmp/nslab-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  Scenario s = load_scenario_file(steps_scenario(dir, steps));
  Runner runner(RunOptions{}, signals);
  for (auto _ : state) {
    auto t0 = clock_type::now();
    auto o = runner.run(s);
    g_step_ms[fmt::format("scenario of {} steps", steps)].push_back(ms_since(t0));
    if (o.verdict != Verdict::passed) state.SkipWithError(o.reason.c_str());
  }
  std::filesystem::remove_all(dir);
}

// --- whole processes ------------------------------------------------------------------------

std::map<std::string, std::vector<double>> g_whole_ms;

// Runs ARGV to its end (stdout to /dev/null); its wall time in ms, or -1 when it failed.
double time_process(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  auto t0 = clock_type::now();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &quiet, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&quiet);
  int st = 0;
  if (rc != 0 || waitpid(pid, &st, 0) < 0) return -1;
  double ms = ms_since(t0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? ms : -1;
}

void BM_WholeProcess(benchmark::State& state) {
  if (!is_real_root()) {
    state.SkipWithError("nslab-floor needs real root");
    return;
  }
  const std::string topology = std::string(NSLAB_TOPOLOGIES) + "/router-lowmtu.yaml";
  // Paired: each iteration runs all four in turn. A lab's namespaces are freed by the kernel
  // after its process ends, competing with whatever runs next; so each lab follows the same
  // light process (start-up), never the other lab.
  const std::string startup = "nslab --help (start-up)";
  const std::vector<std::pair<std::string, std::vector<std::string>>> runs = {
      {startup, {NSLAB_EXE, "--help"}},
      {"nslab-floor (raw rtnetlink)", {NSLAB_FLOOR}},
      {startup, {NSLAB_EXE, "--help"}},
      {"nslab exec ... -- true", {NSLAB_EXE, "exec", topology, "client", "--", "true"}},
  };
  for (auto _ : state) {
    for (const auto& [name, argv] : runs) {
      double ms = time_process(argv);
      if (ms < 0) {
        state.SkipWithError((name + " failed").c_str());
        return;
      }
      g_whole_ms[name].push_back(ms);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Before any thread: an unprivileged run gets its own user namespace.
  PrivilegeMode mode = acquire_privileges();
  std::string dir = NSLAB_TOPOLOGIES;
  static std::map<std::string, Topology> topologies;
  topologies.emplace("router-lowmtu", load_topology_file(dir + "/router-lowmtu.yaml"));
  for (int n : {16, 32, 64})
    topologies.emplace(fmt::format("chain{}", n), load_topology_text(chain_yaml(n)));

  for (const auto& [key, t] : topologies) {
    bool big = key == "chain64" || key == "chain32";
    benchmark::RegisterBenchmark(("nslab/" + key).c_str(), BM_Nslab, std::cref(t), key)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(big ? 20 : 50);
    benchmark::RegisterBenchmark(("ip-script/" + key).c_str(), BM_IpScript, std::cref(t), key)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(big ? 3 : 10);
  }
  benchmark::RegisterBenchmark("step/spawn-baseline", BM_SpawnBaseline)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(200);
  benchmark::RegisterBenchmark("step/run-in-node", BM_RunInNode,
                               std::cref(topologies.at("router-lowmtu")))
      ->Unit(benchmark::kMillisecond)
      ->Iterations(200);
  for (int steps : {1, 21})
    benchmark::RegisterBenchmark(fmt::format("step/scenario-{}-steps", steps).c_str(),
                                 BM_RunnerSteps, steps)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(30);
  benchmark::RegisterBenchmark("whole-process/floor-exec-startup", BM_WholeProcess)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(40);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();

  fmt::print("\nmedians per iteration ({}):\n", privilege_mode_name(mode));
  fmt::print("{:<22} {:>12} {:>14}\n", "", "build (ms)", "teardown (ms)");
  for (const auto& [name, s] : g_samples)
    fmt::print("{:<22} {:>12.2f} {:>14.3f}\n", name, median(s.build_ms), median(s.teardown_ms));
  for (const auto& [key, t] : topologies) {
    auto a = g_samples.find("nslab " + key), b = g_samples.find("ip " + key);
    if (a == g_samples.end() || b == g_samples.end() || b->second.build_ms.empty()) continue;
    double na = median(a->second.build_ms) + median(a->second.teardown_ms);
    double nb = median(b->second.build_ms) + median(b->second.teardown_ms);
    fmt::print("{:<14} ip script / nslab (build + teardown): {:.1f}x\n", key, nb / na);
  }
  if (!g_step_ms.empty()) {
    fmt::print("\nper step, medians:\n");
    for (const auto& [name, v] : g_step_ms) fmt::print("{:<32} {:>8.3f} ms\n", name, median(v));
    auto one = g_step_ms.find("scenario of 1 steps"), many = g_step_ms.find("scenario of 21 steps");
    auto base = g_step_ms.find("spawn /bin/echo (baseline)");
    if (one != g_step_ms.end() && many != g_step_ms.end() && base != g_step_ms.end()) {
      double step = (median(many->second) - median(one->second)) / 20;
      fmt::print("{:<32} {:>8.3f} ms\n", "one runner step", step);
      fmt::print("{:<32} {:>8.3f} ms\n", "runner overhead per step", step - median(base->second));
    }
  }
  if (!g_whole_ms.empty()) {
    fmt::print("\nwhole processes, paired runs, medians:\n");
    for (const auto& [name, v] : g_whole_ms) fmt::print("{:<32} {:>8.2f} ms\n", name, median(v));
    auto floor = g_whole_ms.find("nslab-floor (raw rtnetlink)");
    auto exec = g_whole_ms.find("nslab exec ... -- true");
    if (floor != g_whole_ms.end() && exec != g_whole_ms.end())
      fmt::print("{:<32} {:>8.2f}x (target: 1.5x at most)\n", "nslab exec / floor",
                 median(exec->second) / median(floor->second));
  }
  return 0;
}
