#pragma once
// The kinds of interface a node creates (vxlan, macvlan, the IP tunnels, ...), each a unit: its
// key table (what the loader reads, in the order it is written; the loader's "unknown key" list
// derives from it), what its keys say together, what it can be (a bridge port), what the kernel
// does with it on its own (goes with its lower device) and its words in the graph. One file per
// kind in lab/src/model/kinds/, one line in the registry there (kinds.cpp). The kernel half, the
// rtnetlink request, is lab/src/kernel/kinds/, one file per kind and one registry line too.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nslab/source.hpp"
#include "nslab/topology.hpp"
#include "nslab/vocabulary.hpp"

namespace nslab {

// One key's value as the loader hands it to a kind's reader, without saying what YAML is. Each
// typed read reports its own problem at the value and returns nothing.
class KeyValue {
 public:
  virtual ~KeyValue() = default;
  virtual SourcePos pos() const = 0;
  virtual void error(std::string message) = 0;
  // Known only when the step runs (a ${save.NAME}): a typed read stands for a placeholder.
  virtual bool deferred() const = 0;
  virtual std::optional<std::string> string(const std::string& what) = 0;
  // A plain decimal integer within [min, max].
  virtual std::optional<std::int64_t> integer(const std::string& what, std::int64_t min,
                                              std::int64_t max) = 0;
  // A routing table: a number or main, local, default.
  virtual std::optional<Located<std::uint32_t>> table() = 0;
  // The items of a list, or nothing (and `not_a_list` said) when it is not one.
  virtual std::optional<std::vector<std::unique_ptr<KeyValue>>> items(
      const std::string& not_a_list) = 0;
};

// Typed reads on top of a KeyValue, shared by the kinds.
std::optional<Located<std::string>> ifname_value(KeyValue& v, const std::string& what);
std::optional<Located<IpAddress>> address_value(KeyValue& v, const std::string& key);
template <class T>
std::optional<Located<T>> integer_value(KeyValue& v, const std::string& what, std::int64_t min,
                                        std::int64_t max) {
  if (auto n = v.integer(what, min, max)) return Located<T>{static_cast<T>(*n), v.pos()};
  return std::nullopt;
}
// One word of `words`; a deferred value stands for the first word until the step runs.
template <class E, std::size_t N>
std::optional<Located<E>> word_value(KeyValue& v, const std::string& what,
                                     const Vocabulary<E, N>& words) {
  auto s = v.string(what);
  if (!s) return std::nullopt;
  if (v.deferred()) return Located<E>{words.begin()->value, v.pos()};
  if (auto e = words.parse(*s)) return Located<E>{*e, v.pos()};
  v.error(words.refusal(*s));
  return std::nullopt;
}

struct InterfaceKind {
  struct Key {
    const char* name;
    // When the key is absent: nullptr (optional), or what the error says after "needs ":
    // "'vni'", "'id' (its VNI)".
    const char* needs;
    void (*read)(VirtualSpec& spec, KeyValue& value);
    // What the value is, for the key reference (`nslab kinds`): "an address of the node".
    std::string value;
  };
  VirtualSpec::Kind kind;
  // Empty: the kind takes no settings (`dum0: {}`).
  std::vector<Key> keys;
  // Written under the node's `tunnels:` with `kind: NAME`, not under its own key.
  bool tunnel = false;
  // Whether br_add_if takes it (an Ethernet device); nullptr: never. `bridged_as` names it in
  // the refusal's list when its name does not ("tap" for tun).
  bool (*bridge_port)(const VirtualSpec&) = nullptr;
  const char* bridged_as = nullptr;
  // Its driver deletes it when its lower device (`parent`/`dev`) goes (NETDEV_UNREGISTER).
  bool goes_with_lower = false;
  // After its keys are read: what they say together, and defaults that take the interface's
  // position. Errors at the values' positions.
  void (*finish)(VirtualSpec& spec, Diagnostics& diags) = nullptr;
  // Its words in the graph after its name: "vni 42", "table 10", "l3s".
  std::string (*label)(const VirtualSpec&) = nullptr;

  const char* name() const { return virtual_kind_name(kind); }
};

// The registry: every kind, in the order a node's keys list them (lab/src/model/kinds/kinds.cpp).
const std::vector<const InterfaceKind*>& interface_kinds();
const InterfaceKind& interface_kind(VirtualSpec::Kind kind);

// "dummy, ifb, vxlan, ... and tap": what a bridge may take among them, for the refusal.
std::string bridgeable_kind_names();

// The key reference of `kind` (`nslab kinds`), from its table: how it is written, each key
// with its value and whether it is required, and what the kernel does with it.
std::string interface_kind_reference(const InterfaceKind& kind);

// "set, unset or inherit": a vocabulary's words, for a key's value text.
template <class E, std::size_t N>
std::string words_of(const Vocabulary<E, N>& words) {
  std::vector<std::string_view> names;
  for (const auto& w : words) names.push_back(w.name);
  return or_list(names);
}

}  // namespace nslab
