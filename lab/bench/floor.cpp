// nslab-floor: the least a program can do to give what `nslab exec router-lowmtu client -- true`
// gives, written against raw rtnetlink with no library: three fresh network namespaces, two veth
// pairs created in place (MTU 1280 on the router-server link), IPv4 and IPv6 addresses (no DAD),
// default routes, forwarding on the router, every link up and ready (operstate UP), then `true`
// run in the client and reaped, then teardown (the namespaces vanish with their fds). No YAML, no
// validation, no PID namespace, no private /sys: the floor nslab's whole process is compared with
// in nslab-bench (whole-process part).
//
//   nslab-floor            as root; exit 0 when `true` ran in a ready client
//
// Not nslab's code: it shares nothing with the library on purpose.

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const char* what, int err) {
  std::fprintf(stderr, "nslab-floor: %s: %s\n", what, std::strerror(err));
  std::exit(1);
}

// One netlink request: a header, a fixed part, then attributes (nested ones through begin/end).
class Msg {
 public:
  Msg(int type, int flags) {
    put(nlmsghdr{.nlmsg_len = 0,
                 .nlmsg_type = static_cast<__u16>(type),
                 .nlmsg_flags = static_cast<__u16>(NLM_F_REQUEST | NLM_F_ACK | flags),
                 .nlmsg_seq = 0,
                 .nlmsg_pid = 0});
  }
  template <class T>
  void put(const T& v) {
    append(&v, sizeof v);
  }
  void attr(int type, const void* data, std::size_t len) {
    rtattr a{.rta_len = static_cast<unsigned short>(RTA_LENGTH(len)),
             .rta_type = static_cast<unsigned short>(type)};
    append(&a, sizeof a);
    append(data, len);
  }
  void attr_u32(int type, __u32 v) { attr(type, &v, sizeof v); }
  void attr_str(int type, const char* s) { attr(type, s, std::strlen(s) + 1); }
  std::size_t begin(int type) {
    std::size_t at = buf_.size();
    attr(type, nullptr, 0);
    return at;
  }
  void end(std::size_t at) {
    reinterpret_cast<rtattr*>(buf_.data() + at)->rta_len =
        static_cast<unsigned short>(buf_.size() - at);
  }
  std::vector<char>& done() {
    reinterpret_cast<nlmsghdr*>(buf_.data())->nlmsg_len = static_cast<__u32>(buf_.size());
    return buf_;
  }

 private:
  void append(const void* data, std::size_t len) {
    std::size_t at = buf_.size();
    buf_.resize(NLMSG_ALIGN(at + len));
    if (len) std::memcpy(buf_.data() + at, data, len);
  }
  std::vector<char> buf_;
};

int rtnl_socket(unsigned groups = 0) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) die("socket", errno);
  sockaddr_nl sa{.nl_family = AF_NETLINK, .nl_pad = 0, .nl_pid = 0, .nl_groups = groups};
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) die("bind", errno);
  return fd;
}

// Sends and waits for the ack; the kernel's errno on refusal.
void request(int fd, Msg& m, const char* what) {
  auto& b = m.done();
  if (send(fd, b.data(), b.size(), 0) < 0) die(what, errno);
  char reply[8192];
  for (;;) {
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < 0) die(what, errno);
    for (auto* h = reinterpret_cast<nlmsghdr*>(reply); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
      if (err) die(what, err);
      return;
    }
  }
}

int ns_create(int home) {
  if (unshare(CLONE_NEWNET) < 0) die("unshare", errno);
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open netns", errno);
  if (setns(home, CLONE_NEWNET) < 0) die("setns home", errno);
  return fd;
}

void write_file(const char* path, const char* value) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, value, std::strlen(value)) < 0) die(path, errno);
  close(fd);
}

void veth(int rtnl, const char* a, int ns_a, const char* b, int ns_b, int mtu, int index_a,
          int index_b) {
  Msg m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  m.put(ifinfomsg{.ifi_family = AF_UNSPEC, .ifi_index = index_a});
  m.attr_str(IFLA_IFNAME, a);
  m.attr_u32(IFLA_MTU, mtu);
  m.attr_u32(IFLA_NET_NS_FD, ns_a);
  auto info = m.begin(IFLA_LINKINFO);
  m.attr_str(IFLA_INFO_KIND, "veth");
  auto data = m.begin(IFLA_INFO_DATA);
  auto peer = m.begin(VETH_INFO_PEER);
  m.put(ifinfomsg{.ifi_family = AF_UNSPEC, .ifi_index = index_b});
  m.attr_str(IFLA_IFNAME, b);
  m.attr_u32(IFLA_MTU, mtu);
  m.attr_u32(IFLA_NET_NS_FD, ns_b);
  m.end(peer);
  m.end(data);
  m.end(info);
  request(rtnl, m, "veth");
}

void link_up(int rtnl, int index) {
  Msg m(RTM_NEWLINK, 0);
  m.put(ifinfomsg{
      .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP, .ifi_change = IFF_UP});
  request(rtnl, m, "link up");
}

void address(int rtnl, int index, const char* text, int prefix) {
  bool v6 = std::strchr(text, ':');
  unsigned char addr[16];
  inet_pton(v6 ? AF_INET6 : AF_INET, text, addr);
  Msg m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  m.put(ifaddrmsg{.ifa_family = static_cast<__u8>(v6 ? AF_INET6 : AF_INET),
                  .ifa_prefixlen = static_cast<__u8>(prefix),
                  .ifa_flags = static_cast<__u8>(v6 ? IFA_F_NODAD : 0),
                  .ifa_scope = RT_SCOPE_UNIVERSE,
                  .ifa_index = static_cast<__u32>(index)});
  m.attr(IFA_LOCAL, addr, v6 ? 16 : 4);
  m.attr(IFA_ADDRESS, addr, v6 ? 16 : 4);
  request(rtnl, m, "address");
}

