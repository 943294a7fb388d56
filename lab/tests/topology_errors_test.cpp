// The bad-topology corpus: every file in bad-topologies/ ends with "# expect: LINE:COL: message"
// lines, and validation must report exactly those, all at once, in that order.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "nslab/load.hpp"

namespace fs = std::filesystem;
using namespace nslab;

namespace {

std::vector<std::string> corpus() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(NSLAB_BAD_TOPOLOGIES))
    if (e.path().extension() == ".yaml") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> expectations(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  const std::string tag = "# expect: ";
  for (std::string line; std::getline(in, line);)
    if (line.rfind(tag, 0) == 0) out.push_back(line.substr(tag.size()));
  return out;
}

class BadTopology : public testing::TestWithParam<std::string> {};

TEST_P(BadTopology, ReportsExactlyTheExpectedErrorsWithPositions) {
  const fs::path file = fs::path(NSLAB_BAD_TOPOLOGIES) / GetParam();
  auto expected = expectations(file);
  ASSERT_FALSE(expected.empty()) << file << " has no '# expect:' lines";

  std::vector<std::string> got;
  try {
    load_topology_file(file.string());
    FAIL() << file << " was accepted";
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) {
      EXPECT_EQ(d.pos.file, file.string());
      got.push_back(d.pos.line_col() + ": " + d.message);
    }
  }
  EXPECT_EQ(got, expected);
}

INSTANTIATE_TEST_SUITE_P(Corpus, BadTopology, testing::ValuesIn(corpus()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string n = fs::path(info.param).stem().string();
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(BadTopologyCorpus, HasAtLeast25Files) {
  EXPECT_GE(corpus().size(), 25u);
}

TEST(TopologyFile, MissingFileIsReportedNotThrownAsCrash) {
  try {
    load_topology_file("/nonexistent/topology.yaml");
    FAIL() << "a missing file was accepted";
  } catch (const InputError& e) {
    ASSERT_EQ(e.diagnostics().size(), 1u);
    EXPECT_EQ(e.diagnostics()[0].str(), "/nonexistent/topology.yaml: cannot read topology file");
  }
}

}  // namespace
