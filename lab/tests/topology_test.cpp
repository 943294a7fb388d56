// The model and loader on good input: every bundled topology, and the details of the model that
// the builder relies on.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "nslab/load.hpp"
#include "nslab/scenario.hpp"

namespace fs = std::filesystem;
using namespace nslab;

namespace {

Topology bundled(const std::string& name) {
  return load_topology_file(std::string(NSLAB_TOPOLOGIES) + "/" + name + ".yaml");
}

TEST(BundledTopologies, AllValidate) {
  int n = 0;
  for (const auto& e : fs::directory_iterator(NSLAB_TOPOLOGIES)) {
    if (e.path().extension() != ".yaml") continue;
    ++n;
    EXPECT_NO_THROW(load_topology_file(e.path().string())) << e.path();
  }
  EXPECT_GE(n, 5);
}

// Every bundled scenario loads, and runs nslab's own probes: a scenario says what the kernel does
// through nslab alone, never through `ip`, `tc`, `python3` or a shell (issue 12). One labelled
// `peer-test` ports a test of the field and names where it comes from in its description.
TEST(BundledScenarios, RunOnlyProbesAndRealClientsAndNameTheirPeerTests) {
  const std::set<std::string> forbidden = {"ip", "tc", "python3", "python", "sh", "bash", "dash"};
  int scenarios = 0, peer_tests = 0;
  for (const auto& e : fs::recursive_directory_iterator(NSLAB_SCENARIOS)) {
    if (e.path().extension() != ".yaml") continue;
    ++scenarios;
    Scenario s = load_scenario_file(e.path().string());
    for (const auto& step : s.steps) {
      if (step.kind != StepSpec::Kind::run) continue;
      std::string program = step.command.value.substr(0, step.command.value.find(' '));
      EXPECT_EQ(forbidden.count(program), 0u)
          << e.path() << ": step " << step.name << " runs " << program;
    }
    if (std::find(s.labels.begin(), s.labels.end(), "peer-test") == s.labels.end()) continue;
    ++peer_tests;
    bool named = s.description.find("pmtu.sh") != std::string::npos ||
                 s.description.find("rtnetlink.sh") != std::string::npos ||
                 s.description.find("net/af_unix/") != std::string::npos ||
                 s.description.find("udpgso.c") != std::string::npos ||
                 s.description.find("udp_socket.cc") != std::string::npos;
    EXPECT_TRUE(named) << e.path() << " is a peer test but names no test file";
  }
  EXPECT_GE(scenarios, 90);
  EXPECT_GE(peer_tests, 15);
}

TEST(RouterLowMtu, ModelCarriesMtusAddressesAndRoutes) {
  Topology t = bundled("router-lowmtu");
  EXPECT_EQ(t.name, "router-lowmtu");
  ASSERT_EQ(t.nodes.size(), 3u);
  EXPECT_EQ(t.effective_mtu("client", "eth0"), 1500);
  EXPECT_EQ(t.effective_mtu("router", "eth1"), 1280);
  EXPECT_EQ(t.effective_mtu("server", "eth0"), 1280);
  const NodeSpec* router = t.node("router");
  ASSERT_NE(router, nullptr);
  EXPECT_TRUE(router->forwarding);
  EXPECT_EQ(router->interface("eth1")->first(Family::ipv4)->str(), "10.0.2.254");
  EXPECT_EQ(router->interface("eth1")->first(Family::ipv6)->str(), "fd00:2::fe");
  const NodeSpec* client = t.node("client");
  ASSERT_EQ(client->routes.size(), 2u);
  EXPECT_TRUE(client->routes[0].is_default);
  EXPECT_EQ(client->routes[0].family, Family::ipv4);
  EXPECT_EQ(client->routes[1].family, Family::ipv6);
  EXPECT_EQ(client->routes[1].via->value.str(), "fd00:1::fe");
}

TEST(Positions, AreOneBasedAndPointAtTheValue) {
  Topology t = load_topology_text(
      "name: t\nnodes:\n  a:\n    interfaces:\n      e0: {ipv4: 10.0.0.1/24}\n"
      "  b: {}\nlinks:\n  - [a:e0, b:e0]\n",
      "mem.yaml");
  const auto& addr = t.node("a")->interface("e0")->addresses.at(0);
  EXPECT_EQ(addr.pos.str(), "mem.yaml:5:18");
  EXPECT_EQ(t.links.at(0).a.pos.str(), "mem.yaml:8:6");
}

TEST(Nftables, BlockScalarMapsRulesetLinesToFileLines) {
  Topology t = bundled("blackhole");
  const auto& nft = t.node("router")->nftables;
  ASSERT_TRUE(nft.has_value());
  // "nftables: |" is on line 16; the ruleset starts on the next line, indented by 6.
  EXPECT_EQ(nft->pos.line, 16);
  EXPECT_EQ(nft->first_line, 17);
  EXPECT_EQ(nft->indent, 6);
  EXPECT_EQ(nft->text.rfind("table inet blackhole {", 0), 0u);
}

TEST(Bridges, PortsAndCreatedInterfaces) {
  Topology t = bundled("bridge-lan");
  auto ifs = t.created_interfaces("switch");
  EXPECT_EQ(ifs, (std::vector<std::string>{"p1", "p2", "p3", "p4", "br0"}));
  ASSERT_NE(t.node("switch")->bridge("br0"), nullptr);
  EXPECT_EQ(t.node("switch")->bridge("br0")->ports.size(), 4u);
  EXPECT_EQ(t.effective_mtu("switch", "br0"), std::nullopt);  // the kernel derives it
}

TEST(Validation, DuplicateNodesInAProgrammaticModel) {
  Topology t;
  t.file = "code";
  t.name = "t";
  t.nodes.push_back({.name = "a", .pos = {"code", 1, 1}});
  t.nodes.push_back({.name = "a", .pos = {"code", 2, 1}});
  Diagnostics d;
  validate_topology(t, d);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d.items()[0].str(), "code:2:1: duplicate node 'a' (first at 1:1)");
}