void default_route(int rtnl, const char* via) {
  bool v6 = std::strchr(via, ':');
  unsigned char gw[16];
  inet_pton(v6 ? AF_INET6 : AF_INET, via, gw);
  Msg m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  m.put(rtmsg{.rtm_family = static_cast<unsigned char>(v6 ? AF_INET6 : AF_INET),
              .rtm_dst_len = 0,
              .rtm_src_len = 0,
              .rtm_tos = 0,
              .rtm_table = RT_TABLE_MAIN,
              .rtm_protocol = RTPROT_BOOT,
              .rtm_scope = RT_SCOPE_UNIVERSE,
              .rtm_type = RTN_UNICAST,
              .rtm_flags = 0});
  m.attr(RTA_GATEWAY, gw, v6 ? 16 : 4);
  request(rtnl, m, "route");
}

// True when every link but lo reports operstate UP (one dump).
bool all_up(int rtnl) {
  Msg m(RTM_GETLINK, NLM_F_DUMP);
  m.put(ifinfomsg{.ifi_family = AF_UNSPEC});
  auto& b = m.done();
  if (send(rtnl, b.data(), b.size(), 0) < 0) die("dump", errno);
  bool up = true;
  char reply[32768];
  for (;;) {
    ssize_t n = recv(rtnl, reply, sizeof reply, 0);
    if (n < 0) die("dump", errno);
    for (auto* h = reinterpret_cast<nlmsghdr*>(reply); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return up;
      if (h->nlmsg_type == NLMSG_ERROR) {
        int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
        if (err) die("dump", err);
        continue;  // the ack of an earlier request
      }
      if (h->nlmsg_type != RTM_NEWLINK) continue;
      auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(h));
      if (ifi->ifi_flags & IFF_LOOPBACK) continue;
      int len = static_cast<int>(IFLA_PAYLOAD(h));
      for (auto* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len))
        if (a->rta_type == IFLA_OPERSTATE && *static_cast<__u8*>(RTA_DATA(a)) != IF_OPER_UP)
          up = false;
    }
  }
}

struct Node {
  const char* name;
  int ns = -1, rtnl = -1, events = -1;
};

}  // namespace

int main() {
  int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) die("open home netns", errno);
  Node client{"client"}, router{"router"}, server{"server"};
  Node* nodes[] = {&client, &router, &server};
  for (Node* n : nodes) {
    n->ns = ns_create(home);
    if (setns(n->ns, CLONE_NEWNET) < 0) die("setns", errno);
    write_file("/proc/sys/net/ipv6/conf/all/accept_dad", "0");
    write_file("/proc/sys/net/ipv6/conf/default/accept_dad", "0");
    if (n == &router) {
      write_file("/proc/sys/net/ipv4/ip_forward", "1");
      write_file("/proc/sys/net/ipv6/conf/all/forwarding", "1");
    }
    n->rtnl = rtnl_socket();
    n->events = rtnl_socket(RTMGRP_LINK);  // before any link goes up: no change is missed
    link_up(n->rtnl, 1);
  }
  if (setns(home, CLONE_NEWNET) < 0) die("setns home", errno);
  // Distinct ifindexes on the two ends of a pair: the carrier event is then urgent (DESIGN).
  int rtnl = rtnl_socket();
  veth(rtnl, "eth0", client.ns, "eth0", router.ns, 1500, 2, 3);
  veth(rtnl, "eth1", router.ns, "eth0", server.ns, 1280, 4, 5);
  close(rtnl);

  link_up(client.rtnl, 2);
  address(client.rtnl, 2, "10.0.1.1", 24);
  address(client.rtnl, 2, "fd00:1::1", 64);
  default_route(client.rtnl, "10.0.1.254");
  default_route(client.rtnl, "fd00:1::fe");
  link_up(router.rtnl, 3);
  link_up(router.rtnl, 4);
  address(router.rtnl, 3, "10.0.1.254", 24);
  address(router.rtnl, 3, "fd00:1::fe", 64);
  address(router.rtnl, 4, "10.0.2.254", 24);
  address(router.rtnl, 4, "fd00:2::fe", 64);
  link_up(server.rtnl, 5);
  address(server.rtnl, 5, "10.0.2.1", 24);
  address(server.rtnl, 5, "fd00:2::1", 64);
  default_route(server.rtnl, "10.0.2.254");
  default_route(server.rtnl, "fd00:2::fe");

  // Ready: every link of every node operstate UP; between dumps, wait for a link event (5 s).
  for (Node* n : nodes) {
    while (!all_up(n->rtnl)) {
      pollfd p{n->events, POLLIN, 0};
      if (poll(&p, 1, 5000) <= 0) die("waiting for operstate UP", ETIMEDOUT);
      char drain[16384];
      while (recv(n->events, drain, sizeof drain, MSG_DONTWAIT) > 0) {
      }
    }
  }

  pid_t pid = fork();
  if (pid == 0) {
    if (setns(client.ns, CLONE_NEWNET) < 0) _exit(126);
    execlp("true", "true", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  for (Node* n : nodes) {
    close(n->rtnl);
    close(n->events);
    close(n->ns);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
