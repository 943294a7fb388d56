// The Boost.Process adapter. The only file that includes Boost.Process (it is slow to compile).

#include "nslab/process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <set>
#include <string_view>

#include <fmt/format.h>

#include "nslab/error.hpp"
#include "nslab/unique_fd.hpp"

namespace bp = boost::process;

namespace nslab {

namespace {

int pidfd_open(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

// Runs in the child between fork and exec: async-signal-safe calls only.
struct EnterNode : bp::extend::handler {
  int netns_fd;
  pid_t parent;
  bool in_lab_pidns = false;  // started in the lab's PID namespace (see pidns.hpp)
  bool own_sysfs;
  bool new_group = false;
  int out_fd = -1, err_fd = -1;  // write ends for stdout/stderr, -1: inherit

  template <class Exec>
  void on_exec_setup(Exec&) const {
    // Die with nslab; if nslab is already gone, do not start at all. In the lab's PID namespace
    // the lab's init does the killing (PR_SET_PDEATHSIG would follow the thread that forked,
    // which ends at once), and nslab is invisible: getppid() is 0 until the init adopts us.
    if (!in_lab_pidns) prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) signal(s, SIG_DFL);
    if (new_group) setpgid(0, 0);
    if (out_fd >= 0) {
      int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
      dup2(out_fd, 1);
      dup2(err_fd, 2);
    }
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
      static const char msg[] = "nslab: setns into the node failed\n";
      (void)!write(2, msg, sizeof msg - 1);
      _exit(127);  // set_error would only report; the exec must not happen outside the node
    }
    // sysfs shows the namespace of whoever mounted it: give the child the node's own /sys.
    // Making "/" a slave first keeps the new mount from propagating back to the host.
    if (own_sysfs) {
      bool ok = unshare(CLONE_NEWNS) == 0 &&
                mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) == 0;
      if (ok) {
        umount2("/sys", MNT_DETACH);
        ok = mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0;
      }
      if (!ok) {
        static const char msg[] =
            "nslab: warning: could not mount the node's own sysfs; /sys shows another "
            "namespace's interfaces\n";
        (void)!write(2, msg, sizeof msg - 1);
      }
      // Likewise /proc: pids, /proc/self and /proc/net as the lab's processes see them.
      if (ok && in_lab_pidns &&
          mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
        static const char msg[] =
            "nslab: warning: could not mount the lab's own /proc; it shows other pids\n";
        (void)!write(2, msg, sizeof msg - 1);
      }
    }
  }

