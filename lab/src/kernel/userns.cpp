#include "nslab/userns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "nslab/error.hpp"
#include "nslab/unique_fd.hpp"

namespace nslab {

namespace {

void write_file(const char* path, const std::string& text) {
  UniqueFd fd(open(path, O_WRONLY | O_CLOEXEC));
  if (!fd) throw_errno(fmt::format("open {}", path), errno);
  ssize_t n = write(fd.get(), text.data(), text.size());
  int err = errno;
  if (n != static_cast<ssize_t>(text.size())) throw_errno(fmt::format("write {}", path), err);
}

}  // namespace

bool is_real_root() {
  if (geteuid() != 0) return false;
  std::ifstream in("/proc/self/uid_map");
  std::string inside, outside, count;
  if (!(in >> inside >> outside >> count)) return false;
  return inside == "0" && outside == "0" && count == "4294967295";
}

const char* privilege_mode_name(PrivilegeMode m) {
  switch (m) {
    case PrivilegeMode::real_root:
      return "real root";
    case PrivilegeMode::inherited:
      return "root of an existing user namespace";
    case PrivilegeMode::own_userns:
      return "own user namespace";
  }
  return "?";
}

PrivilegeMode acquire_privileges() {
  if (geteuid() == 0) return is_real_root() ? PrivilegeMode::real_root : PrivilegeMode::inherited;
  uid_t uid = geteuid();
  gid_t gid = getegid();
  // The network namespace too: a thread may only setns() into namespaces our user namespace
  // owns, so the lab's "home" (where threads return between nodes) must be one of ours. It also
  // puts the caller's own namespace out of reach.
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) < 0) {
    int err = errno;
    throw Error(fmt::format("cannot create a user namespace: {}{}", std::strerror(err),
                            err == EPERM || err == ENOSPC
                                ? " (unprivileged user namespaces are disabled here: "
                                  "see kernel.unprivileged_userns_clone, "
                                  "user.max_user_namespaces or AppArmor; or run as root)"
                                : ""),
                err);
  }
  // setgroups must be denied before an unprivileged process may write gid_map.
  write_file("/proc/self/setgroups", "deny");
  write_file("/proc/self/uid_map", fmt::format("0 {} 1", uid));
  write_file("/proc/self/gid_map", fmt::format("0 {} 1", gid));
  // Our mounts (a node's /sys for exec) must not propagate anywhere.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
    throw_errno("make / private in the new mount namespace", errno);
  return PrivilegeMode::own_userns;
}

}  // namespace nslab
