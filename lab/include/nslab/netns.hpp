#pragma once
// Network namespaces held by file descriptors: no names under /run/netns, nothing to clean up.
// A namespace lives while its fd (or anything created inside it) is open.

#include <functional>
#include <utility>

#include "nslab/unique_fd.hpp"

namespace nslab {

class Netns {
 public:
  // The calling thread's current network namespace.
  static Netns current();
  // A fresh, anonymous namespace. `inside` runs with the calling thread in it (open sockets,
  // write sysctls); then the thread returns to `home`.
  static Netns create(const Netns& home, const std::function<void()>& inside = {});

  int fd() const { return fd_.get(); }
  unsigned long inode() const;  // for display only: inode numbers are reused after a netns dies

 private:
  explicit Netns(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // moved, never copied; closed with the last owner
};

// Moves the calling thread into `target` for the scope, then back to `home`.
class NetnsScope {
 public:
  NetnsScope(const Netns& target, const Netns& home);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  const Netns& home_;
};

}  // namespace nslab
