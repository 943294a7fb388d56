#pragma once
// Host programs the matrix drives (apt-get, dpkg-deb, depmod, modprobe, xz, qemu): started with
// fork and exec, each killed (PR_SET_PDEATHSIG) when nslab dies, and every wait bounded.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "nslab/unique_fd.hpp"

namespace nslab::matrix {

class Subprocess {
 public:
  // Starts argv (searched in PATH) in `cwd` (empty: ours), stdin from /dev/null, stdout and
  // stderr into one pipe. Throws Error when it cannot start.
  Subprocess(const std::vector<std::string>& argv, const std::string& cwd = "");
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();  // kills and reaps a child still running

  // Reads output until the child closes it, calling `on_line` per line (without '\r' and
  // terminal escapes). `bound(line_count)` gives the time allowed until the next line; on
  // expiry the child is killed and this returns false.
  bool read_lines(const std::function<void(const std::string&)>& on_line,
                  const std::function<std::chrono::milliseconds()>& bound);
  // Reads all output as it is (binary) until the child closes it or `deadline` passes (then the
  // child is killed and this returns false).
  bool read_all(std::string& out, std::chrono::steady_clock::time_point deadline);
  int wait();  // reaps; exit status (128 + signal when killed)
  void kill();

 private:
  // Up to `size` bytes into `buf` (`got` 0 at the end of output); false when `deadline` passed
  // first (the child is then killed).
  bool read_some(char* buf, std::size_t size, std::chrono::steady_clock::time_point deadline,
                 std::size_t& got);
  pid_t pid_ = -1;
  UniqueFd out_;  // its stdout and stderr
  std::string partial_;
};

// Runs argv to the end within `bound`; returns its exit status and output. Throws Error when it
// cannot start or does not end in time.
struct ToolResult {
  int status = 0;
  std::string output;
};
// `raw`: the output as it is (a decompressed file), not cleaned lines.
ToolResult run_tool(const std::vector<std::string>& argv, std::chrono::seconds bound,
                    const std::string& cwd = "", bool raw = false);

}  // namespace nslab::matrix
