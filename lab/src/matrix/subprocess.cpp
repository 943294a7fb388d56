#include "subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "nslab/error.hpp"

namespace nslab::matrix {

using Clock = std::chrono::steady_clock;

namespace {

// Drops '\r' and ANSI escape sequences (the firmware clears the screen on the serial line).
std::string clean(const std::string& line) {
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\033') {
      ++i;
      if (i < line.size() && line[i] == '[') {
        ++i;
        while (i < line.size() && !(line[i] >= '@' && line[i] <= '~')) ++i;
      }
      continue;
    }
    if (c == '\r') continue;
    out += c;
  }
  return out;
}

}  // namespace

Subprocess::Subprocess(const std::vector<std::string>& argv, const std::string& cwd) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) throw Error("pipe", errno);
  UniqueFd out(fds[0]), out_w(fds[1]);
  if (pipe2(fds, O_CLOEXEC) < 0) throw Error("pipe", errno);
  UniqueFd report(fds[0]), report_w(fds[1]);  // exec's errno, if exec fails
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw Error("fork", errno);
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // nslab died between fork and prctl
    setpgid(0, 0);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out_w.get(), 1);
    dup2(out_w.get(), 2);
    if (!cwd.empty() && chdir(cwd.c_str()) < 0) {
      int e = errno;
      (void)!write(report_w.get(), &e, sizeof e);
      _exit(127);
    }
    execvp(args[0], args.data());
    int e = errno;
    (void)!write(report_w.get(), &e, sizeof e);
    _exit(127);
  }
  out_w.reset();
  report_w.reset();
  out_ = std::move(out);
  int e = 0;
  ssize_t n = read(report.get(), &e, sizeof e);
  if (n == sizeof e) {
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    out_.reset();
    throw Error(fmt::format("cannot start {}", argv[0]), e);
  }
}

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    kill();
    wait();
  }
}

void Subprocess::kill() {
  if (pid_ <= 0) return;
  ::kill(-pid_, SIGKILL);  // its process group: QEMU's helpers too
  ::kill(pid_, SIGKILL);
}

int Subprocess::wait() {
  if (pid_ <= 0) return -1;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool Subprocess::read_some(char* buf, std::size_t size, Clock::time_point deadline,
                           std::size_t& got) {
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      kill();
      return false;
    }
    pollfd p{out_.get(), POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error("poll", errno);
    if (n == 0) continue;  // the deadline is checked above
    ssize_t r = read(out_.get(), buf, size);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      out_.reset();
      got = 0;
      return true;
    }
    got = static_cast<std::size_t>(r);
    return true;
  }
}

bool Subprocess::read_lines(const std::function<void(const std::string&)>& on_line,
                            const std::function<std::chrono::milliseconds()>& bound) {
  char buf[4096];
  auto deadline = Clock::now() + bound();
  while (out_) {
    std::size_t got = 0;
    if (!read_some(buf, sizeof buf, deadline, got)) return false;
    partial_.append(buf, got);
    for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n')) {
      on_line(clean(partial_.substr(0, nl)));
      partial_.erase(0, nl + 1);
      deadline = Clock::now() + bound();
    }
  }
  if (!partial_.empty()) on_line(clean(partial_));
  partial_.clear();
  return true;
}

bool Subprocess::read_all(std::string& out, Clock::time_point deadline) {
  char buf[65536];
  while (out_) {
    std::size_t got = 0;
    if (!read_some(buf, sizeof buf, deadline, got)) return false;
    out.append(buf, got);
  }
  return true;
}

ToolResult run_tool(const std::vector<std::string>& argv, std::chrono::seconds bound,
                    const std::string& cwd, bool raw) {
  Subprocess p(argv, cwd);
  ToolResult r;
  auto until = std::chrono::steady_clock::now() + bound;
  bool ended = raw ? p.read_all(r.output, until)
                   : p.read_lines([&](const std::string& l) { r.output += l + "\n"; },
                                  [&] {
                                    return std::chrono::duration_cast<std::chrono::milliseconds>(
                                        until - std::chrono::steady_clock::now());
                                  });
  r.status = p.wait();
  if (!ended)
    throw Error(fmt::format("{} did not end within {} s", argv[0], bound.count()), ETIMEDOUT);
  return r;
}

}  // namespace nslab::matrix
