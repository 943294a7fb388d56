#include "nslab/features.hpp"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "nslab/error.hpp"
#include "nslab/netns.hpp"
#include "nslab/rtnl.hpp"
#include "nslab/unique_fd.hpp"

namespace nslab {

void create_tun(const std::string& name, int ifindex, bool tap) {
  UniqueFd fd(open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (!fd) throw_errno("open /dev/net/tun", errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  ifr.ifr_flags = static_cast<short>((tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
  int err = 0;
  if (ifindex && ioctl(fd.get(), TUNSETIFINDEX, &ifindex) < 0) err = errno;
  if (!err && ioctl(fd.get(), TUNSETIFF, &ifr) < 0) err = errno;
  if (!err && ioctl(fd.get(), TUNSETPERSIST, 1) < 0) err = errno;
  if (err) throw_errno("create " + std::string(tap ? "tap " : "tun ") + name, err);
}

namespace {

std::optional<std::string> try_feature(const std::string& feature) {
  Netns home = Netns::current();
  std::optional<std::string> why;
  Netns::create(home, [&] {
    try {
      if (feature == "tun") {
        create_tun("nslab-probe0", 0, false);
        return;
      }
      Rtnl rtnl = Rtnl::open_here();
      if (feature == "tbf" || feature == "htb" || feature == "netem") {
        // On lo, which every namespace has; an unknown qdisc kind is ENOENT.
        QdiscRequest q{.kind = feature,
                       .ifindex = 1,
                       .rate_bits = 8000000,
                       .burst_bytes = 16384,
                       .latency_us = 10000,
                       .delay_us = 1000};
        try {
          rtnl.replace_qdisc(q);
        } catch (const Error& e) {
          if (e.err() == ENOENT) throw Error(e.what(), EOPNOTSUPP);
          throw;
        }
        return;
      }
      VirtualRequest req;
      req.kind = feature;
      req.name = "nslab-probe0";
      if (sample_virtual_request(req)) {  // it needs a lower device
        rtnl.add_veth({.name = "nslab-probe1", .peer_name = "nslab-probe2"});
        for (const auto& l : rtnl.links())
          if (l.name == "nslab-probe1") req.parent = l.ifindex;
      }
      rtnl.add_virtual(req);
    } catch (const Error& e) {
      // An unknown kind is EOPNOTSUPP ("Unknown device type"; a qdisc's ENOENT is turned into
      // it above); anything else is this process's lack, e.g. /dev/net/tun that only the
      // host's root may open.
      if (e.err() == EOPNOTSUPP)
        why = "this kernel has no " + feature;
      else
        why = feature + " cannot be used here: " + e.what();
    }
  });
  return why;
}

}  // namespace

std::optional<std::string> missing_feature(const std::string& feature) {
  static std::mutex mutex;
  static std::map<std::string, std::optional<std::string>> known;
  std::lock_guard lock(mutex);
  auto it = known.find(feature);
  if (it == known.end()) it = known.emplace(feature, try_feature(feature)).first;
  return it->second;
}

}  // namespace nslab
