#include "nslab/diff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <unordered_map>

#include "nslab/match.hpp"

namespace nslab {

using Json = nlohmann::ordered_json;

namespace {

// Fields whose value differs on every run, whatever the kernel: identities the kernel hands out
// (pids, namespace and pidfd inodes, netlink port ids, qdisc handles), times and durations,
// kernel-chosen ports, traffic counters that background IPv6 moves, TCP's loss-recovery
// counters (how many segments a shaper or a blackhole dropped is timing), and sigpending
// (counted per uid, so other processes' signals show). Matched by the field's own name at any
// depth.
constexpr std::string_view kMaskedNames[] = {
    "pid",         "tid",       "ppid",         "pgid",       "child_pid",      "sender_pid",
    "netns",       "own_netns", "socket_netns", "ino",        "pidfd_ino",      "inode",
    "port_id",     "portid",    "nl_pid",       "handle",     "lladdr",         "mac",
    "source_port", "src_port",  "local_port",   "sport",      "ephemeral_port", "sigpending",
    "micros",      "elapsed",   "time",         "timestamp",  "tcp_ext",        "total_retrans",
    "retransmits", "probes",    "reord_seen",   "dsack_dups", "reordering"};
// Suffixes of durations and prefixes of traffic counters.
constexpr std::string_view kMaskedSuffixes[] = {"_ms", "_us", "_ns", "_lft"};
constexpr std::string_view kMaskedPrefixes[] = {"rx_", "tx_"};

bool masked_name(std::string_view name, const std::vector<std::string>& extra) {
  for (auto n : kMaskedNames)
    if (name == n) return true;
  for (auto s : kMaskedSuffixes)
    if (name.size() > s.size() && name.substr(name.size() - s.size()) == s) return true;
  for (auto p : kMaskedPrefixes)
    if (name.substr(0, p.size()) == p) return true;
  return std::find(extra.begin(), extra.end(), name) != extra.end();
}

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// Values that are random by design, whatever field holds them.
std::string mask_value(const std::string& v) {
  std::string out = v;
  // A lab's private folder: /tmp/nslab-lab-XXXXXX.
  for (auto at = out.find("nslab-lab-"); at != std::string::npos;
       at = out.find("nslab-lab-", at + 1))
    if (at + 16 <= out.size()) out.replace(at + 10, 6, "XXXXXX");
  // An autobound abstract Unix name: '@' and five hex digits.
  if (out.size() == 6 && out[0] == '@' && is_hex(std::string_view(out).substr(1)))
    return "@<autobind>";
  // A link-local IPv6 address made from a random MAC (or a random interface id).
  if (out.rfind("fe80::", 0) == 0) {
    auto slash = out.find('/');
    auto percent = out.find('%');
    auto end = std::min(slash, percent);
    return "fe80::<random>" + (end == std::string::npos ? "" : out.substr(end));
  }
  return out;
}

void mask_into(const Json& in, Json& out, const std::vector<std::string>& extra) {
  if (in.is_object()) {
    out = Json::object();
    for (const auto& [k, v] : in.items()) {
      if (masked_name(k, extra)) continue;
      mask_into(v, out[k], extra);
    }
  } else if (in.is_array()) {
    out = Json::array();
    for (const auto& v : in) {
      Json m;
      mask_into(v, m, extra);
      out.push_back(std::move(m));
    }
  } else if (in.is_string()) {
    out = mask_value(in.get<std::string>());
  } else {
    out = in;
  }
}

// "a.b" = value, for every leaf of a masked record.
void flatten(const Json& j, const std::string& prefix, std::map<std::string, Json>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
    return;
  }
  out[prefix] = j;
}

std::string label_of(const Json& r) {
  std::string ev = r.is_object() && r.contains("event") && r["event"].is_string()
                       ? r["event"].get<std::string>()
                       : "?";
  return ev;
}

// A masked record as one string whatever the order of its keys: JSON with every object's keys
// sorted. (Records nest at most kMaxReportDepth levels, so the recursion is bounded.)
// Masked as it is written (as mask_record would, without building the masked copy).
void canonical_into(const Json& j, const std::vector<std::string>& extra, std::string& out) {
  if (j.is_object()) {
    std::vector<const std::pair<const std::string, Json>*> items;
    items.reserve(j.size());
    for (const auto& kv : j.get_ref<const Json::object_t&>())
      if (!masked_name(kv.first, extra)) items.push_back(&kv);
    std::sort(items.begin(), items.end(), [](auto* x, auto* y) { return x->first < y->first; });
    out += '{';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out += ',';
      out += Json(items[i]->first).dump(-1, ' ', false, Json::error_handler_t::replace);
      out += ':';
      canonical_into(items[i]->second, extra, out);
    }
    out += '}';
  } else if (j.is_array()) {
    out += '[';
    for (std::size_t i = 0; i < j.size(); ++i) {
      if (i) out += ',';
      canonical_into(j[i], extra, out);
    }
    out += ']';
  } else if (j.is_string()) {
    out += Json(mask_value(j.get_ref<const std::string&>()))
               .dump(-1, ' ', false, Json::error_handler_t::replace);
  } else {
    out += j.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
}

std::string canonical(const Json& record, const std::vector<std::string>& extra) {
  std::string out;
  canonical_into(record, extra, out);
  return out;
}

std::string show(const Json& j) {
  return j.is_null() ? "(absent)" : j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string show(const std::optional<int>& v) {
  return v ? std::to_string(*v) : "(absent)";
}

// Two reports read by the report's one reader (outcomes_from_json), compared.
class Differ {
 public:
  Differ(const DiffOptions& o, ReportDiff& d) : o_(o), d_(d) {}

  void scenarios(const std::vector<ScenarioOutcome>& a, const std::vector<ScenarioOutcome>& b) {
    std::map<std::string, const ScenarioOutcome*> in_b;
    for (const auto& s : b) in_b[s.file] = &s;
    std::set<std::string> seen;
    for (const auto& sa : a) {
      seen.insert(sa.file);
      auto it = in_b.find(sa.file);
      if (it == in_b.end()) {
        only_in(sa.file, "A");
        continue;
      }
      scenario(sa, *it->second);
    }
    for (const auto& [file, sb] : in_b)
      if (!seen.count(file)) only_in(file, "B");
  }

 private:
  void only_in(const std::string& file, const char* side) {
    ++d_.only_one_side;
    d_.lines.push_back(fmt::format("{}: only in {}", file, side));
    d_.scenarios.push_back({{"file", file}, {"only_in", side}});
  }

  void verdicts(const ScenarioOutcome& a, const ScenarioOutcome& b, std::vector<std::string>& lines,
                Json& out) {
    const std::string va = verdict_name(a.verdict), vb = verdict_name(b.verdict);
    ++d_.verdicts_changed;
    lines.push_back(fmt::format("  verdict: {} -> {}", va, vb));
    Json v = {{"a", va}, {"b", vb}};
    if (b.verdict != Verdict::passed && !b.reason.empty()) {
      lines.push_back(fmt::format("    B: {}", b.reason));
      v["reason_b"] = b.reason;
    }
    if (a.verdict != Verdict::passed && !a.reason.empty()) {
      lines.push_back(fmt::format("    A: {}", a.reason));
      v["reason_a"] = a.reason;
    }
    out["verdict"] = std::move(v);
  }

  void scenario(const ScenarioOutcome& a, const ScenarioOutcome& b) {
    std::vector<std::string> lines;
    Json out = {{"file", a.file}};
    if (a.verdict != b.verdict) verdicts(a, b, lines, out);
    Json steps = Json::array();
    // Both skipped, or one side never ran its steps: there is nothing more to compare.
    if (a.verdict != Verdict::skipped && b.verdict != Verdict::skipped) {
      std::vector<std::string> extra = o_.ignore;
      std::vector<Json> drop;
      for (const ScenarioOutcome* s : {&a, &b})
        for (const auto& v : s->volatile_) {
          if (v.is_string()) extra.push_back(v.get<std::string>());
          if (v.is_object()) drop.push_back(v);
        }
      std::map<std::string, const StepOutcome*> steps_b;
      for (const auto& st : b.steps) steps_b[st.name] = &st;
      for (const auto& st : a.steps) {
        auto it = steps_b.find(st.name);
        if (it == steps_b.end()) continue;
        step(st, *it->second, extra, drop, lines, steps);
      }
    }
    if (lines.empty()) return;
    d_.lines.push_back(a.file + ":");
    d_.lines.insert(d_.lines.end(), lines.begin(), lines.end());
    out["steps"] = std::move(steps);
    d_.scenarios.push_back(std::move(out));
  }

  void step(const StepOutcome& a, const StepOutcome& b, const std::vector<std::string>& extra,
            const std::vector<Json>& drop, std::vector<std::string>& out, Json& steps) {
    std::vector<std::string> lines;
    // A step one side never ran (an earlier step failed) is told by the verdict already.
    if (!a.ran || !b.ran) return;
    Json sj = {{"name", a.name}};
    if (a.passed != b.passed) {
      lines.push_back(fmt::format("passed {} -> {}", a.passed, b.passed));
      sj["passed"] = {{"a", a.passed}, {"b", b.passed}};
    }
    if (a.expect_kernel != b.expect_kernel) {
      lines.push_back(
          fmt::format("expectation for kernel '{}' -> '{}'", a.expect_kernel, b.expect_kernel));
      sj["expect_kernel"] = {{"a", a.expect_kernel}, {"b", b.expect_kernel}};
    }
    // A background step still running at the scenario's end is stopped by nslab (143); one
    // that ended first has its own status: which came first is timing, not behaviour.
    if (a.exit_status != b.exit_status && a.kind != "background") {
      lines.push_back(fmt::format("exit {} -> {}", show(a.exit_status), show(b.exit_status)));
      auto value = [](const std::optional<int>& v) { return v ? Json(*v) : Json(); };
      sj["exit"] = {{"a", value(a.exit_status)}, {"b", value(b.exit_status)}};
    }
    records(a.records, b.records, extra, drop, lines, sj);
    if (lines.empty()) return;
    steps.push_back(std::move(sj));
    ++d_.steps_changed;
    out.push_back(fmt::format("  step '{}':", a.name));
    std::size_t shown = std::min(lines.size(), o_.max_per_step);
    for (std::size_t i = 0; i < shown; ++i) out.push_back("    " + lines[i]);
    if (lines.size() > shown)
      out.push_back(fmt::format("    ... and {} more", lines.size() - shown));
  }

  // Records are compared per event, as multisets: order within a step is not a behaviour the
  // diff asserts (dumps and concurrent sockets reorder). Equal records (after masking, by a
  // canonical form: keys sorted) cancel, in linear time; what remains is paired by likeness,
  // each record against at most kPairWindow candidates, and the rest is listed as one-sided.
  // So a step of 200,000 records costs a few hundred milliseconds, whatever their order.
  static constexpr std::size_t kPairWindow = 64;

  // Per event, the records (unmasked, by pointer) and their canonical masked forms.
  struct Side {
    std::vector<const Json*> records;
    std::vector<std::string> forms;
  };

  void records(const std::vector<Json>& a, const std::vector<Json>& b,
               const std::vector<std::string>& extra, const std::vector<Json>& drop,
               std::vector<std::string>& lines, Json& sj) {
    // Filled as locals and moved in at the end: references into an ordered_json would dangle
    // once another key is added.
    Json changed = Json::array(), only_a = Json::array(), only_b = Json::array();
    std::map<std::string, Side> ga, gb;
    auto group = [&](const std::vector<Json>& list, std::map<std::string, Side>& g) {
      for (const auto& r : list) {
        if (std::any_of(drop.begin(), drop.end(),
                        [&](const Json& p) { return record_matches(p, r); }))
          continue;
        Side& side = g[label_of(r)];
        side.records.push_back(&r);
        side.forms.push_back(canonical(r, extra));
      }
    };
    group(a, ga);
    group(b, gb);
    std::set<std::string> events;
    for (const auto& [k, v] : ga) events.insert(k);
    for (const auto& [k, v] : gb) events.insert(k);
    for (const auto& ev : events) {
      std::vector<Json> ra, rb;
      cancel_equal(ga[ev], gb[ev], extra, ra, rb);
      std::vector<std::map<std::string, Json>> flat_a(ra.size()), flat_b(rb.size());
      for (std::size_t i = 0; i < ra.size(); ++i) flatten(ra[i], "", flat_a[i]);
      for (std::size_t i = 0; i < rb.size(); ++i) flatten(rb[i], "", flat_b[i]);
      std::vector<bool> taken(rb.size(), false);
      std::vector<std::size_t> left_a;
      std::size_t first_free = 0;  // every j below it is taken
      for (std::size_t i = 0; i < ra.size(); ++i) {
        while (first_free < rb.size() && taken[first_free]) ++first_free;
        std::size_t j = likeliest(flat_a[i], flat_b, taken, first_free);
        if (j == rb.size()) {
          left_a.push_back(i);
          continue;
        }
        taken[j] = true;
        changed.push_back(changed_fields(ev, flat_a[i], flat_b[j], lines));
      }
      for (std::size_t i : left_a) {
        lines.push_back(fmt::format("only in A: {}", show(ra[i])));
        only_a.push_back(ra[i]);
      }
      for (std::size_t j = 0; j < rb.size(); ++j)
        if (!taken[j]) {
          lines.push_back(fmt::format("only in B: {}", show(rb[j])));
          only_b.push_back(rb[j]);
        }
    }
    sj["changed"] = std::move(changed);
    sj["only_in_a"] = std::move(only_a);
    sj["only_in_b"] = std::move(only_b);
  }

  // Equal canonical forms cancel; only what is left is masked into records to compare.
  static void cancel_equal(const Side& sa, const Side& sb, const std::vector<std::string>& extra,
                           std::vector<Json>& ra, std::vector<Json>& rb) {
    std::unordered_map<std::string_view, std::vector<std::size_t>> in_b;
    in_b.reserve(sb.forms.size());
    std::vector<bool> matched_b(sb.forms.size(), false);
    for (std::size_t j = sb.forms.size(); j-- > 0;) in_b[sb.forms[j]].push_back(j);
    for (std::size_t i = 0; i < sa.forms.size(); ++i) {
      auto it = in_b.find(sa.forms[i]);
      if (it != in_b.end() && !it->second.empty()) {
        matched_b[it->second.back()] = true;
        it->second.pop_back();
      } else {
        ra.push_back(mask_record(*sa.records[i], extra));
      }
    }
    for (std::size_t j = 0; j < sb.forms.size(); ++j)
      if (!matched_b[j]) rb.push_back(mask_record(*sb.records[j], extra));
  }

  // What remains is paired by likeness (the most fields equal), so that a dump that gained one
  // object shows that object, not a shift of every object after it: the untaken record of `bs`
  // most like `a` among the first kPairWindow untaken ones, or bs.size() when none has at least
  // half its fields alike (not the same object, but one on each side).
  static std::size_t likeliest(const std::map<std::string, Json>& a,
                               const std::vector<std::map<std::string, Json>>& bs,
                               const std::vector<bool>& taken, std::size_t first_free) {
    std::size_t best = bs.size(), best_score = 0, looked = 0;
    for (std::size_t j = first_free; j < bs.size() && looked < kPairWindow; ++j) {
      if (taken[j]) continue;
      ++looked;
      std::size_t score = 0;
      for (const auto& [k, v] : a)
        if (auto it = bs[j].find(k); it != bs[j].end() && it->second == v) ++score;
      if (score > best_score) best = j, best_score = score;
    }
    if (best == bs.size() || best_score * 2 < std::max(a.size(), bs[best].size())) return bs.size();
    return best;
  }

  static Json changed_fields(const std::string& ev, const std::map<std::string, Json>& fa,
                             const std::map<std::string, Json>& fb,
                             std::vector<std::string>& lines) {
    std::set<std::string> keys;
    for (const auto& [k, v] : fa) keys.insert(k);
    for (const auto& [k, v] : fb) keys.insert(k);
    std::string all;
    Json fields = Json::object();
    for (const auto& k : keys) {
      auto x = fa.find(k), y = fb.find(k);
      Json vx = x != fa.end() ? x->second : Json(), vy = y != fb.end() ? y->second : Json();
      if (vx == vy) continue;
      all += fmt::format("{}{}: {} -> {}", all.empty() ? "" : ", ", k, show(vx), show(vy));
      fields[k] = {{"a", vx}, {"b", vy}};
    }
    lines.push_back(fmt::format("{{event: {}}} {}", ev, all));
    return {{"event", ev}, {"fields", std::move(fields)}};
  }

  const DiffOptions& o_;
  ReportDiff& d_;
};

}  // namespace

std::string default_masks_text() {
  std::string names;
  for (auto n : kMaskedNames) names += (names.empty() ? "" : ", ") + std::string(n);
  return fmt::format(
      "fields named {}; names ending in _ms, _us, _ns or _lft; names starting with rx_ or tx_; "
      "values: lab folders (nslab-lab-XXXXXX), autobound Unix names (@ and 5 hex digits), "
      "link-local IPv6 addresses (fe80::)",
      names);
}

Json mask_record(const Json& record, const std::vector<std::string>& extra) {
  Json out;
  mask_into(record, out, extra);
  return out;
}

ReportDiff diff_reports(const std::vector<ScenarioOutcome>& a,
                        const std::vector<ScenarioOutcome>& b, const DiffOptions& options) {
  ReportDiff d;
  Differ(options, d).scenarios(a, b);
  return d;
}

}  // namespace nslab
