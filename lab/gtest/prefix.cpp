// Compiled into each test program that links nslab::gtest (the CMake package adds it to the
// program's sources): where the nslab it was built against is, a build tree or an install
// prefix. nslab's own library carries no such path.
namespace nslab::gtest_detail {
extern const char* const kPrefix;
const char* const kPrefix = NSLAB_GTEST_PREFIX;
}  // namespace nslab::gtest_detail
