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
#include <set>

#include <fmt/format.h>

#include "nslab/error.hpp"

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
  bool own_sysfs;

  template <class Exec>
  void on_exec_setup(Exec&) const {
    // Die with nslab; if nslab is already gone, do not start at all.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD}) signal(s, SIG_DFL);
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
      static const char msg[] = "nslab: setns into the node failed\n";
      (void)!write(2, msg, sizeof msg - 1);
      _exit(127);  // set_error would only report; the exec must not happen outside the node
    }
    // sysfs shows the namespace of whoever mounted it: give the child the node's own /sys.
    if (own_sysfs && unshare(CLONE_NEWNS) == 0 &&
        mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) == 0) {
      umount2("/sys", MNT_DETACH);
      mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    }
  }
};

}  // namespace

struct NodeProcess::Impl {
  bp::child child;
  int pidfd = -1;
  bool reaped = false;
  int status = 0;
};

NodeProcess::NodeProcess(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
NodeProcess::NodeProcess(NodeProcess&&) noexcept = default;
NodeProcess& NodeProcess::operator=(NodeProcess&&) noexcept = default;

NodeProcess::~NodeProcess() {
  if (!impl_) return;
  if (!impl_->reaped && impl_->child.valid()) {
    kill(impl_->child.id(), SIGKILL);
    wait();
  }
  if (impl_->pidfd >= 0) close(impl_->pidfd);
}

NodeProcess NodeProcess::spawn(const Netns& ns, const std::vector<std::string>& argv,
                               const SpawnOptions& options) {
  if (argv.empty()) throw Error("no command given", EINVAL);
  boost::filesystem::path exe = argv[0];
  if (argv[0].find('/') == std::string::npos) {
    exe = bp::search_path(argv[0]);
    if (exe.empty()) throw Error(fmt::format("{}: command not found", argv[0]), ENOENT);
  }
  std::vector<std::string> args(argv.begin() + 1, argv.end());
  auto impl = std::make_unique<Impl>();
  EnterNode enter;
  enter.netns_fd = ns.fd();
  enter.parent = getpid();
  enter.own_sysfs = options.own_sysfs;
  try {
    if (options.inherit_stdio) {
      impl->child = bp::child(bp::exe = exe, bp::args = args, enter);
    } else {
      impl->child = bp::child(bp::exe = exe, bp::args = args, enter,
                              bp::std_in<bp::null, bp::std_out> bp::null, bp::std_err > bp::null);
    }
  } catch (const bp::process_error& e) {
    int err = e.code().value();
    throw Error(fmt::format("{}: {}", argv[0], err ? std::strerror(err) : e.what()), err);
  }
  impl->pidfd = pidfd_open(impl->child.id());
  if (impl->pidfd < 0) throw_errno("pidfd_open", errno);
  return NodeProcess(std::move(impl));
}

int NodeProcess::pid() const {
  return impl_->child.id();
}
int NodeProcess::pidfd() const {
  return impl_->pidfd;
}

void NodeProcess::signal(int sig) {
  if (!impl_->reaped) kill(impl_->child.id(), sig);
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
  std::vector<int> pidfds;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      char* end = nullptr;
      long pid = std::strtol(e->d_name, &end, 10);
      if (*end || pid <= 0 || pid == getpid()) continue;
      struct stat st {};
      if (stat(fmt::format("/proc/{}/ns/net", pid).c_str(), &st) != 0) continue;
      if (!ours.count({st.st_dev, st.st_ino})) continue;
      int fd = pidfd_open(static_cast<pid_t>(pid));
      if (fd < 0) continue;
      syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0);
      pidfds.push_back(fd);
    }
    closedir(d);
  }
  // Bounded wait for each to be gone (a killed process exits promptly; zombies count as gone).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (int fd : pidfds) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() > 0) poll(&p, 1, static_cast<int>(left.count()));
    close(fd);
  }
  return static_cast<int>(pidfds.size());
}

}  // namespace nslab
