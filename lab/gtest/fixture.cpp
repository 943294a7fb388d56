#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "nslab/error.hpp"
#include "nslab/gtest.hpp"
#include "nslab/load.hpp"
#include "nslab/match.hpp"
#include "nslab/paths.hpp"
#include "nslab/templates.hpp"

namespace fs = std::filesystem;

namespace nslab {

namespace gtest_detail {
// Where the nslab the test program was built against is (see prefix.cpp, compiled into the test
// program itself by the CMake package, not into this library).
extern const char* const kPrefix;
}  // namespace gtest_detail

namespace {

const DataPaths& paths() {
  static const DataPaths p = data_paths_in(gtest_detail::kPrefix);
  return p;
}

std::string describe(const std::vector<nlohmann::ordered_json>& records,
                     const std::string& stderr_text) {
  std::string s = "records:\n";
  for (const auto& rec : records) s += "  " + rec.dump() + "\n";
  if (records.empty()) s += "  (none)\n";
  if (!stderr_text.empty()) s += "stderr:\n" + stderr_text;
  return s;
}

}  // namespace

std::string bundled_topologies_dir() {
  return paths().topologies;
}
std::string bundled_probes_dir() {
  return paths().probes;
}
std::string bundled_topology(const std::string& name) {
  return bundled_topologies_dir() + "/" + name + ".yaml";
}

::testing::AssertionResult HasRecord(const ProbeResult& r, const nlohmann::ordered_json& pattern) {
  for (const auto& rec : r.records)
    if (record_matches(pattern, rec)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no record matches " << pattern.dump() << "\n"
                                       << describe(r.records, r.stderr_text);
}

::testing::AssertionResult HasNoRecord(const ProbeResult& r,
                                       const nlohmann::ordered_json& pattern) {
  for (const auto& rec : r.records)
    if (record_matches(pattern, rec))
      return ::testing::AssertionFailure() << rec.dump() << " matches " << pattern.dump();
  return ::testing::AssertionSuccess();
}

Background::~Background() {
  if (proc_ && !proc_->exited()) proc_->kill_group(SIGKILL);
}

bool Background::pump(int timeout_ms) {
  if (proc_->exited()) return false;
  auto fds = proc_->fds();
  int n = poll(fds.data(), fds.size(), timeout_ms);
  if (n < 0 && errno != EINTR) throw_errno("poll", errno);
  if (n > 0) proc_->handle(fds);
  return true;
}

::testing::AssertionResult Background::wait_for(const nlohmann::ordered_json& pattern,
                                                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t seen = 0;
  for (;;) {
    for (; seen < proc_->records().size(); ++seen)
      if (record_matches(pattern, proc_->records()[seen])) return ::testing::AssertionSuccess();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !pump(static_cast<int>(left.count()))) break;
  }
  return ::testing::AssertionFailure()
         << "no record matches " << pattern.dump() << " within " << timeout.count() << " ms"
         << (proc_->exited() ? " (the program has exited)" : "") << "\n"
         << describe(proc_->records(), proc_->stderr_text());
}

ProbeResult Background::stop(std::chrono::milliseconds grace) {
  if (!proc_->exited()) proc_->kill_group(SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  bool killed = false;
  while (!proc_->exited()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      proc_->kill_group(SIGKILL);
      killed = true;
      break;
    }
    pump(static_cast<int>(left.count()));
  }
  return result_of(*proc_, killed);
}

std::vector<std::string> LabTest::argv_of(const std::string& command) {
  // The runner's resolver: MTUs as the kernel holds them, the lab's real folder.
  auto argv = split_command(expand_templates(command, lab_resolver(*lab_)));
  if (argv.empty() || argv[0].find('/') != std::string::npos) return argv;
  std::vector<std::string> dirs = probe_dirs_;
  dirs.push_back(bundled_probes_dir());
  for (const auto& dir : dirs) {
    fs::path p = fs::path(dir) / argv[0];
    if (!dir.empty() && access(p.c_str(), X_OK) == 0) {
      argv[0] = p.string();
      break;
    }
  }
  return argv;
}

ProbeResult LabTest::run(const std::string& node, const std::string& command,
                         std::chrono::milliseconds timeout) {
  return run_in_node(*lab_, node, argv_of(command), timeout);
}

Background LabTest::run_background(const std::string& node, const std::string& command) {
  return Background(std::make_unique<CapturedProcess>(*lab_, node, argv_of(command)));
}

Lab& LabTest::build_file(const std::string& path, const BuildOptions& options) {
  lab_.reset();
  lab_ = Lab::build(load_topology_file(path), options);
  return *lab_;
}

Lab& LabTest::build_yaml(const std::string& yaml, const BuildOptions& options) {
  lab_.reset();
  lab_ = Lab::build(load_topology_text(yaml), options);
  return *lab_;
}

void LabTest::destroy() {
  lab_.reset();
}

}  // namespace nslab
