// The matching rules of SPEC section 3 and the template language.

#include <gtest/gtest.h>

#include "nslab/load.hpp"
#include "nslab/match.hpp"
#include "nslab/templates.hpp"

using namespace nslab;
using Json = nlohmann::ordered_json;

TEST(Match, SubsetOfKeysWithEqualValues) {
  Json rec = Json::parse(R"({"event":"ip_mtu","family":"ipv4","mtu":1280})");
  EXPECT_TRUE(record_matches(Json::parse(R"({"event":"ip_mtu","mtu":1280})"), rec));
  EXPECT_FALSE(record_matches(Json::parse(R"({"event":"ip_mtu","mtu":1500})"), rec));
  EXPECT_FALSE(record_matches(Json::parse(R"({"event":"ip_mtu","missing":1})"), rec));
  EXPECT_TRUE(record_matches(Json::object(), rec));
}

TEST(Match, NumbersNumericallyAlsoFromTemplateStrings) {
  EXPECT_TRUE(value_matches(Json(1280), Json(1280.0)));
  EXPECT_TRUE(value_matches(Json("1280"), Json(1280)));       // "${router.eth1.mtu}" expanded
  EXPECT_FALSE(value_matches(Json("1280"), Json("1280.0")));  // text is compared as text
  EXPECT_FALSE(value_matches(Json(true), Json(1)));
}

TEST(Match, ErrnoNamesAndNumbersBothAccepted) {
  EXPECT_TRUE(value_matches(Json("EMSGSIZE"), Json("EMSGSIZE")));
  EXPECT_TRUE(value_matches(Json(90), Json("EMSGSIZE")));
  EXPECT_TRUE(value_matches(Json("EMSGSIZE"), Json(90)));
  EXPECT_FALSE(value_matches(Json("ECONNREFUSED"), Json("EMSGSIZE")));
  EXPECT_EQ(errno_from_name("EHOSTUNREACH"), EHOSTUNREACH);
  EXPECT_EQ(errno_from_name("ENOTANERRNO"), 0);
}

TEST(Match, Operators) {
  Json v = 1280;
  EXPECT_TRUE(value_matches(Json::parse(R"({"gt":1000})"), v));
  EXPECT_FALSE(value_matches(Json::parse(R"({"lt":1000})"), v));
  EXPECT_TRUE(value_matches(Json::parse(R"({"ge":1280})"), v));
  EXPECT_TRUE(value_matches(Json::parse(R"({"le":"1280"})"), v));
  EXPECT_TRUE(value_matches(Json::parse(R"({"between":[1200,1300]})"), v));
  EXPECT_FALSE(value_matches(Json::parse(R"({"between":[1300,1400]})"), v));
  EXPECT_TRUE(value_matches(Json::parse(R"({"one_of":[1500,1280]})"), v));
  EXPECT_TRUE(value_matches(Json::parse(R"({"one_of":["EMSGSIZE","EHOSTUNREACH"]})"), Json(90)));
  EXPECT_TRUE(value_matches(Json::parse(R"({"matches":"^12"})"), v));
  EXPECT_TRUE(
      value_matches(Json::parse(R"({"matches":"pmtu 1280"})"), Json("Resume: pmtu 1280 hops 2")));
  EXPECT_FALSE(value_matches(Json::parse(R"({"gt":1})"), Json("not a number")));
}

TEST(Match, HasMatchesFieldsOfANestedObject) {
  Json rec = Json::parse(R"({"event":"x","peer":{"address":"10.0.0.1","port":9}})");
  EXPECT_TRUE(record_matches(Json::parse(R"({"peer":{"has":{"port":9}}})"), rec));
  EXPECT_TRUE(record_matches(Json::parse(R"({"peer":{"has":{"port":{"lt":10}}}})"), rec));
  EXPECT_FALSE(record_matches(Json::parse(R"({"peer":{"has":{"port":10}}})"), rec));
  EXPECT_FALSE(record_matches(Json::parse(R"({"event":{"has":{"port":9}}})"), rec));
}

