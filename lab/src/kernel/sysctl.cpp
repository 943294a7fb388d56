#include "nslab/sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "nslab/error.hpp"
#include "nslab/unique_fd.hpp"

namespace nslab::sysctl {

std::string path_of(std::string_view key) {
  std::string p = "/proc/sys/";
  for (char c : key) p += (c == '.') ? '/' : c;
  return p;
}

static std::string describe(std::string_view key, int err) {
  if (err == ENOENT) return fmt::format("sysctl {} does not exist in this namespace", key);
  return fmt::format("sysctl {}: {}", key, std::strerror(err));
}

void write(std::string_view key, std::string_view value) {
  UniqueFd fd(::open(path_of(key).c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) throw Error(describe(key, errno), errno);
  std::string v(value);
  v += '\n';
  ssize_t n = ::write(fd.get(), v.data(), v.size());
  int err = errno;
  if (n < 0) throw Error(fmt::format("sysctl {} = {}: {}", key, value, std::strerror(err)), err);
}

std::string read(std::string_view key) {
  UniqueFd fd(::open(path_of(key).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw Error(describe(key, errno), errno);
  char buf[4096];
  ssize_t n = ::read(fd.get(), buf, sizeof buf);
  int err = errno;
  if (n < 0) throw Error(describe(key, err), err);
  std::string s(buf, static_cast<std::size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace nslab::sysctl
