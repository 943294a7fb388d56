// nslab version: nslab's own version, the kernel it runs on and the libraries it runs with.

#include <fmt/format.h>

#include "commands.hpp"
#include "nslab/versions.hpp"

namespace nslab::cli {

std::string version_text() {
  std::string out = fmt::format("nslab {}\n", NSLAB_VERSION);
  const auto versions = runtime_versions();  // items() refers to it: it must outlive the loop
  for (const auto& [name, value] : versions.items())
    out += fmt::format("  {:<14}{}\n", name, value.get<std::string>());
  out.pop_back();  // CLI11 adds the last newline to --version
  return out;
}

int run_version() {
  fmt::print("{}\n", version_text());
  return kOk;
}

}  // namespace nslab::cli
