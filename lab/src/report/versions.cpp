#include "nslab/versions.hpp"

#include <fmt/format.h>
#include <netlink/version.h>
#include <pcap/pcap.h>
#include <sys/utsname.h>

namespace nslab {

nlohmann::ordered_json runtime_versions() {
  utsname u{};
  uname(&u);
  return {{"kernel", u.release},
          {"machine", u.machine},
          {"libnl", fmt::format("{}.{}.{}", nl_ver_maj, nl_ver_min, nl_ver_mic)},
          {"libpcap", pcap_lib_version()},
          {"libnftables", NSLAB_NFT_VERSION " (built)"},
          {"yaml-cpp", NSLAB_YAML_CPP_VERSION " (built)"},
          {"fmt", fmt::format("{}.{}.{} (built)", FMT_VERSION / 10000, FMT_VERSION / 100 % 100,
                              FMT_VERSION % 100)},
          {"nlohmann_json", fmt::format("{}.{}.{} (built)", NLOHMANN_JSON_VERSION_MAJOR,
                                        NLOHMANN_JSON_VERSION_MINOR, NLOHMANN_JSON_VERSION_PATCH)}};
}

}  // namespace nslab
