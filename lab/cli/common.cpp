#include <fmt/format.h>

#include <cstdio>

#include "commands.hpp"
#include "nslab/load.hpp"
#include "nslab/userns.hpp"

namespace nslab::cli {

std::optional<Topology> load_topology_or_report(const std::string& path) {
  try {
    return load_topology_file(path);
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", d.str());
    return std::nullopt;
  }
}

int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) fmt::print(stderr, "{}\n", d.str());
    return kFailed;
  } catch (const Error& e) {
    fmt::print(stderr, "nslab: {}\n", e.describe());
    return e.pos() ? kFailed : kSetup;
  } catch (const std::exception& e) {
    fmt::print(stderr, "nslab: {}\n", e.what());
    return kSetup;
  }
}

bool acquire_privileges_or_report() {
  try {
    acquire_privileges();
    return true;
  } catch (const Error& e) {
    fmt::print(stderr, "nslab: {}\n", e.what());
    return false;
  }
}

}  // namespace nslab::cli
