#include "nslab/pidns.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "nslab/error.hpp"

namespace nslab {

namespace {

// Runs f on a fresh thread and waits: what f does to its thread's namespaces ends with it.
void on_own_thread(const std::function<void()>& f) {
  std::exception_ptr error;
  std::thread t([&] {
    try {
      f();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

// Removes everything below the directory `dir` (closed here), never following a link.
void remove_below(UniqueFd dir) {
  DIR* d = fdopendir(dir.get());
  if (!d) return;
  dir.release();  // closedir closes it
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub >= 0) {
      remove_below(UniqueFd(sub));
      unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
    } else {
      unlinkat(dirfd(d), e->d_name, 0);
    }
  }
  closedir(d);
}

// pid 1 of a lab, in the child of a fork of nslab. First it makes the lab's folder from
// `folder_template` (when not empty) and tells nslab its name through `told`: the folder exists
// only once its remover does, so no moment of nslab's death leaves it behind. Then it reaps the
// orphans that are reparented to it. When nslab's end of `alive` closes (nslab died), it kills
// and reaps everything in its namespace, removes the folder (through an fd opened before any lab
// process ran, so a swapped path cannot send it elsewhere) and exits. It leaves nslab's session
// and process group, so that a kill aimed at nslab's group cannot stop that cleanup; a SIGKILL
// from nslab at teardown ends it at once, and the kernel kills the rest. (No PR_SET_PDEATHSIG:
// it follows the thread that forked, which ends at once.)
// It works with raw descriptor numbers on purpose: it places them with dup2 and ends with
// _exit, where no destructor runs.
[[noreturn]] void init_main(int alive, int told, char* folder_template) {
  setsid();
  prctl(PR_SET_NAME, "nslab-init");
  const char* folder = folder_template[0] ? mkdtemp(folder_template) : nullptr;
  int folder_fd = -1;
  if (folder) {
    folder_fd = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    (void)!write(told, folder, std::strlen(folder));
  } else if (folder_template[0]) {
    (void)!write(told, "!", 1);  // nslab reports the failure
  }
  close(told);
  // Keep `alive` as 3 and the folder as 4, and nothing else of nslab's: move both out of the
  // way first, so that neither dup2 closes the other.
  int a = fcntl(alive, F_DUPFD_CLOEXEC, 100);
  int f = folder_fd >= 0 ? fcntl(folder_fd, F_DUPFD_CLOEXEC, 101) : -1;
  int null = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; ++fd) dup2(null, fd);  // hold none of nslab's pipes open
  dup2(a, 3);
  if (f >= 0) dup2(f, 4);
  syscall(SYS_close_range, f >= 0 ? 5u : 4u, ~0u, 0u);
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, nullptr);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC);
  for (;;) {
    pollfd p[2] = {{3, POLLIN, 0}, {sfd, POLLIN, 0}};
    if (poll(p, 2, -1) < 0 && errno != EINTR) _exit(1);
    if (p[0].revents) {   // nslab is gone
      kill(-1, SIGKILL);  // from a PID namespace's init: every other process in it
      while (waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
      }
      if (f >= 0) {
        remove_below(UniqueFd(4));
        rmdir(folder);
      }
      _exit(0);
    }
    signalfd_siginfo si;
    if (p[1].revents && read(sfd, &si, sizeof si) < 0 && errno != EAGAIN) _exit(1);
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
  }
}

}  // namespace

PidNamespace PidNamespace::create(const std::string& folder_in) {
  int alive_fds[2], told_fds[2];
  if (pipe2(alive_fds, O_CLOEXEC) < 0) throw_errno("pipe2", errno);
  UniqueFd watch(alive_fds[0]);
  PidNamespace p;
  p.alive_.reset(alive_fds[1]);
  if (pipe2(told_fds, O_CLOEXEC) < 0) throw_errno("pipe2", errno);
  UniqueFd told_read(told_fds[0]), told_write(told_fds[1]);
  // Prepared here: the child of a fork of a multi-threaded process should not allocate.
  std::string folder_template = folder_in.empty() ? "" : folder_in + "/nslab-lab-XXXXXX";
  pid_t pid = -1;
  on_own_thread([&] {
    // unshare(CLONE_NEWPID) moves only this thread's future children; the first becomes pid 1.
    if (unshare(CLONE_NEWPID) < 0) throw_errno("unshare(CLONE_NEWPID)", errno);
    pid = fork();
    if (pid == 0) init_main(watch.get(), told_write.get(), folder_template.data());
    if (pid < 0) throw_errno("fork the lab's init", errno);
  });
  p.init_ = pid;
  told_write.reset();
  p.pidfd_.reset(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  p.ns_.reset(open(("/proc/" + std::to_string(pid) + "/ns/pid").c_str(), O_RDONLY | O_CLOEXEC));
  if (!p.pidfd_ || !p.ns_) throw_errno("open the lab's PID namespace", errno);  // ~p kills it
  if (!folder_in.empty()) {
    // The folder's name, until the init closes its end (bounded: it does so at once).
    char buf[4096];
    std::string name;
    for (;;) {
      pollfd w{told_read.get(), POLLIN, 0};
      if (poll(&w, 1, 5000) != 1) throw Error("the lab's init did not say its folder", ETIMEDOUT);
      ssize_t n = read(told_read.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      name.append(buf, static_cast<std::size_t>(n));
    }
    if (name.empty() || name == "!")
      throw Error(fmt::format("cannot make the lab's folder in {}", folder_in), EIO);
    p.folder_ = name;
  }
  return p;
}

void PidNamespace::kill_all() const {
  if (init_ > 0) syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
}

PidNamespace::~PidNamespace() {
  if (init_ <= 0) return;
  kill_all();
  // Bounded: should a child of nslab's still be unreaped in the namespace, the init cannot end.
  pollfd p{pidfd_.get(), POLLIN, 0};
  while (poll(&p, 1, 5000) < 0 && errno == EINTR) {
  }
  waitpid(init_, nullptr, WNOHANG);
  // The lab's processes are gone: nothing writes into its folder any more.
  std::error_code ec;
  if (!folder_.empty()) std::filesystem::remove_all(folder_, ec);
}

void in_pid_namespace(const PidNamespace& pidns, const std::function<void()>& start) {
  on_own_thread([&] {
    if (setns(pidns.fd(), CLONE_NEWPID) < 0) throw_errno("setns(CLONE_NEWPID)", errno);
    start();
  });
}

}  // namespace nslab
