#include <fmt/format.h>
#include <poll.h>

#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <memory>

#include "commands.hpp"
#include "nslab/error.hpp"
#include "nslab/lab.hpp"
#include "nslab/process.hpp"
#include "nslab/signals.hpp"

namespace nslab::cli {

namespace {

// How long a command may take to end after nslab passed it a signal.
constexpr std::chrono::milliseconds kGrace{500};

}  // namespace

int run_exec(const ExecArgs& a) {
  if (!acquire_privileges_or_report()) return kSetup;
  auto t = load_topology_or_report(a.topology);
  if (!t) return kFailed;
  if (!t->node(a.node)) {
    std::string names;
    for (const auto& n : t->nodes) names += (names.empty() ? "" : ", ") + n.name;
    fmt::print(stderr, "nslab: topology '{}' has no node '{}' (nodes: {})\n", t->name, a.node,
               names);
    return kSetup;
  }
  SignalWatch signals;  // a signal now ends the command and still tears the lab down
  return guarded([&] {
    auto lab = Lab::build(*t);
    if (a.verbose)
      fmt::print(stderr, "nslab: {} built in {:.2f} ms\n", t->name,
                 lab->build_time().count() / 1000.0);
    std::optional<NodeProcess> proc;
    try {
      proc.emplace(NodeProcess::spawn(lab->node(a.node).netns(), a.command, {.pids = lab->pids()}));
    } catch (const Error& e) {
      fmt::print(stderr, "nslab: {}\n", e.what());
      return e.err() == ENOENT ? 127 : 126;
    }
    // A signal is passed to the command, which gets kGrace to end as it likes; then the lab and
    // everything in it go, and nslab exits 128+N.
    std::optional<int> stop;
    auto deadline = std::chrono::steady_clock::time_point::max();
    for (;;) {
      int wait_ms = -1;
      if (stop) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        wait_ms = static_cast<int>(left.count()) + 1;
      }
      pollfd p[2] = {{proc->pidfd(), POLLIN, 0}, {signals.fd(), POLLIN, 0}};
      if (poll(p, 2, wait_ms) < 0 && errno != EINTR) break;
      if (p[1].revents & POLLIN) {
        if (auto s = signals.take(); s && !stop) {
          stop = s;
          deadline = std::chrono::steady_clock::now() + kGrace;
          proc->signal(*s);
        }
      }
      if (p[0].revents & POLLIN) break;
    }
    // The lab's PID namespace goes first: whatever the command left running goes with it.
    lab->end_processes();
    int status = proc->wait();
    if (stop && !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
      return exit_status_of(status);
    return stop ? 128 + *stop : exit_status_of(status);
  });
}

}  // namespace nslab::cli
