// unix_sockets: what each Unix socket type does at its edges, in one node.
//   --case dgram-peer-closed: a connected datagram socket whose peer closed (no EOF).
//   --case sender-address: what recvfrom reports for an unbound sender, and for one with
//     SO_PASSCRED (which autobinds it).
//   --case seqpacket: record boundaries, MSG_TRUNC, MSG_EOR, against a stream socket.
//   --case connreset: a peer that closes with and without unread data, for stream, seqpacket
//     and datagram sockets (the kernel's af_unix unix_connreset.c cases).
// Sockets are non-blocking: where Linux has nothing to give, the record says EAGAIN.

#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "../common/probe.hpp"

namespace {

const char* type_name(int type) {
  switch (type) {
    case SOCK_STREAM:
      return "stream";
    case SOCK_SEQPACKET:
      return "seqpacket";
    default:
      return "dgram";
  }
}

// A non-blocking socketpair: a and b name its ends, which `ends` owns.
struct Pair {
  probe::FdPair ends;
  int a, b;
  explicit Pair(int type)
      : ends(probe::FdPair::socketpair(type | SOCK_CLOEXEC | SOCK_NONBLOCK)),
        a(ends[0]),
        b(ends[1]) {}
};

// A call's result as a record shows it: the count, or the errno name. Call it right after the
// call, before anything else can change errno.
std::string sent(ssize_t r) {
  return r < 0 ? probe::errno_name(errno) : std::to_string(r);
}

// One recvmsg into a buffer of `room` bytes: the byte count or errno name, and the flags.
probe::Json receive(int fd, std::size_t room, int flags = 0) {
  std::string buf(room, '\0');
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t r = recvmsg(fd, &msg, MSG_DONTWAIT | flags);
  probe::Json j = {{"result", sent(r)}};  // nothing between: errno is recvmsg's
  if (r >= 0) {
    j["data"] = buf.substr(0, static_cast<std::size_t>(r));
    j["msg_trunc"] = (msg.msg_flags & MSG_TRUNC) != 0;
    j["msg_eor"] = (msg.msg_flags & MSG_EOR) != 0;
  }
  return j;
}

short poll_now(int fd) {
  pollfd p{fd, POLLIN | POLLOUT | POLLRDHUP, 0};
  return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

probe::Json poll_names(short revents) {
  probe::Json names = probe::Json::array();
  for (auto [bit, name] : {std::pair{POLLIN, "POLLIN"},
                           {POLLOUT, "POLLOUT"},
                           {POLLRDHUP, "POLLRDHUP"},
                           {POLLHUP, "POLLHUP"},
                           {POLLERR, "POLLERR"}})
    if (revents & bit) names.push_back(name);
  return names;
}

// A connected datagram socket whose peer closed: sends are refused, then the socket is no longer
// connected; receives find nothing (EAGAIN), never an end of file.
int dgram_peer_closed() {
  Pair p(SOCK_DGRAM);
  std::string before = sent(send(p.a, "x", 1, 0));
  char c;
  (void)!recv(p.b, &c, 1, 0);
  p.ends.close(1);
  probe::Json polled = poll_names(poll_now(p.a));
  std::string first = sent(send(p.a, "x", 1, 0));
  std::string second = sent(send(p.a, "x", 1, 0));
  std::string r = sent(recv(p.a, &c, 1, 0));
  probe::emit("dgram_peer_closed", {{"send_before", before},
                                    {"poll_after_close", polled},
                                    {"first_send", first},
                                    {"second_send", second},
                                    {"recv", r}});
  p.ends.close(0);
  return probe::kRan;
}

sockaddr_un abstract_name(const std::string& name, socklen_t& len) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path + 1, name.data(), name.size());
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  return a;
}

