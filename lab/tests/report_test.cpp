// The JSON report has one writer (outcomes_json) and one reader (outcomes_from_json): what is
// written reads back to the same outcomes, so that the matrix's JUnit (written from each
// kernel's JSON report) is the run's own JUnit, byte for byte.

#include <gtest/gtest.h>
#include <signal.h>

#include "nslab/error.hpp"
#include "nslab/report.hpp"

using namespace nslab;

namespace {

std::vector<ScenarioOutcome> sample() {
  ScenarioOutcome a;
  a.file = "scenarios/pmtu/frag.yaml";
  a.name = "pmtu-frag";
  a.labels = {"pmtu", "ipv4"};
  a.verdict = Verdict::failed;
  a.reason = "step 'send': no record matches <{\"event\":\"x\"}> & more";
  a.build_ms = 4.5;
  a.ms = 120.25;
  StepOutcome s;
  s.name = "send";
  s.kind = "run";
  s.node = "client";
  s.command = "pmtu_udp --dst 10.0.2.2";
  s.ran = true;
  s.passed = false;
  s.reason = "killed by SIGSEGV";
  s.details = {"closest records:", "  {\"event\":\"send\"}"};
  s.records = {Json{{"event", "send"}, {"seq", 1}}};
  s.stdout_text = "{\"event\":\"send\",\"seq\":1}\n";
  s.stderr_text = "boom\n";
  s.exit_status = 139;
  s.signal = SIGSEGV;
  s.ms = 3.5;
  a.steps.push_back(s);
  ScenarioOutcome b;
  b.file = "scenarios/unix/bad.yaml";
  b.name = "bad";
  b.verdict = Verdict::invalid;
  b.reason = "invalid";
  b.diagnostics = {"scenarios/unix/bad.yaml:3:1: unknown key 'stpes'"};
  ScenarioOutcome c;
  c.file = "scenarios/tunnels/gre.yaml";
  c.name = "gre";
  c.verdict = Verdict::skipped;
  c.reason = "requires feature gre";
  return {a, b, c};
}

}  // namespace

TEST(ReportJson, WhatIsWrittenReadsBack) {
  auto all = sample();
  auto back = outcomes_from_json(outcomes_json(all, "test"));
  ASSERT_EQ(back.size(), all.size());
  EXPECT_EQ(back[0].reason, all[0].reason);
  EXPECT_EQ(back[0].labels, all[0].labels);
  ASSERT_EQ(back[0].steps.size(), 1u);
  EXPECT_EQ(back[0].steps[0].exit_status, 139);
  EXPECT_EQ(back[0].steps[0].signal, SIGSEGV);
  EXPECT_EQ(back[0].steps[0].records, all[0].steps[0].records);
  EXPECT_EQ(back[0].steps[0].stderr_text, "boom\n");
  EXPECT_EQ(back[1].verdict, Verdict::invalid);
  EXPECT_EQ(back[1].diagnostics, all[1].diagnostics);
  EXPECT_EQ(back[2].verdict, Verdict::skipped);
  // Written again, the report is the same report.
  EXPECT_EQ(outcomes_json(back, "test").dump(), outcomes_json(all, "test").dump());
  EXPECT_EQ(junit_xml(back), junit_xml(all));
}

TEST(ReportJson, AWrongShapeIsNamed) {
  EXPECT_THROW(outcomes_from_json(Json::array()), Error);
  Json r = outcomes_json(sample(), "test");
  r["scenarios"][0]["verdict"] = "maybe";
  try {
    outcomes_from_json(r);
    ADD_FAILURE() << "an unknown verdict was read";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "report: unknown verdict 'maybe'");
  }
  r = outcomes_json(sample(), "test");
  r["scenarios"][0]["steps"][0]["ms"] = "slow";
  try {
    outcomes_from_json(r);
    ADD_FAILURE() << "a string was read as a number";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "report: 'ms' is string, not what nslab writes there");
  }
}

TEST(ReportJunit, OneTestsuitePerCallWithItsNameAndPrefix) {
  std::string x = junit_testsuite(sample(), "nslab@6.12", "nslab.6.12", "  ");
  EXPECT_EQ(x.rfind("  <testsuite name=\"nslab@6.12\" tests=\"3\" failures=\"1\" errors=\"1\" "
                    "skipped=\"1\"",
                    0),
            0u)
      << x;
  EXPECT_NE(x.find("classname=\"nslab.6.12.pmtu\""), std::string::npos) << x;
  EXPECT_NE(x.find("&lt;{&quot;event&quot;:&quot;x&quot;}&gt; &amp; more"), std::string::npos);
}
