#pragma once
// nslab's GoogleTest fixture (CMake: nslab::gtest, which brings its own main()). A test builds a
// lab from a topology, runs probes or any program in its nodes, and checks their records:
//
//   class Echo : public nslab::LabTest {};
//   TEST_F(Echo, ClientGetsItsEcho) {
//     build_bundled("two-hosts");
//     auto server = run_background("b", "udp_sink --port 7007");  // ends with the test
//     ASSERT_TRUE(server.wait_for({{"event", "ready"}}));
//     auto r = run("a", "pmtu_udp --dst ${b.eth0.ipv4} --port 7007 --size 100");
//     EXPECT_TRUE(nslab::HasRecord(r, {{"event", "send"}, {"result", "ok"}}));
//   }
//
// The lab goes with the fixture. main() enters a user namespace of its own when not root, as
// `nslab` does, so tests run unprivileged too. Commands may use the scenario templates
// (${node.if.ipv4|ipv6|mtu|ifindex}, ${lab.dir}), resolved as `nslab run` resolves them: MTUs as
// the kernel holds them now, ${lab.dir} the lab's real private folder.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "nslab/captured.hpp"
#include "nslab/lab.hpp"
#include "nslab/netns.hpp"

namespace nslab {

// The bundled topologies and probes of the nslab this test was built against ($NSLAB_TOPOLOGIES
// and $NSLAB_PROBES override).
std::string bundled_topologies_dir();
std::string bundled_probes_dir();
std::string bundled_topology(const std::string& name);  // "router-lowmtu" -> its file

// True when some record matches `pattern` (scenario matching: subset, operators, errno names).
::testing::AssertionResult HasRecord(const ProbeResult& result,
                                     const nlohmann::ordered_json& pattern);
::testing::AssertionResult HasNoRecord(const ProbeResult& result,
                                       const nlohmann::ordered_json& pattern);

// A program started with LabTest::run_background. It is killed (with its process group) when
// the handle goes, at the latest with the test's lab.
class Background {
 public:
  Background(std::unique_ptr<CapturedProcess> p) : proc_(std::move(p)) {}
  Background(Background&&) = default;
  Background& operator=(Background&&) = default;
  ~Background();

  // Reads what the program wrote until a record matches `pattern` or `timeout` passes.
  ::testing::AssertionResult wait_for(const nlohmann::ordered_json& pattern,
                                      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // SIGTERM, then everything it wrote until it exits (SIGKILL after `grace`).
  ProbeResult stop(std::chrono::milliseconds grace = std::chrono::seconds(2));
  const std::vector<nlohmann::ordered_json>& records() const { return proc_->records(); }

 private:
  bool pump(int timeout_ms);  // one poll round; false once the process is gone
  std::unique_ptr<CapturedProcess> proc_;
};

class LabTest : public ::testing::Test {
 protected:
  Lab& build_file(const std::string& path, const BuildOptions& options = {});
  Lab& build_bundled(const std::string& name) { return build_file(bundled_topology(name)); }
  Lab& build_yaml(const std::string& yaml, const BuildOptions& options = {});
  Lab& lab() { return *lab_; }
  void destroy();

  // Runs a probe (by short name: the folders of add_probes() first, then the bundled ones) or
  // any program inside `node`, until it exits; the command is split like a shell's words after
  // its templates are resolved. Bounded by `timeout` (then the program is killed).
  ProbeResult run(const std::string& node, const std::string& command,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The same, left running: see Background.
  Background run_background(const std::string& node, const std::string& command);
  // A folder of the project's own probes, searched before the bundled ones.
  void add_probes(const std::string& dir) { probe_dirs_.push_back(dir); }

  // Runs `f` with the calling thread inside `node`'s network namespace.
  template <class F>
  auto inside(const std::string& node, F&& f) {
    NetnsScope scope(lab_->node(node).netns(), lab_->home());
    return f();
  }

  void TearDown() override { destroy(); }

 private:
  std::vector<std::string> argv_of(const std::string& command);
  std::vector<std::string> probe_dirs_;
  std::unique_ptr<Lab> lab_;
};

}  // namespace nslab
