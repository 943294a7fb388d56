// nslab diff (SPEC 8): changed verdicts and fields are found; what differs on every run is not.

#include <gtest/gtest.h>

#include "nslab/diff.hpp"
#include "nslab/report.hpp"

namespace nslab {
namespace {

using Json = nlohmann::ordered_json;

// Two JSON reports, read by the report's reader as `nslab diff` reads them, compared.
ReportDiff diff_json(const Json& a, const Json& b, const DiffOptions& o = {}) {
  return diff_reports(outcomes_from_json(a), outcomes_from_json(b), o);
}

Json report(Json records, const std::string& verdict = "passed", Json volatile_ = Json::array()) {
  Json step = {{"name", "s1"},   {"kind", "run"}, {"ran", true},
               {"passed", true}, {"exit", 0},     {"records", std::move(records)}};
  return {{"scenarios", Json::array({{{"file", "f.yaml"},
                                      {"verdict", verdict},
                                      {"reason", ""},
                                      {"volatile", std::move(volatile_)},
                                      {"steps", Json::array({step})}}})}};
}

TEST(Diff, TwoRunsThatDifferOnlyInVolatileValuesCompareClean) {
  Json a = report(Json::array({{{"event", "ready"},
                                {"pid", 100},
                                {"path", "/tmp/nslab-lab-AbC123/x.sock"},
                                {"name", "@0a1b2"},
                                {"src", "fe80::1c2:3ff:fe44:5566/64"},
                                {"elapsed_us", 17},
                                {"source_port", 40000},
                                {"tx_packets", 3}},
                               {{"event", "b"}, {"n", 1}},
                               {{"event", "b"}, {"n", 2}}}));
  Json b = report(Json::array({{{"event", "ready"},
                                {"pid", 200},
                                {"path", "/tmp/nslab-lab-XyZ789/x.sock"},
                                {"name", "@fffff"},
                                {"src", "fe80::abcd:ef01:2345:6789/64"},
                                {"elapsed_us", 19},
                                {"source_port", 50000},
                                {"tx_packets", 5}},
                               // the same records in another order
                               {{"event", "b"}, {"n", 2}},
                               {{"event", "b"}, {"n", 1}}}));
  ReportDiff d = diff_json(a, b);
  EXPECT_FALSE(d.changed());
  EXPECT_TRUE(d.lines.empty());
}

TEST(Diff, AChangedFieldIsNamedWithBothValues) {
  Json a = report(Json::array({{{"event", "error"}, {"error", "EEXIST"}, {"extack", "x"}}}));
  Json b = report(Json::array({{{"event", "error"}, {"error", "EEXIST"}}}));
  ReportDiff d = diff_json(a, b);
  ASSERT_TRUE(d.changed());
  EXPECT_EQ(d.steps_changed, 1u);
  std::string all;
  for (const auto& l : d.lines) all += l + "\n";
  EXPECT_NE(all.find("extack: \"x\" -> (absent)"), std::string::npos) << all;
}

// Which datagram an error names is a behaviour, not a run's accident: a `seq` is compared (it
// was masked by name, which hid a kernel that blames the wrong datagram).
TEST(Diff, AnErrorNamingAnotherDatagramIsAChange) {
  Json a = report(Json::array(
      {{{"event", "errqueue"}, {"seq", 2}, {"ee_errno", "EMSGSIZE"}, {"seq_from", "payload"}}}));
  Json b = report(Json::array(
      {{{"event", "errqueue"}, {"seq", 4}, {"ee_errno", "EMSGSIZE"}, {"seq_from", "payload"}}}));
  ReportDiff d = diff_json(a, b);
  ASSERT_TRUE(d.changed());
  std::string all;
  for (const auto& l : d.lines) all += l + "\n";
  EXPECT_NE(all.find("seq: 2 -> 4"), std::string::npos) << all;
}

// Multisets by canonical form (issue 22): order is no difference, a record's key order neither,
// and a changed field is still paired with its record among many.
TEST(Diff, ManyRecordsInAnotherOrderCompareCleanAndChangesArePaired) {
  Json many = Json::array(), reversed = Json::array(), changed = Json::array();
  for (int i = 0; i < 3000; ++i) {
    many.push_back({{"event", "x"}, {"n", i}, {"result", "ok"}});
    changed.push_back({{"event", "x"}, {"n", i}, {"result", i % 100 == 7 ? "EPERM" : "ok"}});
  }
  for (int i = 2999; i >= 0; --i) reversed.push_back({{"result", "ok"}, {"n", i}, {"event", "x"}});
  EXPECT_FALSE(diff_json(report(many), report(reversed)).changed());
  ReportDiff d = diff_json(report(many), report(changed));
  ASSERT_TRUE(d.changed());
  const auto& step = d.scenarios[0]["steps"][0];
  EXPECT_EQ(step["changed"].size(), 30u) << step.dump();
  EXPECT_EQ(step["only_in_a"].size(), 0u);
  EXPECT_EQ(step["changed"][0]["fields"]["result"]["b"], "EPERM");
}

TEST(Diff, AChangedVerdictCounts) {
  Json a = report(Json::array()), b = report(Json::array(), "failed");
  EXPECT_EQ(diff_json(a, b).verdicts_changed, 1u);
}

TEST(Diff, IgnoreAndTheScenarioVolatileListMaskMore) {
  Json a =
      report(Json::array({{{"event", "x"}, {"snd_mss", 1199}}, {{"event", "noise"}, {"k", 1}}}));
  Json b = report(Json::array({{{"event", "x"}, {"snd_mss", 1205}}}));
  EXPECT_TRUE(diff_json(a, b).changed());
  DiffOptions o;
  o.ignore = {"snd_mss"};
  EXPECT_TRUE(diff_json(a, b, o).changed());  // the noise record is still only in A
  Json vol = Json::array({"snd_mss", {{"event", "noise"}}});
  a = report(a["scenarios"][0]["steps"][0]["records"], "passed", vol);
  b = report(b["scenarios"][0]["steps"][0]["records"], "passed", vol);
  EXPECT_FALSE(diff_json(a, b).changed());
}

TEST(Diff, AnExtraRecordIsShownAsItselfNotAsAShiftOfTheOthers) {
  Json a = report(Json::array({{{"event", "object"}, {"ifname", "eth0"}, {"mtu", 1500}},
                               {{"event", "object"}, {"ifname", "eth1"}, {"mtu", 1280}}}));
  Json b = report(Json::array({{{"event", "object"}, {"ifname", "gre0"}, {"mtu", 1476}},
                               {{"event", "object"}, {"ifname", "eth0"}, {"mtu", 1500}},
                               {{"event", "object"}, {"ifname", "eth1"}, {"mtu", 1280}}}));
  ReportDiff d = diff_json(a, b);
  ASSERT_EQ(d.lines.size(), 3u);
  EXPECT_NE(d.lines[2].find("only in B: {\"event\":\"object\",\"ifname\":\"gre0\""),
            std::string::npos)
      << d.lines[2];
}

// The structured form (nslab diff --json) holds what the lines say, field by field.
TEST(Diff, TheStructuredFormHoldsEveryChangeWithBothSides) {
  Json a = report(Json::array({{{"event", "error"}, {"error", "EEXIST"}, {"extack", "x"}},
                               {{"event", "object"}, {"ifname", "eth0"}}}));
  Json b = report(Json::array({{{"event", "error"}, {"error", "EPERM"}, {"extack", "x"}},
                               {{"event", "object"}, {"ifname", "eth0"}},
                               {{"event", "object"}, {"ifname", "gre0"}, {"mtu", 1476}}}),
                  "failed");
  b["scenarios"][0]["reason"] = "step 's1': no record matches";
  b["scenarios"].push_back({{"file", "new.yaml"}, {"verdict", "passed"}});
  ReportDiff d = diff_json(a, b);
  ASSERT_EQ(d.scenarios.size(), 2u) << d.scenarios.dump(2);
  const Json& f = d.scenarios[0];
  EXPECT_EQ(f["file"], "f.yaml");
  EXPECT_EQ(f["verdict"],
            Json({{"a", "passed"}, {"b", "failed"}, {"reason_b", "step 's1': no record matches"}}));
  ASSERT_EQ(f["steps"].size(), 1u);
  const Json& st = f["steps"][0];
  EXPECT_EQ(st["name"], "s1");
  EXPECT_EQ(st["changed"],
            Json::array({{{"event", "error"},
                          {"fields", {{"error", {{"a", "EEXIST"}, {"b", "EPERM"}}}}}}}));
  EXPECT_EQ(st["only_in_a"], Json::array());
  EXPECT_EQ(st["only_in_b"],
            Json::array({{{"event", "object"}, {"ifname", "gre0"}, {"mtu", 1476}}}));
  EXPECT_FALSE(st.contains("exit"));
  EXPECT_EQ(d.scenarios[1], Json({{"file", "new.yaml"}, {"only_in", "B"}}));
  // Nothing changed: nothing listed.
  EXPECT_TRUE(diff_json(a, a).scenarios.empty());
}

}  // namespace
}  // namespace nslab
