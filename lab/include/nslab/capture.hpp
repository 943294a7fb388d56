#pragma once
// Packet capture of every interface of a lab, one pcap file each, written by one background
// thread with libpcap (immediate mode, nanosecond timestamps). libpcap stays behind this header.

#include <memory>
#include <string>
#include <vector>

namespace nslab {

class Netns;

// What to capture in one node: its namespace and the interfaces to tap there.
struct CaptureNode {
  std::string name;
  const Netns* netns = nullptr;
  std::vector<std::string> interfaces;
};

class Capture {
 public:
  // Starts capturing on the given interfaces into NODE-IF.pcap in the folder open as `dir_fd`
  // (named `dir` in messages and files()); each file is made new there, never through a link.
  // `home` is the namespace the calling thread returns to after opening each node's sockets.
  Capture(const std::vector<CaptureNode>& nodes, const Netns& home, int dir_fd,
          const std::string& dir);
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

// "libpcap version X" of the library loaded (loading it if need be); throws when it is missing.
std::string libpcap_version();

}  // namespace nslab
