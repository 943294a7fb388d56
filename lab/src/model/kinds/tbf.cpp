// tbf: the token bucket filter, a rate with a burst and a latency bound (all three required, as
// tc's).

#include "qdisc_keys.hpp"

namespace nslab::kinds {

const QdiscKind& tbf_kind() {
  static const QdiscKind kind{
      .kind = QdiscSpec::Kind::tbf,
      .keys = {{"rate", "'rate'", [](QdiscSpec& q, KeyValue& v) { q.rate = rate_value(v, "rate"); },
                kRateValue},
               {"burst", "'burst'",
                [](QdiscSpec& q, KeyValue& v) { q.burst = bytes_value(v, "burst"); }, kBytesValue},
               {"latency", "'latency'",
                [](QdiscSpec& q, KeyValue& v) { q.latency = time_value(v, "latency"); },
                kTimeValue}},
      .label =
          [](const QdiscSpec& q) {
            return q.rate ? "rate " + rate_text(q.rate->value) : std::string();
          },
  };
  return kind;
}

}  // namespace nslab::kinds
