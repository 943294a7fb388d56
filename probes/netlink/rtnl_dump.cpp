// rtnl_dump: a netlink dump (links, addresses, routes, neighbours, nexthops, qdiscs, exceptions)
// and how it comes back: every part NLM_F_MULTI with the request's sequence number and our port
// id, several per datagram, ended by NLMSG_DONE (itself NLM_F_MULTI). Reports each object and a
// summary per dump.

#include <poll.h>

#include "../common/rtnl.hpp"

namespace {

struct Kind {
  const char* name;
  unsigned short type;
};

unsigned send_request(probe::rtnl::Socket& s, const Kind& k) {
  probe::rtnl::Request r;
  const unsigned short flags = NLM_F_REQUEST | NLM_F_DUMP;
  if (k.type == RTM_GETNEXTHOP) {
    r.start<nhmsg>(k.type, flags);
  } else if (k.type == RTM_GETQDISC) {
    r.start<tcmsg>(k.type, flags);
  } else if (std::string(k.name) == "exceptions") {
    // A route dump with RTM_F_CLONED in its header lists the exceptions (learned PMTUs,
    // redirects) instead of the routes.
    auto* rt = r.start<rtmsg>(k.type, flags);
    rt->rtm_flags = RTM_F_CLONED;
  } else {
    r.start<rtgenmsg>(k.type, flags)->rtgen_family = AF_UNSPEC;
  }
  return s.send(r.h);
}

int dump(probe::rtnl::Socket& s, const Kind& k, const probe::Deadline& d) {
  unsigned seq = send_request(s, k);
  long messages = 0, datagrams = 0, most_in_one = 0;
  bool all_multi = true, seq_ok = true, pid_ok = true, done = false, done_multi = false;
  alignas(nlmsghdr) char buf[65536];
  while (!done) {
    if (!probe::wait_fd(s.fd, POLLIN, d)) {
      probe::emit_timeout("NLMSG_DONE");
      return 1;
    }
    ssize_t len = recv(s.fd, buf, sizeof buf, 0);
    if (len < 0) probe::fail("recv", errno);
    ++datagrams;
    long in_this = 0;
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, static_cast<unsigned>(len));
         h = NLMSG_NEXT(h, len)) {
      ++in_this;
      seq_ok = seq_ok && h->nlmsg_seq == seq;
      pid_ok = pid_ok && h->nlmsg_pid == s.port;
      if (h->nlmsg_type == NLMSG_DONE) {
        done = true;
        done_multi = h->nlmsg_flags & NLM_F_MULTI;
        break;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        probe::emit("error", {{"what", k.name}, {"error", probe::errno_name(-e->error)}});
        return 1;
      }
      all_multi = all_multi && (h->nlmsg_flags & NLM_F_MULTI);
      probe::Json o = probe::rtnl::describe(h);
      // The exceptions dump also returns the routes they hang on; only the clones are asked.
      if (std::string(k.name) == "exceptions" && !o.value("cloned", false)) continue;
      ++messages;
      o["dump"] = k.name;
      probe::emit("object", o);
    }
    most_in_one = std::max(most_in_one, in_this);
  }
  probe::emit("done", {{"dump", k.name},
                       {"seq", seq},
                       {"port_id", s.port},
                       {"messages", messages},
                       {"datagrams", datagrams},
                       {"most_in_one_datagram", most_in_one},
                       {"all_multi", all_multi},
                       {"done_multi", done_multi},
                       {"seq_echoed", seq_ok},
                       {"port_id_echoed", pid_ok}});
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("rtnl_dump", "Dump links, addresses, routes and neighbours over raw rtnetlink.");
  o.value("what",
          "links, addresses, routes, neighbours, nexthops, qdiscs, exceptions (the routes' "
          "cached clones: learned PMTUs) or all (the first four)",
          "all")
      .value("timeout", "bound on each dump", "5s");
  o.parse(argc, argv);
  const Kind kinds[] = {{"links", RTM_GETLINK},       {"addresses", RTM_GETADDR},
                        {"routes", RTM_GETROUTE},     {"neighbours", RTM_GETNEIGH},
                        {"nexthops", RTM_GETNEXTHOP}, {"qdiscs", RTM_GETQDISC},
                        {"exceptions", RTM_GETROUTE}};
  probe::rtnl::Socket s;
  probe::Deadline d(o.duration("timeout"));
  bool any = false;
  for (const auto& k : kinds) {
    const std::string name = k.name;
    bool in_all = name != "nexthops" && name != "exceptions" && name != "qdiscs";
    if (o.str("what") != name && !(o.str("what") == "all" && in_all)) continue;
    any = true;
    if (dump(s, k, d)) return probe::kRan;
  }
  if (!any) {
    std::fprintf(stderr, "rtnl_dump: unknown --what '%s'\n", o.str("what").c_str());
    return probe::kUsage;
  }
  return probe::kRan;
}
