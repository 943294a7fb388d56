// The libpcap adapter. The only file that includes libpcap.

#include "nslab/capture.hpp"

#include <pcap/pcap.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "nslab/error.hpp"
#include "nslab/lab.hpp"
#include "nslab/unique_fd.hpp"

namespace nslab {

struct Capture::Impl {
  struct Tap {
    pcap_t* handle = nullptr;
    pcap_dumper_t* dumper = nullptr;
  };
  std::vector<Tap> taps;
  UniqueFd wake;  // eventfd: stop
  std::thread thread;
  bool stopped = false;

  ~Impl() {
    for (auto& t : taps) {
      if (t.dumper) pcap_dump_close(t.dumper);
      if (t.handle) pcap_close(t.handle);  // an open handle keeps its namespace alive
    }
  }

  static void write_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    pcap_dump(user, h, bytes);
  }

  void drain(Tap& t) {
    pcap_dispatch(t.handle, -1, write_packet, reinterpret_cast<u_char*>(t.dumper));
  }

  void loop() {
    std::vector<pollfd> fds;
    for (auto& t : taps) fds.push_back({pcap_get_selectable_fd(t.handle), POLLIN, 0});
    fds.push_back({wake.get(), POLLIN, 0});
    for (;;) {
      if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
      for (std::size_t i = 0; i < taps.size(); ++i)
        if (fds[i].revents) drain(taps[i]);
      if (fds.back().revents) break;
    }
    for (auto& t : taps) {
      drain(t);
      pcap_dump_flush(t.dumper);
    }
  }
};

Capture::Capture(Lab& lab, const std::string& dir) : impl_(std::make_unique<Impl>()) {
  std::filesystem::create_directories(dir);
  char err[PCAP_ERRBUF_SIZE] = {};
  for (auto& node : lab.nodes()) {
    // The AF_PACKET socket and the interface lookup use the thread's namespace.
    NetnsScope scope(node.netns(), lab.home());
    for (const auto& [ifname, idx] : node.ifindexes()) {
      if (ifname == "lo") continue;
      Impl::Tap t;
      t.handle = pcap_create(ifname.c_str(), err);
      if (!t.handle) throw Error(fmt::format("capture on {}:{}: {}", node.name(), ifname, err));
      impl_->taps.push_back(t);  // owned from here on
      pcap_set_snaplen(t.handle, 262144);
      pcap_set_promisc(t.handle, 0);
      pcap_set_immediate_mode(t.handle, 1);
      pcap_set_tstamp_precision(t.handle, PCAP_TSTAMP_PRECISION_NANO);
      if (pcap_activate(t.handle) < 0)
        throw Error(
            fmt::format("capture on {}:{}: {}", node.name(), ifname, pcap_geterr(t.handle)));
      pcap_setnonblock(t.handle, 1, err);
      std::string file = fmt::format("{}/{}-{}.pcap", dir, node.name(), ifname);
      t.dumper = pcap_dump_open(t.handle, file.c_str());
      if (!t.dumper) throw Error(fmt::format("{}: {}", file, pcap_geterr(t.handle)));
      impl_->taps.back() = t;
      files_.push_back(file);
    }
  }
  impl_->wake.reset(eventfd(0, EFD_CLOEXEC));
  if (!impl_->wake) throw_errno("eventfd", errno);
  impl_->thread = std::thread([this] { impl_->loop(); });
}

void Capture::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  std::uint64_t one = 1;
  (void)!write(impl_->wake.get(), &one, sizeof one);
  if (impl_->thread.joinable()) impl_->thread.join();
}

Capture::~Capture() {
  stop();
}

}  // namespace nslab
