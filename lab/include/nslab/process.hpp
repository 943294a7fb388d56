#pragma once
// Processes inside a node. The child starts in the lab's PID namespace, enters the node's network
// namespace between fork and exec, gets the node's own /sys, and dies with nslab (the PID
// namespace's init, and PR_SET_PDEATHSIG). Boost.Process stays behind
// this header.

#include <memory>
#include <string>
#include <vector>

#include "nslab/netns.hpp"
#include "nslab/pidns.hpp"

namespace nslab {

struct SpawnOptions {
  bool inherit_stdio = true;       // stdin/stdout/stderr of nslab; else stdin is /dev/null and...
  bool capture = false;            // ...stdout and stderr go to pipes (stdout_fd(), stderr_fd())
  bool own_process_group = false;  // so that signal_group() reaches its children too
  bool own_sysfs = true;           // a private mount namespace with the node's sysfs on /sys
  const PidNamespace* pids = nullptr;  // the lab's PID namespace, where the child starts
};

class NodeProcess {
 public:
  // Starts argv[0] (searched in PATH when it has no '/') inside `ns`. Throws Error(ENOENT) when
  // the program does not exist.
  static NodeProcess spawn(const Netns& ns, const std::vector<std::string>& argv,
                           const SpawnOptions& options = {});
  NodeProcess(NodeProcess&&) noexcept;
  NodeProcess& operator=(NodeProcess&&) noexcept;
  ~NodeProcess();  // kills (SIGKILL) and reaps a child that is still running

  int pid() const;
  int pidfd() const;      // readable once the child has exited
  int stdout_fd() const;  // with capture: non-blocking read ends, -1 once closed
  int stderr_fd() const;
  void close_stdout();
  void close_stderr();
  void signal(int sig);
  void signal_group(int sig);  // the whole process group (own_process_group), else the child
  // Reaps the child (blocks until it exits); returns the raw wait status.
  int wait();

 private:
  struct Impl;
  explicit NodeProcess(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Shell convention: the exit code, or 128 + signal for a child killed by a signal.
int exit_status_of(int wait_status);

// Kills every process still inside one of `namespaces` (a child's own children, started in the
// background) and waits, bounded, for them to go. Returns how many were killed.
int kill_processes_in(const std::vector<const Netns*>& namespaces);

}  // namespace nslab
