// netem: delay (with jitter), loss and a queue limit, as `tc qdisc ... netem`.

#include "qdisc_keys.hpp"

namespace nslab::kinds {

namespace {
void loss(QdiscSpec& q, KeyValue& v) {
  static constexpr std::pair<const char*, double> kPercent[] = {{"%", 1}};
  auto p = v.quantity("loss", kPercent, "a percentage like 1% or 0.5%");
  if (!p) return;
  if (*p > 100)
    v.error(fmt::format("loss '{}' must be at most 100%", v.text()));
  else
    q.loss = Located<double>{*p, v.pos()};
}
}  // namespace

const QdiscKind& netem_kind() {
  static const QdiscKind kind{
      .kind = QdiscSpec::Kind::netem,
      .keys = {{"delay", nullptr,
                [](QdiscSpec& q, KeyValue& v) { q.delay = time_value(v, "delay"); }, kTimeValue},
               {"jitter", nullptr,
                [](QdiscSpec& q, KeyValue& v) { q.jitter = time_value(v, "jitter"); },
                std::string(kTimeValue) + ", with delay"},
               {"loss", nullptr, loss, "a percentage, 0-100%"},
               {"limit", nullptr,
                [](QdiscSpec& q, KeyValue& v) {
                  q.limit = integer_value<std::uint32_t>(v, "limit (packets)", 1, 0xffffffffLL);
                },
                "the queue's length in packets"}},
      .finish =
          [](QdiscSpec& q, Diagnostics& diags) {
            if (q.jitter && !q.delay) diags.error(q.jitter->pos, "netem jitter needs 'delay'");
          },
      .label =
          [](const QdiscSpec& q) {
            std::string s;
            auto add = [&](const std::string& w) { s += (s.empty() ? "" : " ") + w; };
            if (q.delay) add(fmt::format("delay {}ms", q.delay->value.count()));
            if (q.loss) add(fmt::format("loss {}%", q.loss->value));
            return s;
          },
  };
  return kind;
}

}  // namespace nslab::kinds
