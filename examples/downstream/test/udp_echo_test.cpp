// The library under test with nslab's GoogleTest fixture: a lab per test, the project's own
// probe in its nodes.
#include <nslab/gtest.hpp>

class UdpEcho : public nslab::LabTest {
 protected:
  void SetUp() override {
    add_probes(PROBES_DIR);
    build_file(TOPOLOGIES_DIR "/pair.yaml");
  }
};

TEST_F(UdpEcho, ClientGetsItsEcho) {
  auto server = run_background("b", "udp_echo_probe server 7007");  // ends with the test
  ASSERT_TRUE(server.wait_for({{"event", "ready"}}));
  auto r = run("a", "udp_echo_probe client ${b.eth0.ipv4} 7007 100");
  EXPECT_TRUE(nslab::HasRecord(r, {{"event", "echo"}, {"bytes", 100}}));
}

TEST_F(UdpEcho, WithoutAServerTheClientIsRefused) {
  auto r = run("a", "udp_echo_probe client ${b.eth0.ipv4} 7007 100");
  EXPECT_TRUE(nslab::HasRecord(r, {{"event", "echo"}, {"bytes", 0}, {"error", "ECONNREFUSED"}}));
}