// recvfrom's view of the sender: an unbound sender has no address (length 0); SO_PASSCRED on
// the sender makes the kernel autobind it before the send (an abstract NUL + 5 hex digits).
int sender_address(const probe::Options& o) {
  socklen_t len;
  sockaddr_un name = abstract_name(o.str("name"), len);
  nslab::UniqueFd rx_owner(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  const int rx = rx_owner.get();
  if (bind(rx, reinterpret_cast<sockaddr*>(&name), len) < 0) probe::fail("bind", errno);
  for (bool passcred : {false, true}) {
    nslab::UniqueFd tx_owner(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const int tx = tx_owner.get();
    int on = 1;
    if (passcred) setsockopt(tx, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    std::string s = sent(sendto(tx, "x", 1, 0, reinterpret_cast<sockaddr*>(&name), len));
    sockaddr_un from{};
    socklen_t from_len = sizeof from;
    char c;
    std::string r = sent(recvfrom(rx, &c, 1, 0, reinterpret_cast<sockaddr*>(&from), &from_len));
    sockaddr_un own{};
    socklen_t own_len = sizeof own;
    getsockname(tx, reinterpret_cast<sockaddr*>(&own), &own_len);
    probe::Json j = {{"so_passcred", passcred},
                     {"send", s},
                     {"recv", r},
                     {"addrlen", from_len},
                     {"sender_bound_addrlen", own_len}};
    if (from_len > offsetof(sockaddr_un, sun_path)) {
      j["abstract"] = from.sun_path[0] == '\0';
      j["same_as_sender"] = from_len == own_len && std::memcmp(&from, &own, from_len) == 0;
    }
    probe::emit("sender_address", j);
    tx_owner.reset();
  }
  return probe::kRan;
}

// Two records then one too long for the reader's buffer, over seqpacket and, for contrast,
// stream; the first send of each carries MSG_EOR.
int seqpacket() {
  for (int type : {SOCK_SEQPACKET, SOCK_STREAM}) {
    Pair p(type);
    std::string eor = sent(send(p.a, "abc", 3, MSG_EOR));
    std::string plain = sent(send(p.a, "defgh", 5, 0));
    probe::emit("records", {{"type", type_name(type)},
                            {"send_eor", eor},
                            {"send", plain},
                            {"first", receive(p.b, 16)},
                            {"second", receive(p.b, 16)}});
    send(p.a, "0123456789", 10, 0);
    send(p.a, "next", 4, 0);
    probe::Json small = receive(p.b, 4);
    probe::Json after = receive(p.b, 16);
    probe::emit("short_buffer",
                {{"type", type_name(type)}, {"buffer", 4}, {"first", small}, {"then", after}});
    // MSG_TRUNC asked by the reader: a seqpacket recv returns the record's real length.
    send(p.a, "0123456789", 10, 0);
    probe::emit("recv_msg_trunc",
                {{"type", type_name(type)}, {"buffer", 4}, {"got", receive(p.b, 4, MSG_TRUNC)}});
    p.ends.close(0);
    p.ends.close(1);
  }
  return probe::kRan;
}

// A listener (or a bound datagram socket) and a client connected to it, by abstract name.
struct Connected {
  nslab::UniqueFd client, server;
};
Connected connect_pair(int type, const std::string& name) {
  socklen_t len;
  sockaddr_un a = abstract_name(name, len);
  nslab::UniqueFd ls(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
  if (bind(ls.get(), reinterpret_cast<sockaddr*>(&a), len) < 0) probe::fail("bind", errno);
  if (type != SOCK_DGRAM) listen(ls.get(), 1);
  Connected c;
  c.client.reset(socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (connect(c.client.get(), reinterpret_cast<sockaddr*>(&a), len) < 0)
    probe::fail("connect", errno);
  if (type == SOCK_DGRAM)
    c.server = std::move(ls);  // the bound socket is the server end
  else
    c.server.reset(accept4(ls.get(), nullptr, nullptr, SOCK_CLOEXEC));  // the listener closes
  return c;
}

// The client sends, the server closes (having read it, or not), the client reads.
int connreset(const probe::Options& o) {
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM})
    for (bool unread : {false, true}) {
      Connected c = connect_pair(type, o.str("name"));
      std::string s = sent(send(c.client.get(), "hello", 5, 0));
      char buf[8];
      if (!unread) (void)!recv(c.server.get(), buf, sizeof buf, 0);
      c.server.reset();
      short revents = poll_now(c.client.get());
      std::string r = sent(recv(c.client.get(), buf, sizeof buf, 0));
      std::string again = sent(recv(c.client.get(), buf, sizeof buf, 0));
      std::string after = sent(send(c.client.get(), "x", 1, MSG_NOSIGNAL));
      probe::emit("peer_closed", {{"type", type_name(type)},
                                  {"unread_data", unread},
                                  {"send", s},
                                  {"poll", poll_names(revents)},
                                  {"recv", r},
                                  {"recv_again", again},
                                  {"send_after", after}});
    }
  return probe::kRan;
}

}  // namespace

int main(int argc, char** argv) {
  probe::Options o("unix_sockets",
                   "Unix socket edges: --case dgram-peer-closed|sender-address|seqpacket|"
                   "connreset.");
  o.value("case", "dgram-peer-closed, sender-address, seqpacket or connreset")
      .value("name", "sender-address, connreset: abstract name to bind", "nslab-unix-sockets");
  o.parse(argc, argv);
  const std::string& c = o.str("case");
  if (c == "dgram-peer-closed") return dgram_peer_closed();
  if (c == "sender-address") return sender_address(o);
  if (c == "seqpacket") return seqpacket();
  if (c == "connreset") return connreset(o);
  std::fprintf(stderr, "unix_sockets: unknown --case '%s'\n", c.c_str());
  return probe::kUsage;
}
