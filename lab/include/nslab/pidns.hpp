#pragma once
// A PID namespace for one lab's processes, whose pid 1 is a small init of nslab's own. Every
// process a lab starts (probes, `run:` programs, exec/up commands) and all their descendants live
// inside it. When the init dies the kernel kills every one of them, and the init dies with the
// lab: at teardown (SIGKILL through its pidfd), and when nslab dies by any signal, SIGKILL
// included (the init watches a pipe whose only writer is nslab; the kernel closes it then).
//
// Entering a PID namespace changes where the calling thread's children go, and cannot be undone
// without privileges over nslab's own PID namespace (which, unprivileged, it does not have). So
// each change happens on a short-lived thread of its own: the lab is created on one, and each
// process is started from one (see in_pid_namespace).

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>

#include "nslab/unique_fd.hpp"

namespace nslab {

class PidNamespace {
 public:
  // Creates the namespace and its init. With `parent` (a folder, e.g. $TMPDIR) the init makes
  // the lab's folder there (folder()): it is removed at teardown once the init is gone, and by
  // the init itself if nslab dies, after it has killed and reaped everything in the namespace.
  static PidNamespace create(const std::string& parent = {});

  PidNamespace(PidNamespace&& o) noexcept
      : ns_(std::move(o.ns_)),
        pidfd_(std::move(o.pidfd_)),
        alive_(std::move(o.alive_)),
        init_(std::exchange(o.init_, -1)),
        folder_(std::exchange(o.folder_, {})) {}
  PidNamespace& operator=(PidNamespace&&) = delete;
  PidNamespace(const PidNamespace&) = delete;
  // Kills the init, and so every process in the namespace, and reaps it (bounded). nslab's own
  // children in the namespace must be reaped first: the init's exit waits until every pid of
  // its namespace is free, and a zombie's pid is freed only when its parent reaps it.
  ~PidNamespace();
  // Kills every process in the namespace now (SIGKILL to the init), without waiting.
  void kill_all() const;

  int fd() const { return ns_.get(); }  // the namespace (for setns and nsenter --pid)
  const std::string& folder() const { return folder_; }  // the lab's folder, if asked for
  pid_t init_pid() const { return init_; }               // as nslab sees it

 private:
  PidNamespace() = default;
  UniqueFd ns_, pidfd_, alive_;  // alive_: nslab's end of the pipe the init watches
  pid_t init_ = -1;
  std::string folder_;
};

// Runs `start` (which forks) on a thread of its own that first enters `pidns`, so that the
// children it makes start inside; returns when `start` has. Exceptions pass through.
void in_pid_namespace(const PidNamespace& pidns, const std::function<void()>& start);

}  // namespace nslab
