#include "nslab/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "nslab/error.hpp"

namespace nslab {

namespace {
// /proc/thread-self, not /proc/self: the latter shows the main thread's namespace.
constexpr const char* kThreadNetns = "/proc/thread-self/ns/net";

void enter(int fd) {
  if (setns(fd, CLONE_NEWNET) < 0) throw_errno("setns(CLONE_NEWNET)", errno);
}
}  // namespace

Netns Netns::current() {
  UniqueFd fd(open(kThreadNetns, O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno(std::string("open ") + kThreadNetns, errno);
  return Netns(std::move(fd));
}

Netns Netns::create(const Netns& home, const std::function<void()>& inside) {
  if (unshare(CLONE_NEWNET) < 0) throw_errno("unshare(CLONE_NEWNET)", errno);
  UniqueFd fd(open(kThreadNetns, O_RDONLY | O_CLOEXEC));
  int open_errno = errno;
  const bool opened = static_cast<bool>(fd);
  Netns ns(std::move(fd));
  try {
    if (!opened) throw_errno(std::string("open ") + kThreadNetns, open_errno);
    if (inside) inside();
  } catch (...) {
    if (setns(home.fd(), CLONE_NEWNET) < 0) std::abort();  // cannot continue in the wrong netns
    throw;
  }
  enter(home.fd());
  return ns;
}

unsigned long Netns::inode() const {
  struct stat st {};
  if (fstat(fd_.get(), &st) < 0) return 0;
  return st.st_ino;
}

NetnsScope::NetnsScope(const Netns& target, const Netns& home) : home_(home) {
  enter(target.fd());
}

NetnsScope::~NetnsScope() {
  // Failing to return would leave this thread configuring the wrong namespace: stop hard.
  if (setns(home_.fd(), CLONE_NEWNET) < 0) {
    std::perror("nslab: setns back to the home namespace");
    std::abort();
  }
}

}  // namespace nslab
