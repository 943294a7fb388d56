// Booting a kernel in QEMU and running `nslab run` inside; the same run on the host.

#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fmt/format.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "nslab/error.hpp"
#include "nslab/matrix.hpp"
#include "nslab/report_file.hpp"
#include "nslab/userns.hpp"
#include "subprocess.hpp"

namespace fs = std::filesystem;

namespace nslab::matrix {

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw Error("cannot write " + path, errno ? errno : EIO);
  }
  if (chmod(path.c_str(), mode) < 0) throw Error("chmod " + path, errno);
}

std::vector<std::string> qemu_argv(const Kernel& k, bool kvm, const std::string& append,
                                   const std::string& share) {
  std::vector<std::string> a = {"qemu-system-x86_64",
                                "-accel",
                                kvm ? "kvm" : "tcg",
                                "-m",
                                "1024",
                                "-smp",
                                "1",  // 1 vCPU ran the suite faster than 2 on 2 cores
                                "-nodefaults",
                                "-nographic",
                                "-no-reboot",
                                "-kernel",
                                k.vmlinuz,
                                "-initrd",
                                k.initramfs,
                                "-append",
                                "console=ttyS0 quiet panic=-1 " + append,
                                "-chardev",
                                "stdio,id=c0,signal=off",
                                "-serial",
                                "chardev:c0"};
  if (!share.empty()) {
    a.insert(a.end(), {"-virtfs",
                       "local,path=/,mount_tag=root,security_model=none,readonly=on,"
                       "multidevs=remap",
                       "-virtfs", "local,path=" + share + ",mount_tag=out,security_model=none"});
  }
  return a;
}

struct Tail {
  std::deque<std::string> lines;
  void add(const std::string& l) {
    lines.push_back(l);
    if (lines.size() > 25) lines.pop_front();
  }
  std::vector<std::string> get() const { return {lines.begin(), lines.end()}; }
};

Json read_report(const std::string& path, std::string& failure) {
  std::string why;
  auto j = read_json_file(path, why);
  if (!j) {
    failure = std::filesystem::exists(path) ? "the run's report " + why : "the run wrote no report";
    return Json();
  }
  if (std::string e = run_report_shape_error(*j); !e.empty()) {
    failure = "the run's report is not shaped as nslab writes it: " + e;
    return Json();
  }
  return std::move(*j);
}

}  // namespace

std::string private_work_dir() {
  std::string dir = cache_dir() + "/run";
  fs::create_directories(dir);
  if (is_real_root()) {
    if (unshare(CLONE_NEWNS) < 0) throw Error("unshare(CLONE_NEWNS)", errno);
  } else {
    acquire_privileges();  // a user namespace and a mount namespace of our own
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
    throw Error("make / private", errno);
  if (mount("nslab-matrix", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
    throw Error("tmpfs on " + dir, errno);
  return dir;
}

Accel detect_accel(const Kernel& any, std::FILE* log) {
  if (access("/dev/kvm", R_OK | W_OK) != 0) return {false, "/dev/kvm cannot be opened"};
  utsname u{};
  uname(&u);
  const std::string cached = fmt::format("{}/accel-{}", cache_dir(), u.release);
  if (std::ifstream in(cached); in) {
    std::string line;
    std::getline(in, line);
    if (line == "kvm") return {true, "KVM (cached in " + cached + ")"};
    if (line.rfind("tcg ", 0) == 0) return {false, line.substr(4) + " (cached in " + cached + ")"};
  }
  fmt::print(log, "trying KVM once (bounded at 10 s; the answer is cached)\n");
  std::fflush(log);
  Subprocess q(qemu_argv(any, true, "nslab.probe", ""));
  bool ok = false;
  auto until = Clock::now() + std::chrono::seconds(10);
  q.read_lines(
      [&](const std::string& l) { ok = ok || l.find("nslab-guest: probe ok") == 0; },
      [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()); });
  q.kill();
  q.wait();
  Accel a{ok, ok ? "KVM" : "KVM did not boot a stock kernel within 10 s"};
  std::ofstream(cached) << (ok ? "kvm" : "tcg " + a.why) << "\n";
  return a;
}

GuestRun run_in_guest(const Kernel& k, const GuestOptions& o) {
  GuestRun g;
  static int serial = 0;
  std::string share = fmt::format("{}/guest-{}", o.work_dir, ++serial);
  fs::create_directories(share);
  std::string args;
  for (const auto& a : o.run_args) args += " " + quote(a);
  write_file(
      share + "/stage2",
      fmt::format(R"SH(export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 NO_COLOR=1
echo /run/nslab/modprobe > /proc/sys/kernel/modprobe
# What udev's static nodes give a full system: /dev/net/tun loads tun on first open.
mkdir -p /dev/net && mknod /dev/net/tun c 10 200 2>/dev/null
echo "nslab-guest: up $(cut -d' ' -f1 /proc/uptime)"
cd {} || {{ echo "nslab-guest: failed: no folder {}"; /bin/busybox poweroff -f; }}
{} run{} --json /run/nslab/report.json
echo $? > /run/nslab/status
/bin/busybox poweroff -f
)SH",
                  quote(o.cwd), o.cwd, quote(o.nslab), args),
      0644);
  // The kernel asks this program for modules it lacks (veth, nf_tables, ...): modprobe on the
  // unpacked tree, which the guest sees where the host keeps it.
  write_file(share + "/modprobe",
             fmt::format("#!/bin/sh\nexec /sbin/modprobe -d {} \"$@\"\n", quote(k.tree)), 0755);
  auto t0 = Clock::now();
  Subprocess q(qemu_argv(k, o.kvm, "", share));
  Tail tail;
  Clock::time_point up_at{};
  bool ended = q.read_lines(
      [&](const std::string& l) {
        tail.add(l);
        // The firmware ends its last line without a newline: the marker may follow it.
        if (!g.booted && l.find("nslab-guest: up") != std::string::npos) {
          g.booted = true;
          g.boot_ms = ms_since(t0);
          up_at = Clock::now();
          return;
        }
        if (auto at = l.find("nslab-guest: failed: "); at != std::string::npos)
          g.failure = l.substr(at + 13);
        // The guest's nslab, not the kernel's messages ("[    5.17] ...").
        if (g.booted && o.on_line && !(l.size() > 1 && l[0] == '[' && l[1] == ' ')) o.on_line(l);
      },
      [&] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(g.booted ? o.quiet_bound
                                                                              : o.boot_bound);
      });
  q.wait();
  if (g.booted) g.run_ms = ms_since(up_at);
  g.console_tail = tail.get();
  if (!ended) {
    g.failure =
        g.booted
            ? fmt::format("the guest said nothing for {} s; QEMU was killed", o.quiet_bound.count())
            : fmt::format("did not boot within {} s; QEMU was killed", o.boot_bound.count());
    return g;
  }
  if (!g.booted) {
    if (g.failure.empty()) g.failure = "the guest stopped before its userland was up";
    return g;
  }
  if (std::ifstream st(share + "/status"); st) st >> g.exit_status;
  std::string why;
  g.report = read_report(share + "/report.json", why);
  if (g.report.is_null() && g.failure.empty())
    g.failure = g.exit_status >= 0 ? fmt::format("{} (nslab run exited {})", why, g.exit_status)
                                   : why + " (the guest ended before nslab run did)";
  return g;
}