TEST(Match, AMappingWithoutAnOperatorMatchesNothingAndIsRefused) {
  Json rec = Json::parse(R"({"event":"x","peer":{"port":9}})");
  EXPECT_FALSE(record_matches(Json::parse(R"({"peer":{"port":9}})"), rec));
  EXPECT_EQ(check_pattern(Json::parse(R"({"peer":{"port":9}})")),
            std::vector<std::string>{
                "peer: unknown operator 'port' (expected one of gt, ge, lt, le, between, one_of, "
                "matches, has)"});
}

TEST(Match, RegexesAreRe2AndSurviveLongOutput) {
  std::string big(1 << 20, 'x');
  EXPECT_TRUE(regex_search(".*", big));
  EXPECT_TRUE(regex_search("x$", big));
  EXPECT_FALSE(regex_search("(x+x+)+y", big));  // linear time: no backtracking blow-up
  EXPECT_TRUE(regex_error("a(b").has_value());
  EXPECT_FALSE(regex_search("a(b", "a(b"));  // an invalid pattern matches nothing
}

TEST(Match, ScoreCountsSatisfiedKeys) {
  Json rec = Json::parse(R"({"event":"ip_mtu","mtu":1280})");
  EXPECT_EQ(match_score(Json::parse(R"({"event":"ip_mtu","mtu":1000})"), rec), 1);
}

TEST(Match, PatternChecks) {
  EXPECT_TRUE(check_pattern(Json::parse(R"({"mtu":{"between":[1,2]}})")).empty());
  EXPECT_EQ(check_pattern(Json::parse(R"({"mtu":{"gte":1}})")),
            std::vector<std::string>{"mtu: unknown operator 'gte' (did you mean 'gt'?)"});
  EXPECT_EQ(check_pattern(Json::parse(R"({"mtu":{"gt":"x"}})")),
            std::vector<std::string>{"mtu: 'gt' takes a number"});
  EXPECT_TRUE(check_pattern(Json::parse(R"({"mtu":{"gt":"${r.e.mtu}"}})")).empty());
}

TEST(Templates, FindCheckAndExpand) {
  Topology t = load_topology_file(std::string(NSLAB_TOPOLOGIES) + "/router-lowmtu.yaml");
  auto refs = find_templates("--dst ${server.eth0.ipv4} --dir ${lab.dir} ${router.eth1.mtu}");
  ASSERT_EQ(refs.size(), 3u);
  EXPECT_EQ(refs[0].node, "server");
  EXPECT_EQ(refs[0].ifname, "eth0");
  EXPECT_EQ(refs[0].attribute, "ipv4");
  EXPECT_TRUE(refs[1].lab_dir);
  for (const auto& r : refs) EXPECT_EQ(check_template(r, t), std::nullopt) << r.text;
  EXPECT_EQ(
      *check_template(find_templates("${client.eth0.ipv7}")[0], t),
      "template '${client.eth0.ipv7}': unknown attribute 'ipv7' (ipv4, ipv6, mtu or ifindex)");
  std::string out = expand_templates("a ${x.y.z} b ${lab.dir}", [](const TemplateRef& r) {
    return r.lab_dir ? std::string("/tmp/L") : r.node + "-" + r.attribute;
  });
  EXPECT_EQ(out, "a x-z b /tmp/L");
  Json j = expand_templates_json(
      Json::parse(R"({"offender":"${router.eth0.ipv4}","n":[1,"${lab.dir}"]})"),
      [](const TemplateRef& r) { return r.lab_dir ? "/d" : "10.0.1.254"; });
  EXPECT_EQ(j.dump(), R"({"offender":"10.0.1.254","n":[1,"/d"]})");
}

TEST(Templates, DottedInterfaceNamesAndMalformedOnes) {
  auto refs = find_templates("${r.eth0.100.ipv4}");
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0].ifname, "eth0.100");
  std::vector<std::string> errors;
  find_templates("${r.ipv4} ${unterminated", [&](std::string e) { errors.push_back(e); });
  EXPECT_EQ(errors.size(), 2u);
}