  // execve failed in the child (ENOEXEC: executable, but no format the kernel runs), which
  // _exits right after telling us. Boost hands back no child for it, so nothing else would reap
  // it, and the lab's teardown waited its 5 s bound for the zombie: reap it here. (Called only
  // when the spawn passes an error_code; otherwise Boost throws before the handlers hear of it.)
  template <class Exec>
  void on_error(Exec& e, const std::error_code&) const {
    if (e.pid <= 0) return;  // the error came before the fork
    while (waitpid(e.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
};

}  // namespace

struct NodeProcess::Impl {
  bp::child child;
  UniqueFd pidfd;
  UniqueFd out, err;  // the read ends of captured stdout and stderr
  bool group = false;
  bool reaped = false;
  int status = 0;
};

NodeProcess::NodeProcess(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NodeProcess::NodeProcess(NodeProcess&&) noexcept = default;
NodeProcess& NodeProcess::operator=(NodeProcess&&) noexcept = default;

NodeProcess::~NodeProcess() {
  if (!impl_) return;
  if (!impl_->reaped && impl_->child.valid()) {
    signal_group(SIGKILL);
    wait();
  }
}

NodeProcess NodeProcess::spawn(const Netns& ns, const std::vector<std::string>& argv,
                               const SpawnOptions& options) {
  if (argv.empty()) throw Error("no command given", EINVAL);
  boost::filesystem::path exe = argv[0];
  if (argv[0].find('/') == std::string::npos) {
    // $PATH read here, not by bp::search_path's default (boost::this_process::path()), which
    // first builds a named std::locale: a dozen locale files opened and mapped per process.
    std::vector<boost::filesystem::path> dirs;
    if (const char* path = std::getenv("PATH")) {
      std::string_view rest = path;
      for (;;) {
        auto colon = rest.find(':');
        std::string_view dir = rest.substr(0, colon);
        dirs.emplace_back(dir.empty() ? std::string(".") : std::string(dir));  // POSIX: "" is .
        if (colon == std::string_view::npos) break;
        rest.remove_prefix(colon + 1);
      }
    }
    exe = bp::search_path(argv[0], dirs);
    if (exe.empty()) throw Error(fmt::format("{}: command not found", argv[0]), ENOENT);
  } else if (access(argv[0].c_str(), X_OK) < 0) {
    // Said before forking: a child whose execve fails is never handed back by Boost (it throws
    // from its error pipe), so nothing would reap it, and the lab's teardown would wait its 5 s
    // bound for the zombie.
    throw Error(fmt::format("{}: {}", argv[0], std::strerror(errno)), errno);
  }
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  auto impl = std::make_unique<Impl>();
  EnterNode enter;
  enter.netns_fd = ns.fd();
  enter.parent = options.pids ? 0 : getpid();
  enter.in_lab_pidns = options.pids != nullptr;
  enter.own_sysfs = options.own_sysfs;
  enter.new_group = options.own_process_group;
  impl->group = options.own_process_group;
  // The write ends are the child's: ours close when spawn returns, whatever happens.
  UniqueFd out_w, err_w;
  if (options.capture) {
    for (auto [read_end, write_end] : {std::pair{&impl->out, &out_w}, {&impl->err, &err_w}}) {
      int p[2];
      if (pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe2", errno);
      read_end->reset(p[0]);
      write_end->reset(p[1]);
      fcntl(p[0], F_SETFL, O_NONBLOCK);
    }
    enter.out_fd = out_w.get();
    enter.err_fd = err_w.get();
  }
  // With an error_code, Boost reports a failed execve through the handlers' on_error (which
  // reaps the child, see EnterNode) instead of throwing past them.
  std::error_code failed;
  auto start = [&] {
    if (options.capture || options.inherit_stdio) {
      impl->child = bp::child(bp::exe = exe, bp::args = args, enter, failed);
    } else {
      impl->child =
          bp::child(bp::exe = exe, bp::args = args, enter,
                    bp::std_in<bp::null, bp::std_out> bp::null, bp::std_err > bp::null, failed);
    }
  };
  try {
    if (options.pids)
      in_pid_namespace(*options.pids, start);
    else
      start();
  } catch (const bp::process_error& e) {
    failed = e.code();
    if (!failed) throw Error(fmt::format("{}: {}", argv[0], e.what()), EINVAL);
  }
  if (failed)
    throw Error(fmt::format("{}: {}", argv[0], std::strerror(failed.value())), failed.value());
  impl->pidfd.reset(pidfd_open(impl->child.id()));
  if (!impl->pidfd) throw_errno("pidfd_open", errno);
  return NodeProcess(std::move(impl));
}

int NodeProcess::pid() const {
  return impl_->child.id();
}
int NodeProcess::pidfd() const {
  return impl_->pidfd.get();
}

int NodeProcess::stdout_fd() const {
  return impl_->out.get();
}
int NodeProcess::stderr_fd() const {
  return impl_->err.get();
}

void NodeProcess::close_stdout() {
  impl_->out.reset();
}

void NodeProcess::close_stderr() {
  impl_->err.reset();
}

void NodeProcess::signal(int sig) {
  if (!impl_->reaped) kill(impl_->child.id(), sig);
}

void NodeProcess::signal_group(int sig) {
  // The group outlives its leader: its children may remain after the leader was reaped.
  if (impl_->group)
    kill(-impl_->child.id(), sig);
  else
    signal(sig);
}

int NodeProcess::wait() {
  if (impl_->reaped) return impl_->status;
  // waitpid ourselves: Boost's exit_code() cannot tell "exit 15" from "killed by SIGTERM".
  int st = 0;
  while (waitpid(impl_->child.id(), &st, 0) < 0) {
    if (errno != EINTR) {
      st = 0;
      break;
    }
  }
  impl_->child.detach();
  impl_->reaped = true;
  impl_->status = st;
  return st;
}

int exit_status_of(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

int kill_processes_in(const std::vector<const Netns*>& namespaces) {
  std::set<std::pair<dev_t, ino_t>> ours;
  for (const Netns* ns : namespaces) {
    struct stat st {};
    if (fstat(ns->fd(), &st) == 0) ours.insert({st.st_dev, st.st_ino});
  }
  std::vector<UniqueFd> pidfds;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      char* end = nullptr;
      long pid = std::strtol(e->d_name, &end, 10);
      if (*end || pid <= 0 || pid == getpid()) continue;
      struct stat st {};
      if (stat(fmt::format("/proc/{}/ns/net", pid).c_str(), &st) != 0) continue;
      if (!ours.count({st.st_dev, st.st_ino})) continue;
      UniqueFd fd(pidfd_open(static_cast<pid_t>(pid)));
      if (!fd) continue;
      syscall(SYS_pidfd_send_signal, fd.get(), SIGKILL, nullptr, 0);
      pidfds.push_back(std::move(fd));
    }
    closedir(d);
  }
  // Bounded wait for each to be gone (a killed process exits promptly; zombies count as gone).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (const auto& fd : pidfds) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd.get(), POLLIN, 0};
    if (left.count() > 0) poll(&p, 1, static_cast<int>(left.count()));
  }
  return static_cast<int>(pidfds.size());
}

}  // namespace nslab
