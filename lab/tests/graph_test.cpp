#include <gtest/gtest.h>

#include "nslab/graph.hpp"
#include "nslab/load.hpp"

using namespace nslab;

TEST(Graph, DotShowsNodesInterfacesLinksAndFirewalls) {
  Topology t = load_topology_file(std::string(NSLAB_TOPOLOGIES) + "/blackhole.yaml");
  std::string dot = topology_dot(t);
  EXPECT_EQ(dot.rfind("graph \"blackhole\" {", 0), 0u);
  EXPECT_NE(dot.find("subgraph \"cluster_router\""), std::string::npos);
  EXPECT_NE(dot.find("router (forwarding)"), std::string::npos);
  EXPECT_NE(dot.find("[nftables]"), std::string::npos);
  EXPECT_NE(dot.find("color=firebrick"), std::string::npos);
  EXPECT_NE(dot.find("\"client:eth0\" -- \"router:eth0\" [label=\"mtu 1500\"]"), std::string::npos);
  EXPECT_NE(dot.find("\"router:eth1\" -- \"server:eth0\" [label=\"mtu 1280\", color=orange]"),
            std::string::npos);
  EXPECT_NE(dot.find("10.0.2.254/24\\nfd00:2::fe/64\\nmtu 1280"), std::string::npos);
  EXPECT_NE(dot.find("default via 10.0.1.254"), std::string::npos);
  EXPECT_EQ(dot.back(), '\n');
}

TEST(Graph, BridgesAreHexagonsWithDashedPorts) {
  Topology t = load_topology_file(std::string(NSLAB_TOPOLOGIES) + "/bridge-lan.yaml");
  std::string dot = topology_dot(t);
  EXPECT_NE(dot.find("\"switch:br0\" [label=\"br0\", shape=hexagon]"), std::string::npos);
  EXPECT_NE(dot.find("\"switch:p3\" -- \"switch:br0\" [style=dashed]"), std::string::npos);
}

TEST(Graph, InterfaceKindsAreComponentsTiedToTheirParents) {
  Topology t = load_topology_file(std::string(NSLAB_TOPOLOGIES) + "/interface-kinds.yaml");
  std::string dot = topology_dot(t);
  EXPECT_NE(dot.find("\"a:vx0\" [label=\"vx0\\n10.9.0.1/24\\n[vxlan vni 7]\\nremote 10.0.1.2\", "
                     "shape=component]"),
            std::string::npos)
      << dot;
  EXPECT_NE(dot.find("[macvlan private]"), std::string::npos);
  EXPECT_NE(dot.find("[tun tap]"), std::string::npos);
  EXPECT_NE(dot.find("\"a:mv0\" -- \"a:eth0\" [style=dotted]"), std::string::npos);
}

TEST(Graph, RoutingObjectsAreListedInTheirNode) {
  Topology t = load_topology_file(std::string(NSLAB_TOPOLOGIES) + "/policy-routing.yaml");
  std::string dot = topology_dot(t);
  EXPECT_NE(dot.find("default via 10.0.2.254 table 100"), std::string::npos) << dot;
  EXPECT_NE(dot.find("blackhole 10.7.0.0/16"), std::string::npos);
  EXPECT_NE(dot.find("\\nrule 100"), std::string::npos);
  EXPECT_NE(dot.find("\\nneigh 10.0.1.9 eth0"), std::string::npos);
}

TEST(Graph, NexthopsMultipathAndQdiscsAreDrawn) {
  Topology t = load_topology_file(std::string(NSLAB_TOPOLOGIES) + "/multipath.yaml");
  std::string dot = topology_dot(t);
  EXPECT_NE(dot.find("\\nnexthop id 10 group 1/2,3"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\\nnexthop id 1 via 10.0.0.2 dev eth0"), std::string::npos);
  EXPECT_NE(dot.find("10.10.0.0/24 nhid 10"), std::string::npos);
  EXPECT_NE(dot.find("10.9.0.0/24 nexthop via 10.0.0.2 weight 1 nexthop via 10.0.1.2 weight 3"),
            std::string::npos);
  EXPECT_NE(dot.find("{tbf rate 1000mbit}"), std::string::npos);
  EXPECT_NE(dot.find("{htb rate 1000mbit}"), std::string::npos);
}

TEST(Graph, VrfPortsAndTunnelsAreDrawn) {
  Topology t = load_topology_text(
      "name: k\nnodes:\n  a:\n    interfaces:\n      eth0: {ipv4: 10.0.0.1/24}\n"
      "      eth1: {ipv4: 10.0.1.1/24}\n    vrf: {blue: {table: 10, ports: [eth1]}}\n"
      "    tunnels: {gre1: {kind: gre, remote: 10.0.0.2}, gnv0: {kind: geneve, id: 5, remote: "
      "10.0.0.2}}\n  b:\n    interfaces:\n      eth0: {ipv4: 10.0.0.2/24}\n"
      "      eth1: {ipv4: 10.0.1.2/24}\nlinks:\n  - [a:eth0, b:eth0]\n  - [a:eth1, b:eth1]\n",
      "<inline>");
  std::string dot = topology_dot(t);
  EXPECT_NE(dot.find("[vrf table 10]"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"a:eth1\" -- \"a:blue\" [style=dashed]"), std::string::npos);
  EXPECT_NE(dot.find("[gre]\\nremote 10.0.0.2"), std::string::npos);
  EXPECT_NE(dot.find("[geneve id 5]"), std::string::npos);
}
