#pragma once
// What a kind's key table is made of, for every kind of object that is one (the interface kinds,
// nslab/interface_kinds.hpp; the qdisc kinds, nslab/qdisc_kinds.hpp): a key, what its absence
// says, a reader of its value, and the text of its value for the key reference. The loader hands
// each value to its reader as a KeyValue, so a kind's file knows nothing of YAML.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nslab/ip.hpp"
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
  // The value as written, for messages ("rate '20gbit' must be ...").
  virtual std::string text() const = 0;
  // DIGITS[.DIGITS] and one of `units` (suffix, factor): the number times the factor;
  // `expected` ends the refusal "WHAT 'TEXT' must be ...".
  virtual std::optional<double> quantity(const std::string& what,
                                         std::span<const std::pair<const char*, double>> units,
                                         const char* expected) = 0;
  // DIGITS[.DIGITS] and ms, s or m; at least 1 ms and at most 24 hours.
  virtual std::optional<std::chrono::milliseconds> duration(const std::string& what) = 0;
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

template <class Spec>
struct KindKey {
  const char* name;
  // When the key is absent: nullptr (optional), or what the error says after "needs ":
  // "'vni'", "'id' (its VNI)".
  const char* needs;
  void (*read)(Spec& spec, KeyValue& value);
  // What the value is, for the key reference (`nslab kinds`): "an address of the node".
  std::string value;
};

// "set, unset or inherit": a vocabulary's words, for a key's value text.
template <class E, std::size_t N>
std::string words_of(const Vocabulary<E, N>& words) {
  std::vector<std::string_view> names;
  for (const auto& w : words) names.push_back(w.name);
  return or_list(names);
}

}  // namespace nslab
