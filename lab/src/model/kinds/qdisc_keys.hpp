#pragma once
// Internal: the keys the qdisc kinds share (rates, sizes, times), each a reader for KindKey.

#include <fmt/format.h>

#include "nslab/qdisc_kinds.hpp"

namespace nslab::kinds {

// tc's rates: bit, kbit, mbit, gbit (bits per second, 1000-based) or bps, kbps, mbps, gbps
// (bytes per second). libnl takes tbf rates as an int of bytes per second, without the 64-bit
// attributes: at most 16gbit.
inline std::optional<Located<std::uint64_t>> rate_value(KeyValue& v, const char* key) {
  static constexpr std::pair<const char*, double> kUnits[] = {
      {"bit", 1}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9},
      {"bps", 8}, {"kbps", 8e3}, {"mbps", 8e6}, {"gbps", 8e9}};
  auto bits =
      v.quantity(key, kUnits, "a rate like 10mbit, 512kbit or 1gbit (bps: bytes per second)");
  if (!bits) return std::nullopt;
  if (*bits < 8 || *bits > 16e9) {
    v.error(fmt::format("{} '{}' must be between 8bit and 16gbit", key, v.text()));
    return std::nullopt;
  }
  return Located<std::uint64_t>{static_cast<std::uint64_t>(*bits), v.pos()};
}
inline constexpr const char* kRateValue = "a rate: 8bit-16gbit (bit, kbit, mbit, gbit; bps ...)";

inline std::optional<Located<std::uint32_t>> bytes_value(KeyValue& v, const char* key) {
  static constexpr std::pair<const char*, double> kUnits[] = {
      {"b", 1}, {"kb", 1024}, {"mb", 1024 * 1024}};
  auto n = v.quantity(key, kUnits, "a size like 1500b, 32kb or 1mb");
  if (!n) return std::nullopt;
  if (*n < 1 || *n > 1 << 30) {
    v.error(fmt::format("{} '{}' must be between 1b and 1024mb", key, v.text()));
    return std::nullopt;
  }
  return Located<std::uint32_t>{static_cast<std::uint32_t>(*n), v.pos()};
}
inline constexpr const char* kBytesValue = "a size: 1b-1024mb (b, kb, mb)";

inline std::optional<Located<std::chrono::milliseconds>> time_value(KeyValue& v, const char* key) {
  if (auto d = v.duration(key)) return Located<std::chrono::milliseconds>{*d, v.pos()};
  return std::nullopt;
}
inline constexpr const char* kTimeValue = "a duration: 1ms-24h (ms, s, m)";

// "10mbit", "512kbit", "1500bit": a rate as the graph shows it.
inline std::string rate_text(std::uint64_t bits) {
  return bits % 1000000 == 0 ? fmt::format("{}mbit", bits / 1000000) : fmt::format("{}bit", bits);
}

}  // namespace nslab::kinds
