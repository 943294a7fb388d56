// The libpcap adapter. The only file that includes libpcap, which it loads when a capture starts
// (src/kernel/dl.hpp): a run without --capture does not map it.

#include "nslab/capture.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include "dl.hpp"
#include "nslab/error.hpp"
#include "nslab/netns.hpp"
#include "nslab/unique_fd.hpp"

namespace nslab {

namespace {

// What nslab calls of libpcap, loaded on first use.
struct Pcap {
  dl::Library lib{NSLAB_PCAP_SONAME, NSLAB_PCAP_PACKAGE};
  NSLAB_DL_FUNCTION(pcap_, create);
  NSLAB_DL_FUNCTION(pcap_, activate);
  NSLAB_DL_FUNCTION(pcap_, close);
  NSLAB_DL_FUNCTION(pcap_, set_snaplen);
  NSLAB_DL_FUNCTION(pcap_, set_promisc);
  NSLAB_DL_FUNCTION(pcap_, set_immediate_mode);
  NSLAB_DL_FUNCTION(pcap_, set_tstamp_precision);
  NSLAB_DL_FUNCTION(pcap_, setnonblock);
  NSLAB_DL_FUNCTION(pcap_, get_selectable_fd);
  NSLAB_DL_FUNCTION(pcap_, geterr);
  NSLAB_DL_FUNCTION(pcap_, dispatch);
  NSLAB_DL_FUNCTION(pcap_, dump);
  NSLAB_DL_FUNCTION(pcap_, dump_fopen);
  NSLAB_DL_FUNCTION(pcap_, dump_flush);
  NSLAB_DL_FUNCTION(pcap_, dump_close);
  NSLAB_DL_FUNCTION(pcap_, lib_version);
};

const Pcap& pcap() {
  static const Pcap api;
  return api;
}

}  // namespace

std::string libpcap_version() {
  return pcap().lib_version();
}

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
      if (t.dumper) pcap().dump_close(t.dumper);
      if (t.handle) pcap().close(t.handle);  // an open handle keeps its namespace alive
    }
  }

  static void write_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    pcap().dump(user, h, bytes);
  }

  void drain(Tap& t) {
    pcap().dispatch(t.handle, -1, write_packet, reinterpret_cast<u_char*>(t.dumper));
  }

  void loop() {
    std::vector<pollfd> fds;
    for (auto& t : taps) fds.push_back({pcap().get_selectable_fd(t.handle), POLLIN, 0});
    fds.push_back({wake.get(), POLLIN, 0});
    for (;;) {
      if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
      for (std::size_t i = 0; i < taps.size(); ++i)
        if (fds[i].revents) drain(taps[i]);
      if (fds.back().revents) break;
    }
    for (auto& t : taps) {
      drain(t);
      pcap().dump_flush(t.dumper);
    }
  }
};

Capture::Capture(const std::vector<CaptureNode>& nodes, const Netns& home, int dir_fd,
                 const std::string& dir)
    : impl_(std::make_unique<Impl>()) {
  pcap();  // loads libpcap first, or says which package is missing, before anything is made
  char err[PCAP_ERRBUF_SIZE] = {};
  for (const auto& node : nodes) {
    // The AF_PACKET socket and the interface lookup use the thread's namespace.
    NetnsScope scope(*node.netns, home);
    for (const auto& ifname : node.interfaces) {
      Impl::Tap t;
      t.handle = pcap().create(ifname.c_str(), err);
      if (!t.handle) throw Error(fmt::format("capture on {}:{}: {}", node.name, ifname, err));
      impl_->taps.push_back(t);  // owned from here on
      pcap().set_snaplen(t.handle, 262144);
      pcap().set_promisc(t.handle, 0);
      pcap().set_immediate_mode(t.handle, 1);
      pcap().set_tstamp_precision(t.handle, PCAP_TSTAMP_PRECISION_NANO);
      if (pcap().activate(t.handle) < 0)
        throw Error(
            fmt::format("capture on {}:{}: {}", node.name, ifname, pcap().geterr(t.handle)));
      pcap().setnonblock(t.handle, 1, err);
      std::string name = fmt::format("{}-{}.pcap", node.name, ifname);
      std::string file = fmt::format("{}/{}", dir, name);
      int fd =
          openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0) throw_errno(file, errno);
      FILE* out = fdopen(fd, "wb");
      if (!out) {
        int err = errno;
        close(fd);
        throw_errno(file, err);
      }
      t.dumper = pcap().dump_fopen(t.handle, out);  // owns `out` from here on
      if (!t.dumper) {
        fclose(out);
        throw Error(fmt::format("{}: {}", file, pcap().geterr(t.handle)));
      }
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
