#pragma once
// Termination signals as events: blocked for the process and read from a signalfd, so that a
// Ctrl-C or SIGTERM ends a wait in order (teardown runs) instead of killing nslab mid-step.
// Construct before any thread starts so every thread inherits the mask.

#include <initializer_list>
#include <mutex>
#include <optional>

#include "nslab/unique_fd.hpp"

namespace nslab {

class SignalWatch {
 public:
  SignalWatch(std::initializer_list<int> signals = {2 /*SIGINT*/, 15 /*SIGTERM*/, 1 /*SIGHUP*/,
                                                    3 /*SIGQUIT*/});
  // Latching: the first signal read is kept. take() returns it to every caller from then on, and
  // fd() stays readable, so every thread waiting on it wakes, not only the one that read it.
  struct Latching {};
  explicit SignalWatch(Latching);
  ~SignalWatch();  // restores the previous mask
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  // Readable when a signal is pending (or, latching, was ever taken).
  int fd() const { return latch_ ? epoll_.get() : fd_.get(); }
  // A pending signal's number, without waiting.
  std::optional<int> take();
  // Blocks until one of the signals arrives; returns its number.
  int wait();

 private:
  UniqueFd fd_;  // the signalfd
  unsigned long long old_mask_[16] = {};
  bool latch_ = false;
  UniqueFd latched_fd_;  // an eventfd, written once when a signal is latched, never read
  UniqueFd epoll_;       // the signalfd and latched_fd_: what fd() is when latching
  std::mutex mutex_;
  int latched_ = 0;
};

}  // namespace nslab
