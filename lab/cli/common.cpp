#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include <fmt/format.h>

#include <fstream>

#include "commands.hpp"
#include "nslab/lab.hpp"
#include "nslab/load.hpp"
#include "nslab/userns.hpp"

namespace nslab::cli {

namespace fs = std::filesystem;

// A path as a person would type it from here: relative when below the current folder.
static std::string shortest(const fs::path& p) {
  std::error_code ec;
  fs::path cwd = fs::current_path(ec);
  if (ec) return p.string();
  fs::path rel = p.lexically_proximate(cwd);
  return rel.empty() || rel.string().starts_with("..") ? p.string() : rel.string();
}

std::vector<std::string> yaml_files(const std::vector<std::string>& paths, bool& bad) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec),
          end;
      for (; !ec && it != end; it.increment(ec))
        if (it->is_regular_file(ec) && it->path().extension() == ".yaml")
          found.push_back(shortest(it->path()));
      if (ec) {
        fmt::print(stderr, "nslab: {}: {}\n", p, ec.message());
        bad = true;
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else if (fs::exists(p, ec)) {
      out.push_back(p);  // a file: read as given, so that its errors name it as typed
    } else {
      fmt::print(stderr, "nslab: {}: no such file or folder\n", p);
      bad = true;
    }
  }
  return out;
}

bool has_top_level_key(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + ":", 0) == 0) return true;
  return false;
}

void hint_if_other_kind(const std::string& path, bool wanted_scenario) {
  if (wanted_scenario && has_top_level_key(path, "nodes") && !has_top_level_key(path, "steps"))
    fmt::print(stderr,
               "nslab: {} is a topology, not a scenario: `nslab run` takes scenarios; a topology "
               "goes to `nslab exec`, `up`, `graph` or `validate`\n",
               path);
  if (!wanted_scenario && has_top_level_key(path, "steps") && !has_top_level_key(path, "nodes"))
    fmt::print(stderr, "nslab: {} is a scenario, not a topology: run it with `nslab run {}`\n",
               path, path);
}

std::optional<Topology> load_topology_or_report(const std::string& path) {
  try {
    return load_topology_file(path);
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", d.str());
    hint_if_other_kind(path, /*wanted_scenario=*/false);
    return std::nullopt;
  }
}

int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", d.str());
    return kFailed;
  } catch (const Error& e) {
    fmt::print(stderr, "nslab: {}\n", e.describe());
    // At a YAML position: the kernel refused what the file says (1); a kind of interface this
    // kernel lacks is the machine's, not the file's (SPEC: 2, like no privileges).
    return e.pos() && e.err() != EOPNOTSUPP ? kFailed : kSetup;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nslab: {}\n", e.what());
    return kSetup;
  }
}

// A command a person can paste to get a shell in `node`: the namespaces are reachable through our
// fds in /proc; unprivileged, the shell must first join our user and mount namespaces. The shell
// starts in the lab's PID namespace, so that it and what it starts end with the lab.
static std::string shell_command(const Lab& lab, const LabNode& node, bool own_userns) {
  pid_t pid = getpid();
  std::string ns = fmt::format("--net=/proc/{0}/fd/{1}", pid, node.netns().fd());
  if (lab.pids()) ns += fmt::format(" --pid=/proc/{0}/fd/{1}", pid, lab.pids()->fd());
  if (!own_userns) return "nsenter " + ns;
  return fmt::format(
      "nsenter --preserve-credentials --user=/proc/{0}/ns/user --mount=/proc/{0}/ns/mnt {1}", pid,
      ns);
}

void print_shell_commands(Lab& lab, bool own_userns) {
  fmt::print("a shell in each node (Ctrl-C or SIGTERM to nslab pid {} tears the lab down):\n",
             getpid());
  std::size_t width = 0;
  for (auto& n : lab.nodes()) width = std::max(width, n.name().size());
  for (auto& n : lab.nodes())
    fmt::print("  {:<{}}  {}\n", n.name(), width, shell_command(lab, n, own_userns));
  std::fflush(stdout);
}

bool acquire_privileges_or_report() {
  try {
    acquire_privileges();
    return true;
  } catch (const Error& e) {
    fmt::print(stderr, "nslab: {}\n", e.what());
    return false;
  }
}

// The report is written into an unnamed file (O_TMPFILE) in the report's folder, opened before
// anything runs: a run that is killed leaves nothing behind, since the file never had a name.
// Where the filesystem has no O_TMPFILE, the named temporary file is made only when the report
// is written, for the moment that takes. The folder is held open from the start, so the report
// lands where it was named even if the path means another mount by then (matrix runs in a mount
// namespace of its own).
bool ReportFile::prepare() {
  struct stat st {};
  if (lstat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    return fail("exists and is not a regular file");
  std::filesystem::path p(path_);
  std::filesystem::path dir = p.parent_path();
  if (dir.empty()) dir = ".";
  name_ = p.filename().string();
  if (name_.empty() || name_ == "." || name_ == "..") return fail("names no file");
  dir_fd_.reset(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd_) return fail(std::strerror(errno));
  fd_.reset(openat(dir_fd_.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666));
  if (fd_) return true;
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return fail(std::strerror(errno));
  if (faccessat(dir_fd_.get(), ".", W_OK | X_OK, 0) < 0) return fail(std::strerror(errno));
  return true;
}

namespace {
bool write_all(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Runs `make(name)` with fresh names NAME.XXXXXX until one is not taken (EEXIST).
bool with_fresh_name(const std::string& base, std::string& name,
                     const std::function<bool(const std::string&)>& make) {
  static std::atomic<unsigned> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    name = fmt::format("{}.{:x}{:04x}", base, static_cast<unsigned>(getpid()), counter++ & 0xffff);
    if (make(name)) return true;
    if (errno != EEXIST) return false;
  }
  return false;
}
}  // namespace

bool ReportFile::write(const std::string& text) {
  std::string tmp;
  if (fd_) {
    if (!write_all(fd_.get(), text)) return fail(std::strerror(errno));
    // Named beside the report for a moment, then renamed into place in one step.
    std::string self = fmt::format("/proc/self/fd/{}", fd_.get());
    if (!with_fresh_name(name_, tmp, [&](const std::string& n) {
          return linkat(AT_FDCWD, self.c_str(), dir_fd_.get(), n.c_str(), AT_SYMLINK_FOLLOW) == 0;
        }))
      return fail(std::strerror(errno));
    fd_.reset();
  } else {
    UniqueFd fd;
    if (!with_fresh_name(name_, tmp, [&](const std::string& n) {
          fd.reset(openat(dir_fd_.get(), n.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
          return static_cast<bool>(fd);
        }))
      return fail(std::strerror(errno));
    bool ok = write_all(fd.get(), text);
    int err = errno;
    fd.reset();
    if (!ok) {
      unlinkat(dir_fd_.get(), tmp.c_str(), 0);
      return fail(std::strerror(err));
    }
  }
  if (renameat(dir_fd_.get(), tmp.c_str(), dir_fd_.get(), name_.c_str()) < 0) {
    int err = errno;
    unlinkat(dir_fd_.get(), tmp.c_str(), 0);
    return fail(std::strerror(err));
  }
  return true;
}

bool ReportFile::fail(const std::string& why) {
  fmt::print(stderr, "nslab: {} {}: {}\n", option_, path_, why);
  return false;
}

}  // namespace nslab::cli
