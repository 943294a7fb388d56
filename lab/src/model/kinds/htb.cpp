// htb: qdisc 1: with one default class 1:1 that carries the rate (and a ceil above it).

#include "qdisc_keys.hpp"

namespace nslab::kinds {

const QdiscKind& htb_kind() {
  static const QdiscKind kind{
      .kind = QdiscSpec::Kind::htb,
      .keys = {{"rate", "'rate'", [](QdiscSpec& q, KeyValue& v) { q.rate = rate_value(v, "rate"); },
                kRateValue},
               {"ceil", nullptr, [](QdiscSpec& q, KeyValue& v) { q.ceil = rate_value(v, "ceil"); },
                std::string(kRateValue) + ", at least the rate (absent: the rate)"},
               {"burst", nullptr,
                [](QdiscSpec& q, KeyValue& v) { q.burst = bytes_value(v, "burst"); }, kBytesValue}},
      .finish =
          [](QdiscSpec& q, Diagnostics& diags) {
            if (q.rate && q.ceil && q.ceil->value < q.rate->value)
              diags.error(q.ceil->pos, "htb ceil cannot be below its rate");
          },
      .label =
          [](const QdiscSpec& q) {
            std::string s = q.rate ? "rate " + rate_text(q.rate->value) : "";
            if (q.ceil) s += (s.empty() ? "" : " ") + ("ceil " + rate_text(q.ceil->value));
            return s;
          },
  };
  return kind;
}

}  // namespace nslab::kinds
