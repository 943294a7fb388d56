#include "nslab/signals.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
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

SignalWatch::~SignalWatch() {
  fd_.reset();  // before the signals are unblocked again
  sigset_t old;
  std::memcpy(&old, old_mask_, sizeof old);
  sigprocmask(SIG_SETMASK, &old, nullptr);
}

std::optional<int> SignalWatch::take() {
  signalfd_siginfo si{};
  ssize_t n = read(fd_.get(), &si, sizeof si);
  if (n != sizeof si) return std::nullopt;
  return static_cast<int>(si.ssi_signo);
}

int SignalWatch::wait() {
  for (;;) {
    if (auto s = take()) return *s;
    pollfd p{fd_.get(), POLLIN, 0};
    if (poll(&p, 1, -1) < 0 && errno != EINTR) throw_errno("poll signalfd", errno);
  }
}

}  // namespace nslab