TEST(Validation, LinkLocalGatewayWithDevIsAccepted) {
  EXPECT_NO_THROW(load_topology_text(
      "name: t\nnodes:\n  a:\n    interfaces:\n      e0: {ipv6: \"fd00::1/64\"}\n    routes:\n"
      "      - {to: default, via: \"fe80::1\", dev: e0}\n  b: {}\nlinks:\n  - [a:e0, b:e0]\n"));
}

TEST(Validation, SameNodeLinkAndLoopbackAddressesAreAccepted) {
  Topology t = load_topology_text(
      "name: t\nnodes:\n  a:\n    interfaces:\n      lo: {ipv4: 10.9.9.9/32}\n"
      "      x: {ipv4: 10.0.0.1/24}\n      y: {ipv4: 10.0.0.2/24}\nlinks:\n  - [a:x, a:y]\n");
  EXPECT_EQ(t.created_interfaces("a"), (std::vector<std::string>{"x", "y"}));
}

// The kernel allows one address in two namespaces, or on two interfaces of one; only twice on
// one interface is it EEXIST.
TEST(Validation, OneAddressInTwoNodesIsAccepted) {
  Topology t = load_topology_text(
      "name: t\nnodes:\n  a:\n    interfaces:\n      eth0: {ipv4: 10.0.0.1/24, ipv6: "
      "\"fd00::1/64\"}\n"
      "      lo: {ipv4: 10.0.0.1/32}\n  b:\n    interfaces:\n"
      "      eth0: {ipv4: 10.0.0.1/24, ipv6: \"fd00::1/64\"}\nlinks:\n  - [a:eth0, b:eth0]\n");
  EXPECT_EQ(t.nodes.size(), 2u);
}

// A bridge port may be an Ethernet device the node creates; a layer-3 one is refused.
TEST(Validation, AVxlanIsABridgePortATunIsNot) {
  Topology t = bundled("vxlan-bridged");
  ASSERT_NE(t.node("s1")->bridge("br0"), nullptr);
  EXPECT_EQ(t.node("s1")->bridge("br0")->ports.size(), 2u);
  try {
    load_topology_text(
        "name: t\nnodes:\n  a:\n    tun: {tun0: {mode: tun}}\n    bridges:\n"
        "      br0: {ports: [tun0]}\n");
    ADD_FAILURE() << "a tun-mode device was accepted as a bridge port";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("bridge port 'tun0' is a tun in tun mode"));
  }
}

}  // namespace
