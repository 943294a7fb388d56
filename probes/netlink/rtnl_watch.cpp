// rtnl_watch: joins the link, address and route multicast groups and reports every event. With
// --mirror it keeps a copy of the main routing table from a dump plus events, and after each
// batch compares it with a fresh dump. With a small --rcvbuf and --hold-until FILE (it starts
// reading only once FILE exists: an inotify event, not a timer) a burst of changes overruns the
// socket: recv fails once with ENOBUFS, then what survived follows.

#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "../common/rtnl.hpp"

namespace {

std::string route_key(const probe::Json& r) {
  return r.value("family", "") + " " + r.value("dst", "") + " via " + r.value("gateway", "-") +
         " oif " + std::to_string(r.value("oif", 0));
}

bool main_table(const probe::Json& r) {
  return r.value("table", 0u) == RT_TABLE_MAIN;
}

std::set<std::string> dump_routes() {
  probe::rtnl::Socket s;
  probe::rtnl::Request r;
  auto* g = r.start<rtgenmsg>(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
  g->rtgen_family = AF_UNSPEC;
  unsigned seq = s.send(r.h);
  std::set<std::string> out;
  alignas(nlmsghdr) char buf[65536];
  probe::Deadline d(std::chrono::seconds(2));
  while (probe::wait_fd(s.fd, POLLIN, d)) {
    ssize_t len = recv(s.fd, buf, sizeof buf, 0);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf);
         len > 0 && NLMSG_OK(h, static_cast<unsigned>(len)); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) return out;
      probe::Json o = probe::rtnl::describe(h);
      if (main_table(o)) out.insert(route_key(o));
    }
  }
  return out;
}

// Waits (bounded) until `path` exists, on inotify events for its folder.
bool wait_for_file(const std::string& path, const probe::Deadline& d) {
  namespace fs = std::filesystem;
  nslab::UniqueFd in_owner(inotify_init1(IN_CLOEXEC));
  const int in = in_owner.get();
  inotify_add_watch(in, fs::path(path).parent_path().c_str(),
                    IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
  bool ok = fs::exists(path);
  char buf[4096];
  while (!ok && probe::wait_fd(in, POLLIN, d)) {
    (void)!read(in, buf, sizeof buf);
    ok = fs::exists(path);
  }
  in_owner.reset();
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("rtnl_watch", "Report rtnetlink multicast events (links, addresses, routes).");
  o.flag("mirror", "keep a mirror of the main routing table and compare it with fresh dumps")
      .value("rcvbuf", "SO_RCVBUF of the watching socket (0: default)", "0")
      .flag("no-enobufs", "set NETLINK_NO_ENOBUFS: an overrun loses events silently")
      .optional("hold-until", "start reading only once this file exists")
      .value("timeout", "stop after this long", "30s");
  o.parse(argc, argv);
  nslab::UniqueFd sfd_owner = probe::termination_signals();
  const int sfd = sfd_owner.get();

  probe::rtnl::Socket s(0, static_cast<int>(o.integer("rcvbuf")));
  if (o.on("no-enobufs")) s.enable(NETLINK_NO_ENOBUFS);
  for (unsigned g : {RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR, RTNLGRP_IPV4_ROUTE,
                     RTNLGRP_IPV6_ROUTE})
    s.join(g);
  int rcvbuf = 0;
  socklen_t l = sizeof rcvbuf;
  getsockopt(s.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &l);
  // Joined before the dump: no change between the two is missed.
  std::set<std::string> mirror;
  if (o.on("mirror")) mirror = dump_routes();
  probe::emit("ready", {{"rcvbuf", rcvbuf}, {"mirror_entries", mirror.size()}});

  probe::Deadline d(o.duration("timeout"));
  if (!o.str("hold-until").empty() && !wait_for_file(o.str("hold-until"), d)) {
    probe::emit_timeout(o.str("hold-until"));
    return probe::kRan;
  }
  long events = 0;
  alignas(nlmsghdr) char buf[65536];
  for (;;) {
    pollfd p[2] = {{s.fd, POLLIN, 0}, {sfd, POLLIN, 0}};
    int n = poll(p, 2, d.ms_left());
    if (n == 0 || (p[1].revents & POLLIN)) break;
    bool changed = false;
    std::string last_route_event;
    // Drain what is queued, then compare the mirror once per batch.
    for (;;) {
      ssize_t len = recv(s.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (len < 0) {
        if (errno == ENOBUFS) {
          probe::emit("overrun", {{"error", "ENOBUFS"}, {"events_before", events}});
          continue;
        }
        break;
      }
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(len));
           h = NLMSG_NEXT(h, len)) {
        probe::Json ev = probe::rtnl::describe(h);
        ++events;
        std::string object = ev.value("object", "other");
        probe::emit(object, ev);
        if (object == "route" && main_table(ev)) {
          changed = true;
          last_route_event = ev.value("type", "") + " " + route_key(ev);
          if (h->nlmsg_type == RTM_NEWROUTE)
            mirror.insert(route_key(ev));
          else
            mirror.erase(route_key(ev));
        }
      }
    }
    if (o.on("mirror") && changed) {
      auto fresh = dump_routes();
      // A dump races with events still in flight: the two agree once changes stop.
      probe::Json rec = {{"after", last_route_event},
                         {"entries", mirror.size()},
                         {"dump_entries", fresh.size()},
                         {"matches_dump", fresh == mirror}};
      if (fresh != mirror) {
        probe::Json only_mirror = probe::Json::array(), only_dump = probe::Json::array();
        for (const auto& k : mirror)
          if (!fresh.count(k)) only_mirror.push_back(k);
        for (const auto& k : fresh)
          if (!mirror.count(k)) only_dump.push_back(k);
        rec["only_in_mirror"] = only_mirror;
        rec["only_in_dump"] = only_dump;
      }
      probe::emit("mirror", rec);
    }
  }
  probe::emit("done", {{"events", events}});
  return probe::kRan;
}
