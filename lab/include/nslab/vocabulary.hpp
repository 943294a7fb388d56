#pragma once
// A closed set of words a user may write for one setting (`state: stale`, `mode: l3s`, `df:
// inherit`), each bound to the enum value the model holds. One table per vocabulary: the loader
// parses with it (and names every word in its message), reports and graphs print with it, so a
// word is spelt in one place and the model never holds a string that must be compared later.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace nslab {

template <class E>
struct Word {
  std::string_view name;
  E value;
};

template <class E, std::size_t N>
class Vocabulary {
 public:
  // How the loader's message lists the words: "must be a, b or c" (the default) or "must be
  // one of a, b, c".
  enum class Listing { or_last, one_of };

  constexpr Vocabulary(std::string_view what, const std::array<Word<E>, N>& words,
                       Listing listing = Listing::or_last)
      : what_(what), words_(words), listing_(listing) {}

  std::string_view what() const { return what_; }  // "neighbour state", for messages
  constexpr std::optional<E> parse(std::string_view s) const {
    for (const auto& w : words_)
      if (w.name == s) return w.value;
    return std::nullopt;
  }
  // The word for `e`; every value of the enum that the model can hold has one.
  constexpr std::string_view name(E e) const {
    for (const auto& w : words_)
      if (w.value == e) return w.name;
    return "?";
  }
  const char* c_str(E e) const { return name(e).data(); }  // the words are literals
  // "must be permanent, reachable, stale or noarp, not 'X'"
  std::string refusal(std::string_view got) const {
    std::string s(what_);
    s += " must be ";
    if (listing_ == Listing::one_of) s += "one of ";
    for (std::size_t i = 0; i < N; ++i) {
      if (i > 0) s += (listing_ == Listing::or_last && i + 1 == N) ? " or " : ", ";
      s += words_[i].name;
    }
    s += ", not '";
    s += got;
    s += "'";
    return s;
  }
  constexpr auto begin() const { return words_.begin(); }
  constexpr auto end() const { return words_.end(); }
  constexpr std::size_t size() const { return N; }

 private:
  std::string_view what_;
  std::array<Word<E>, N> words_;
  Listing listing_;
};

// vocabulary<RouteType>("route type", {{{"unicast", RouteType::unicast}, ...}}): the word count
// is deduced.
template <class E, std::size_t N>
constexpr Vocabulary<E, N> vocabulary(
    std::string_view what, const Word<E> (&words)[N],
    typename Vocabulary<E, N>::Listing listing = Vocabulary<E, N>::Listing::or_last) {
  std::array<Word<E>, N> a{};
  for (std::size_t i = 0; i < N; ++i) a[i] = words[i];
  return Vocabulary<E, N>(what, a, listing);
}

// The kernel's number for a model value: a table of pairs, each vocabulary's kernel half.
template <class E, class V, std::size_t N>
constexpr V kernel_value(const std::pair<E, V> (&table)[N], E e) {
  for (const auto& [k, v] : table)
    if (k == e) return v;
  return table[0].second;  // unreachable for a complete table (each has a test)
}

}  // namespace nslab
