#pragma once
// Packet capture of every interface of a lab, one pcap file each, written by one background
// thread with libpcap (immediate mode, nanosecond timestamps). libpcap stays behind this header.

#include <memory>
#include <string>
#include <vector>

namespace nslab {

class Lab;

class Capture {
 public:
  // Starts capturing on every interface (lo excepted) of every node into DIR/NODE-IF.pcap.
  Capture(Lab& lab, const std::string& dir);
  ~Capture();  // stops (if still running) and closes everything
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Writes what is still buffered and stops the thread. Idempotent.
  void stop();
  const std::vector<std::string>& files() const { return files_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> files_;
};

}  // namespace nslab
