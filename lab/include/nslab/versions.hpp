#pragma once
// What nslab runs with: the kernel, and the libraries it uses for netlink, nftables, pcap and
// its input. Libraries with a runtime version report the loaded one; the others the one nslab
// was built with (marked "built").

#include <nlohmann/json.hpp>
#include <string>

namespace nslab {

// {"kernel": "6.18.44", "libnl": "3.7.0", "libpcap": "...", "libnftables": "1.0.6 (built)", ...}
nlohmann::ordered_json runtime_versions();

}  // namespace nslab
