#include "nslab/paths.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace fs = std::filesystem;

namespace nslab {

namespace {

std::string env_or(const char* name, const fs::path& fallback) {
  if (const char* v = std::getenv(name); v && *v) return v;
  std::error_code ec;
  return fs::is_directory(fallback, ec) ? fallback.string() : std::string();
}

}  // namespace

DataPaths data_paths_in(const std::string& prefix) {
  std::error_code ec;
  fs::path up(prefix);
  // Installed (PREFIX/libexec) first; then a build tree (BUILD/probes/bin).
  bool installed = fs::is_directory(up / "libexec/nslab/probes", ec);
  fs::path probes = installed ? up / "libexec/nslab/probes" : up / "probes/bin";
  fs::path share = up / "share/nslab";
  return {env_or("NSLAB_PROBES", probes), env_or("NSLAB_SCENARIOS", share / "scenarios"),
          env_or("NSLAB_TOPOLOGIES", share / "topologies")};
}

DataPaths data_paths(const std::string& exe) {
  std::error_code ec;
  fs::path self = exe.empty() ? fs::read_symlink("/proc/self/exe", ec) : fs::path(exe);
  return data_paths_in(ec ? std::string() : self.parent_path().parent_path().string());
}

std::vector<std::string> probe_search_path(const std::vector<std::string>& extra,
                                           const DataPaths& paths) {
  std::vector<std::string> out = extra;
  if (!paths.probes.empty()) out.push_back(paths.probes);
  return out;
}

}  // namespace nslab
