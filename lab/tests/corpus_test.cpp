// The bad-input corpora: every file in bad-topologies/ and bad-scenarios/ ends with
// "# expect: LINE:COL: message" lines, and loading must report exactly those, all at once, in
// that order, each pointing into the file itself.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nslab/load.hpp"
#include "nslab/match.hpp"
#include "nslab/report_file.hpp"
#include "nslab/scenario.hpp"

namespace fs = std::filesystem;
using namespace nslab;

namespace {

std::vector<std::string> corpus(const char* dir = NSLAB_BAD_TOPOLOGIES) {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yaml") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::string param_name(const testing::TestParamInfo<std::string>& info) {
  std::string n = fs::path(info.param).stem().string();
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
}

std::vector<std::string> expectations(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  const std::string tag = "# expect: ";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(tag, 0) == 0) {
      // RUNNING: the running kernel's version, as the validator names it.
      std::string e = line.substr(tag.size());
      if (auto at = e.find("RUNNING"); at != std::string::npos)
        e.replace(at, 7, running_kernel().str());
      out.push_back(e);
    }
  return out;
}

// Loads `file` with `load`, expecting an InputError; returns "LINE:COL: message" per diagnostic.
template <class Load>
std::vector<std::string> diagnostics_of(const fs::path& file, Load load) {
  std::vector<std::string> got;
  try {
    load(file.string());
    ADD_FAILURE() << file << " was accepted";
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) {
      EXPECT_EQ(d.pos.file, file.string());
      got.push_back(d.pos.line_col() + ": " + d.message);
    }
  }
  return got;
}

class BadTopology : public testing::TestWithParam<std::string> {};

TEST_P(BadTopology, ReportsExactlyTheExpectedErrorsWithPositions) {
  const fs::path file = fs::path(NSLAB_BAD_TOPOLOGIES) / GetParam();
  auto expected = expectations(file);
  ASSERT_FALSE(expected.empty()) << file << " has no '# expect:' lines";
  EXPECT_EQ(diagnostics_of(file, [](const std::string& f) { load_topology_file(f); }), expected);
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadTopology, testing::ValuesIn(corpus()), param_name);

class BadScenario : public testing::TestWithParam<std::string> {};

TEST_P(BadScenario, ReportsExactlyTheExpectedErrorsWithPositions) {
  const fs::path file = fs::path(NSLAB_BAD_SCENARIOS) / GetParam();
  auto expected = expectations(file);
  ASSERT_FALSE(expected.empty()) << file << " has no '# expect:' lines";
  ASSERT_TRUE(is_scenario_file(file.string()));
  EXPECT_EQ(diagnostics_of(file, [](const std::string& f) { load_scenario_file(f); }), expected);
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadScenario, testing::ValuesIn(corpus(NSLAB_BAD_SCENARIOS)),
                         param_name);

TEST(BadScenarioCorpus, HasAtLeast20Files) {
  EXPECT_GE(corpus(NSLAB_BAD_SCENARIOS).size(), 20u);
}

TEST(BadTopologyCorpus, HasAtLeast25Files) {
  EXPECT_GE(corpus().size(), 25u);
}

TEST(TopologyFile, MissingFileIsReportedNotThrownAsCrash) {
  try {
    load_topology_file("/nonexistent/topology.yaml");
    FAIL() << "a missing file was accepted";
  } catch (const InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].str(),
              "/nonexistent/topology.yaml: cannot read topology file: No such file or directory");
  }
}

TEST(TopologyFile, AFolderIsReportedNotThrownAsCrash) {
  try {
    load_topology_file(NSLAB_BAD_TOPOLOGIES);
    FAIL() << "a folder was accepted";
  } catch (const InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].str(),
              std::string(NSLAB_BAD_TOPOLOGIES) + ": cannot read topology file: it is a folder");
  }
}

}  // namespace

namespace {

// Inputs the fuzzers (lab/fuzz, ci/fuzz.sh) or an audit found to crash, hang or exhaust memory,
// kept as they were found: topology-* and scenario-* files must now load to diagnostics;
// output-* (a program's stdout) must keep its hostile lines as text while the others become
// records; report-* must be refused by nslab diff's reader. Promptly: the test's ctest timeout
// bounds a hang.
std::vector<std::string> findings() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(NSLAB_FUZZ_FINDINGS))
    files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

class FuzzFinding : public testing::TestWithParam<std::string> {};

TEST_P(FuzzFinding, LoadsToDiagnosticsWithoutCrashOrHang) {
  const fs::path file = fs::path(NSLAB_FUZZ_FINDINGS) / GetParam();
  Diagnostics diags;
  if (GetParam().starts_with("output-")) {
    std::ifstream in(file);
    std::size_t records = 0, text = 0;
    for (std::string line; std::getline(in, line);)
      (parse_json_bounded(line, kMaxRecordDepth).is_object() ? records : text) += 1;
    EXPECT_GT(records, 0u) << "the ordinary lines beside the hostile ones are records";
    EXPECT_GT(text, 0u) << "a hostile line was taken as a record";
    return;
  }
  if (GetParam().starts_with("report-")) {
    std::string error;
    auto j = read_json_file(file.string(), error);
    EXPECT_TRUE(!j || !run_report_shape_error(*j).empty()) << "a hostile report was accepted";
    return;
  }
  if (GetParam().starts_with("topology-")) {
    validate_topology(parse_topology_file(file.string(), diags), diags);
  } else {
    ASSERT_TRUE(GetParam().starts_with("scenario-"))
        << "name it topology-*, scenario-*, output-* or report-*";
    validate_scenario(parse_scenario_file(file.string(), diags), diags);
  }
  EXPECT_FALSE(diags.empty()) << "a fuzz finding was accepted as valid";
}

INSTANTIATE_TEST_SUITE_P(Fuzz, FuzzFinding, testing::ValuesIn(findings()), param_name);

}  // namespace
