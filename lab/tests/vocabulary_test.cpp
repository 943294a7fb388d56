// The model's vocabularies (nslab/topology.hpp) and their kernel half (src/lab/kernel_values.hpp):
// every word reads back as its value and prints as itself, no word is spelt twice, every value a
// vocabulary can give has exactly one kernel number, and the loader refuses a word outside it
// with the vocabulary's own list.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "../src/lab/kernel_values.hpp"
#include "nslab/interface_kinds.hpp"
#include "nslab/load.hpp"
#include "nslab/qdisc_kinds.hpp"
#include "nslab/topology.hpp"

using namespace nslab;

namespace {

template <class E, std::size_t N>
void expect_round_trip(const Vocabulary<E, N>& v) {
  std::set<std::string_view> names;
  std::set<E> values;
  for (const auto& w : v) {
    EXPECT_TRUE(names.insert(w.name).second) << v.what() << ": '" << w.name << "' twice";
    EXPECT_TRUE(values.insert(w.value).second) << v.what() << ": a value with two words";
    ASSERT_TRUE(v.parse(w.name)) << w.name;
    EXPECT_EQ(*v.parse(w.name), w.value);
    EXPECT_EQ(v.name(w.value), w.name);
  }
  EXPECT_FALSE(v.parse("")) << v.what();
  EXPECT_FALSE(v.parse(std::string(v.begin()->name) + "x")) << v.what();
}

// The kernel table has one entry per word, and distinct numbers.
template <class E, std::size_t N, class K, std::size_t M>
void expect_complete(const Vocabulary<E, N>& v, const std::pair<E, K> (&table)[M]) {
  EXPECT_EQ(N, M) << v.what();
  std::set<K> numbers;
  for (const auto& w : v) {
    int found = 0;
    for (const auto& [e, k] : table) found += e == w.value;
    EXPECT_EQ(found, 1) << v.what() << " '" << w.name << "' has " << found << " kernel numbers";
    numbers.insert(kernel_value(table, w.value));
  }
  EXPECT_EQ(numbers.size(), N) << v.what() << ": two words give one kernel number";
}

}  // namespace

TEST(Vocabulary, EveryWordReadsBackAndPrintsAsItself) {
  expect_round_trip(kAddressFlags);
  expect_round_trip(kRouteTypes);
  expect_round_trip(kRuleActions);
  expect_round_trip(kNudStates);
  expect_round_trip(kQdiscKinds);
  expect_round_trip(kMacvlanModes);
  expect_round_trip(kIpvlanModes);
  expect_round_trip(kTunModes);
  expect_round_trip(kVxlanDf);
  expect_round_trip(kVirtualKinds);
}

// Every interface kind the model names is in the registry exactly once, with its key table.
TEST(Vocabulary, EveryInterfaceKindIsRegisteredOnce) {
  std::set<VirtualSpec::Kind> seen;
  for (const auto* k : interface_kinds()) {
    EXPECT_TRUE(seen.insert(k->kind).second) << k->name() << " is registered twice";
    EXPECT_EQ(&interface_kind(k->kind), k);
    for (const auto& key : k->keys) EXPECT_NE(key.read, nullptr) << k->name() << " " << key.name;
  }
  for (const auto& w : kVirtualKinds) EXPECT_TRUE(seen.count(w.value)) << w.name << " has no kind";
  std::set<QdiscSpec::Kind> qdiscs;
  for (const auto* k : qdisc_kinds()) {
    EXPECT_TRUE(qdiscs.insert(k->kind).second) << k->name() << " is registered twice";
    for (const auto& key : k->keys) EXPECT_NE(key.read, nullptr) << k->name() << " " << key.name;
  }
  for (const auto& w : kQdiscKinds) EXPECT_TRUE(qdiscs.count(w.value)) << w.name << " has no kind";
}

TEST(Vocabulary, EveryWordHasOneKernelNumber) {
  expect_complete(kAddressFlags, apply::kAddressFlagBits);
  expect_complete(kNudStates, apply::kNudStateValues);
  expect_complete(kMacvlanModes, apply::kMacvlanModeValues);
  expect_complete(kIpvlanModes, apply::kIpvlanModeValues);
  expect_complete(kVxlanDf, apply::kVxlanDfValues);
  // The numbers the kernel's headers give (not only distinct: the right ones).
  EXPECT_EQ(kernel_value(apply::kNudStateValues, NudState::stale), NUD_STALE);
  EXPECT_EQ(kernel_value(apply::kMacvlanModeValues, MacvlanMode::private_mode),
            MACVLAN_MODE_PRIVATE);
  EXPECT_EQ(kernel_value(apply::kVxlanDfValues, VxlanDf::inherit), VXLAN_DF_INHERIT);
  EXPECT_EQ(kernel_value(apply::kAddressFlagBits, AddressFlag::home), IFA_F_HOMEADDRESS);
}

TEST(Vocabulary, RefusalListsTheWordsInOrder) {
  EXPECT_EQ(kNudStates.refusal("incomplete"),
            "neighbour state must be permanent, reachable, stale or noarp, not 'incomplete'");
  EXPECT_EQ(kTunModes.refusal("tunnel"), "tun mode must be one of tun, tap, not 'tunnel'");
}

TEST(Vocabulary, TheModelHoldsTheValueNotTheWord) {
  Topology t = load_topology_text(
      "name: t\nnodes:\n  a:\n"
      "    interfaces:\n      eth0: {ipv6: [{address: 'fd00::1/64', flags: [home, nodad]}]}\n"
      "    neighbours: [{dev: eth0, address: 'fd00::2', lladdr: '02:00:00:00:00:02', state: "
      "stale}]\n"
      "    macvlan: {mv0: {parent: eth0, mode: vepa}}\n"
      "    ipvlan: {ipv0: {parent: eth0}}\n"
      "    tun: {tap0: {mode: tap}}\n"
      "  b: {}\n"
      "links: [{endpoints: [a:eth0, b:eth0]}]\n",
      "<inline>");
  const NodeSpec& a = *t.node("a");
  ASSERT_EQ(a.interfaces.at(0).addresses.at(0).flags.size(), 2u);
  EXPECT_EQ(a.interfaces[0].addresses[0].flags[0].value, AddressFlag::home);
  EXPECT_EQ(a.interfaces[0].addresses[0].flags[1].value, AddressFlag::nodad);
  EXPECT_EQ(a.neighbours.at(0).state.value, NudState::stale);
  ASSERT_EQ(a.virtuals.size(), 3u);
  EXPECT_EQ(a.virtual_interface("mv0")->macvlan_mode.value, MacvlanMode::vepa);
  auto label = [&](const char* name) {
    const VirtualSpec& v = *a.virtual_interface(name);
    return interface_kind(v.kind).label(v);
  };
  EXPECT_EQ(label("mv0"), "vepa");
  // Absent, the kernel's default, and printed as such.
  EXPECT_EQ(a.virtual_interface("ipv0")->ipvlan_mode.value, IpvlanMode::l3);
  EXPECT_EQ(label("ipv0"), "l3");
  EXPECT_EQ(a.virtual_interface("tap0")->tun_mode.value, TunMode::tap);
}
