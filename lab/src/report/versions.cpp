#include "nslab/versions.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>

#include "nslab/capture.hpp"
#include "nslab/error.hpp"
#include "nslab/nft.hpp"
#include "nslab/rtnl.hpp"

namespace nslab {

nlohmann::ordered_json runtime_versions() {
  utsname u{};
  uname(&u);
  std::string pcap;
  try {
    pcap = libpcap_version();
  } catch (const Error& e) {
    pcap = fmt::format("missing: {}", e.what());
  }
  return {{"kernel", u.release},
          {"machine", u.machine},
          {"libnl", libnl_version()},
          {"libpcap", pcap},
          {"libnftables", nft::version()},
          {"yaml-cpp", NSLAB_YAML_CPP_VERSION " (built)"},
          {"fmt", fmt::format("{}.{}.{} (built)", FMT_VERSION / 10000, FMT_VERSION / 100 % 100,
                              FMT_VERSION % 100)},
          {"nlohmann_json", fmt::format("{}.{}.{} (built)", NLOHMANN_JSON_VERSION_MAJOR,
                                        NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH)}};
}

}  // namespace nslab
