#include "nslab/signals.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "nslab/error.hpp"

namespace nslab {

static_assert(sizeof(sigset_t) <= sizeof(unsigned long long[16]));

SignalWatch::SignalWatch(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : signals) sigaddset(&set, s);
  sigset_t old;
  if (sigprocmask(SIG_BLOCK, &set, &old) < 0) throw_errno("sigprocmask", errno);
  std::memcpy(old_mask_, &old, sizeof old);
  fd_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd_) throw_errno("signalfd", errno);
}

SignalWatch::SignalWatch(Latching) : SignalWatch() {
  latch_ = true;
  latched_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!latched_fd_) throw_errno("eventfd", errno);
  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_) throw_errno("epoll_create1", errno);
  for (int fd : {fd_.get(), latched_fd_.get()}) {
    epoll_event ev{.events = EPOLLIN, .data = {.fd = fd}};
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("epoll_ctl", errno);
  }
}

SignalWatch::~SignalWatch() {
  fd_.reset();  // before the signals are unblocked again
  sigset_t old;
  std::memcpy(&old, old_mask_, sizeof old);
  sigprocmask(SIG_SETMASK, &old, nullptr);
}

std::optional<int> SignalWatch::take() {
  std::lock_guard lock(mutex_);
  if (latched_) return latched_;
  signalfd_siginfo si{};
  ssize_t n = read(fd_.get(), &si, sizeof si);
  if (n != sizeof si) return std::nullopt;
  if (latch_) {
    latched_ = static_cast<int>(si.ssi_signo);
    std::uint64_t one = 1;
    if (write(latched_fd_.get(), &one, sizeof one) < 0) throw_errno("write eventfd", errno);
  }
  return static_cast<int>(si.ssi_signo);
}

int SignalWatch::wait() {
  for (;;) {
    if (auto s = take()) return *s;
    pollfd p{fd(), POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) throw_errno("poll signalfd", errno);
  }
}

}  // namespace nslab