GuestRun run_on_host(const GuestOptions& o) {
  GuestRun g;
  std::string dir = o.work_dir + "/host";
  fs::create_directories(dir);
  std::vector<std::string> argv = {o.nslab, "run"};
  argv.insert(argv.end(), o.run_args.begin(), o.run_args.end());
  argv.insert(argv.end(), {"--json", dir + "/report.json"});
  auto t0 = Clock::now();
  Subprocess p(argv, o.cwd);
  Tail tail;
  g.booted = true;
  bool ended = p.read_lines(
      [&](const std::string& l) {
        tail.add(l);
        if (o.on_line) o.on_line(l);
      },
      [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(o.quiet_bound); });
  g.exit_status = p.wait();
  g.run_ms = ms_since(t0);
  g.console_tail = tail.get();
  if (!ended) {
    g.failure =
        fmt::format("nslab run said nothing for {} s and was killed", o.quiet_bound.count());
    return g;
  }
  std::string why;
  g.report = read_report(dir + "/report.json", why);
  if (g.report.is_null()) g.failure = fmt::format("{} (nslab run exited {})", why, g.exit_status);
  return g;
}

Json kernel_facts(const Kernel& k) {
  std::string release = k.release, config = k.config;
  if (k.host) {
    utsname u{};
    uname(&u);
    release = u.release;
    config = "/boot/config-" + release;
  }
  Json facts = {{"release", release}, {"package", k.package}, {"config_file", Json()}};
  // The options the bundled scenarios depend on, as the kernel was built.
  static const char* const kOptions[] = {"VETH",
                                         "BRIDGE",
                                         "VLAN_8021Q",
                                         "MACVLAN",
                                         "IPVLAN",
                                         "VXLAN",
                                         "GENEVE",
                                         "NET_IPGRE",
                                         "NET_IPIP",
                                         "IPV6_SIT",
                                         "IPV6_TUNNEL",
                                         "IPV6_GRE",
                                         "NET_VRF",
                                         "DUMMY",
                                         "TUN",
                                         "NET_SCH_TBF",
                                         "NET_SCH_HTB",
                                         "NET_SCH_NETEM",
                                         "NF_TABLES",
                                         "IP_MULTIPLE_TABLES",
                                         "IPV6_MULTIPLE_TABLES",
                                         "UNIX",
                                         "IPV6",
                                         "NET_NS",
                                         "USER_NS",
                                         "PREEMPT_RT",
                                         "HZ"};
  std::ifstream in(config);
  if (!in) return facts;
  facts["config_file"] = config;
  Json options = Json::object();
  for (const char* o : kOptions) options[std::string("CONFIG_") + o] = "n";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("CONFIG_", 0) != 0) continue;
    auto eq = line.find('=');
    std::string name = line.substr(0, eq);
    if (eq != std::string::npos && options.contains(name)) options[name] = line.substr(eq + 1);
  }
  facts["config"] = options;
  return facts;
}

}  // namespace nslab::matrix
