#pragma once
// Termination signals as events: blocked for the process and read from a signalfd, so that a
// Ctrl-C or SIGTERM ends a wait in order (teardown runs) instead of killing nslab mid-step.
// Construct before any thread starts so every thread inherits the mask.

#include <initializer_list>
#include <optional>

#include "nslab/unique_fd.hpp"

namespace nslab {

class SignalWatch {
 public:
  SignalWatch(std::initializer_list<int> signals = {2 /*SIGINT*/, 15 /*SIGTERM*/, 1 /*SIGHUP*/,
                                                    3 /*SIGQUIT*/});
  ~SignalWatch();  // restores the previous mask
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  int fd() const { return fd_.get(); }
  // A pending signal's number, without waiting.
  std::optional<int> take();
  // Blocks until one of the signals arrives; returns its number.
  int wait();

 private:
  UniqueFd fd_;
  unsigned long long old_mask_[16] = {};
};

}  // namespace nslab
