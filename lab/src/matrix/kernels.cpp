// Kernels for the matrix: Debian's linux-image packages, fetched with apt-get download and
// unpacked with dpkg-deb into the cache (never installed), with modules.dep made by depmod -b and
// a small initramfs of our own: static busybox, the modules that mount the host's root over 9p
// (virtio_pci, 9pnet_virtio, 9p, overlay and what they need), and /init.

#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cpio.hpp"
#include "nslab/error.hpp"
#include "nslab/matrix.hpp"
#include "nslab/unique_fd.hpp"
#include "subprocess.hpp"

namespace fs = std::filesystem;

namespace nslab::matrix {

namespace {

using std::chrono::seconds;

// Bumped whenever /init or the module list changes: the cached initramfs is then rebuilt.
constexpr int kInitramfsVersion = 1;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot read {}", path), errno ? errno : EIO);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw Error(fmt::format("cannot write {}", tmp), errno ? errno : EIO);
  }
  chmod(tmp.c_str(), mode);
  if (rename(tmp.c_str(), path.c_str()) < 0) throw Error("rename " + tmp, errno);
}

// Numbers in a package name, for "newest": linux-image-6.12.117+deb12 > 6.12.101+deb12.
std::vector<long> numbers_of(const std::string& s) {
  std::vector<long> out;
  for (std::size_t i = 0; i < s.size();) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    out.push_back(std::stol(s.substr(i, std::min<std::size_t>(j - i, 9))));
    i = j;
  }
  return out;
}

bool plain_word(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+';
  });
}

bool is_short_version(const std::string& s) {
  auto dot = s.find('.');
  return dot != std::string::npos && dot > 0 && dot + 1 < s.size() &&
         std::all_of(
             s.begin(), s.end(),
             [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; }) &&
         std::count(s.begin(), s.end(), '.') == 1;
}

// The newest linux-image-X.Y*-amd64 that apt knows (the generic flavour: not cloud, rt, dbg or
// unsigned).
std::string package_for(const std::string& version) {
  std::string prefix = "linux-image-" + version;
  auto r = run_tool({"apt-cache", "pkgnames", prefix}, seconds(60));
  std::string best;
  std::istringstream in(r.output);
  for (std::string name; std::getline(in, name);) {
    if (name.size() <= prefix.size() || (name[prefix.size()] != '.' && name[prefix.size()] != '-'))
      continue;  // 6.1 must not take 6.12
    if (name.size() < 6 || name.substr(name.size() - 6) != "-amd64") continue;
    if (name.find("-cloud-") != std::string::npos || name.find("-rt-") != std::string::npos)
      continue;
    if (best.empty() || numbers_of(name) > numbers_of(best)) best = name;
  }
  if (best.empty())
    throw Error(fmt::format("no Debian package linux-image-{}*-amd64 is known to apt (apt-get "
                            "update? `apt-cache pkgnames linux-image-` lists them)",
                            version),
                ENOENT);
  return best;
}

// The release a tree holds: the one folder under lib/modules.
std::string release_of(const std::string& tree) {
  std::string found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(tree + "/lib/modules", ec))
    if (e.is_directory()) {
      if (!found.empty())
        throw Error(fmt::format("{}/lib/modules holds more than one kernel", tree), EINVAL);
      found = e.path().filename().string();
    }
  if (found.empty())
    throw Error(fmt::format("{} is no unpacked kernel (no lib/modules/RELEASE)", tree), ENOENT);
  return found;
}

// Holds the cache's lock (flock): two nslab processes never fetch into it at once.
UniqueFd lock_cache(const std::string& dir) {
  fs::create_directories(dir);
  UniqueFd fd(open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw Error("open " + dir + "/.lock", errno);
  if (flock(fd.get(), LOCK_EX) < 0) throw Error("flock " + dir + "/.lock", errno);
  return fd;
}

// Beside a fetched tree: `md5sums`, the package's own (DEBIAN/md5sums: "HASH  boot/vmlinuz-R"),
// and `sizes`, every regular file of the tree with its size as unpacked ("SIZE PATH"), written
// last: a cache entry without it is not whole.
constexpr const char* kSizes = "sizes";
constexpr const char* kMd5sums = "md5sums";

void write_sizes(const std::string& dir) {
  std::string out;
  const fs::path tree = fs::path(dir) / "tree";
  for (const auto& e : fs::recursive_directory_iterator(tree))
    if (e.is_regular_file() && !e.is_symlink())
      out += fmt::format("{} {}\n", e.file_size(), fs::relative(e.path(), tree).string());
  write_file(dir + "/" + kSizes, out);
}

// What is wrong with a cached package's tree (a file missing or of another size than when it was
// unpacked, the kernel image not what the package holds), or empty when it is whole.
std::string cache_damage(const std::string& dir, const std::string& release) {
  std::ifstream sizes(dir + "/" + kSizes);
  if (!sizes) return "it has no list of its files (an interrupted fetch, or an older nslab's)";
  const fs::path tree = fs::path(dir) / "tree";
  std::size_t files = 0;
  for (std::string line; std::getline(sizes, line);) {
    auto sp = line.find(' ');
    if (sp == std::string::npos) return "its list of files is damaged";
    std::string path = line.substr(sp + 1);
    std::error_code ec;
    auto size = fs::file_size(tree / path, ec);
    if (ec) return fmt::format("{} is missing", path);
    if (std::to_string(size) != line.substr(0, sp))
      return fmt::format("{} is {} bytes, {} when it was unpacked", path, size, line.substr(0, sp));
    ++files;
  }
  if (files == 0) return "its list of files is empty";
  // The image the guest boots, byte for byte as the package has it.
  const std::string image = "boot/vmlinuz-" + release;
  std::ifstream md5sums(dir + "/" + kMd5sums);
  std::string want;
  for (std::string line; std::getline(md5sums, line);)
    if (line.size() > 34 && line.substr(34) == image) want = line.substr(0, 32);
  if (want.empty()) return fmt::format("the package's md5sums do not list {}", image);
  auto r = run_tool({"md5sum", "--", image}, seconds(60), tree.string());
  if (r.status != 0 || r.output.substr(0, 32) != want)
    return fmt::format("{} is not the package's (md5 {}, the package says {})", image,
                       r.output.substr(0, 32), want);
  return "";
}

void fetch(const std::string& package, const std::string& final_dir, Kernel& k, std::FILE* log) {
  std::string tmp = final_dir + ".partial";
  // A failed fetch leaves nothing behind (the next one would start over anyway).
  struct Cleanup {
    std::string dir;
    bool done = false;
    ~Cleanup() {
      std::error_code ec;
      if (!done) fs::remove_all(dir, ec);
    }
  } cleanup{tmp};
  fs::remove_all(tmp);
  fs::create_directories(tmp + "/tree");
  auto t0 = std::chrono::steady_clock::now();
  fmt::print(log, "fetching {} (apt-get download)\n", package);
  std::fflush(log);
  auto r = run_tool({"apt-get", "download", "-q", package}, seconds(1800), tmp);
  if (r.status != 0)
    throw Error(fmt::format("apt-get download {} failed:\n{}", package, r.output), EIO);
  std::string deb;
  for (const auto& e : fs::directory_iterator(tmp))
    if (e.path().extension() == ".deb") deb = e.path().string();
  if (deb.empty()) throw Error("apt-get download left no .deb", ENOENT);
  k.package_mb = static_cast<double>(fs::file_size(deb)) / 1e6;
  auto t1 = std::chrono::steady_clock::now();
  r = run_tool({"dpkg-deb", "-x", deb, tmp + "/tree"}, seconds(600));
  if (r.status != 0) throw Error(fmt::format("dpkg-deb -x {} failed:\n{}", deb, r.output), EIO);
  r = run_tool({"dpkg-deb", "-e", deb, tmp + "/control"}, seconds(600));
  if (r.status != 0) throw Error(fmt::format("dpkg-deb -e {} failed:\n{}", deb, r.output), EIO);
  fs::rename(tmp + "/control/md5sums", tmp + "/" + kMd5sums);
  fs::remove_all(tmp + "/control");
  fs::remove(deb);
  std::string release = release_of(tmp + "/tree");
  r = run_tool({"depmod", "-b", tmp + "/tree", release}, seconds(600));
  if (r.status != 0) throw Error(fmt::format("depmod failed:\n{}", r.output), EIO);
  auto t2 = std::chrono::steady_clock::now();
  std::uintmax_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(tmp + "/tree"))
    if (e.is_regular_file()) bytes += e.file_size();
  fmt::print(log, "fetched {} ({:.0f} MB) in {:.1f} s; unpacked ({:.0f} MB) in {:.1f} s\n", package,
             k.package_mb, std::chrono::duration<double>(t1 - t0).count(),
             static_cast<double>(bytes) / 1e6, std::chrono::duration<double>(t2 - t1).count());
  write_sizes(tmp);
  fs::remove_all(final_dir);  // a damaged entry being replaced
  fs::rename(tmp, final_dir);
  cleanup.done = true;
}

// A module file's content, decompressed as modprobe would.
std::string module_bytes(const std::string& path) {
  auto ends = [&](const char* s) {
    std::string x = s;
    return path.size() > x.size() && path.compare(path.size() - x.size(), x.size(), x) == 0;
  };
  if (!ends(".xz") && !ends(".zst") && !ends(".gz")) return slurp(path);
  const char* tool = ends(".xz") ? "xz" : ends(".zst") ? "zstd" : "gzip";
  // run_tool merges stderr into the output, so a failure is told by the status.
  auto r = run_tool({tool, "-qdc", path}, seconds(60), "", true);
  if (r.status != 0) throw Error(fmt::format("{} -dc {} failed: {}", tool, path, r.output), EIO);
  return r.output;
}

// /init: mounts, loads the modules, mounts the host's root read-only over 9p with a writable
// /tmp (tmpfs over it) and /run, mounts the results share, and switches root to the host's file
// system, where the run's own script (stage2, written per run into the share) takes over. A
// switch_root, not a chroot: a chrooted process may not create user namespaces.
constexpr const char* kInit = R"SH(#!/bin/busybox sh
B=/bin/busybox
$B mount -t proc proc /proc
$B mount -t sysfs sys /sys
$B mount -t devtmpfs dev /dev
fail() { echo "nslab-guest: failed: $*"; $B poweroff -f; }
for m in /mods/*; do $B insmod "$m" || fail "insmod $m"; done
case " $($B cat /proc/cmdline) " in *" nslab.probe "*) echo "nslab-guest: probe ok"; $B poweroff -f;; esac
$B mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose root /newroot || fail "mount the host's root (9p)"
for d in proc sys dev; do $B mount --move /$d /newroot/$d || fail "move /$d"; done
$B mkdir -p /newroot/dev/shm /newroot/dev/pts
$B mount -t tmpfs shm /newroot/dev/shm
$B mount -t devpts pts /newroot/dev/pts
$B mount -t tmpfs run /newroot/run || fail "tmpfs on /run"
$B mkdir -p /upper && $B mount -t tmpfs upper /upper && $B mkdir /upper/u /upper/w
$B mount -t overlay tmp -o lowerdir=/newroot/tmp,upperdir=/upper/u,workdir=/upper/w /newroot/tmp || fail "overlay on /tmp"
$B mkdir /newroot/run/nslab
$B mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /newroot/run/nslab || fail "mount the results share (9p)"
exec $B switch_root /newroot /bin/sh /run/nslab/stage2
)SH";

void build_initramfs(const Kernel& k, const std::string& out) {
  std::vector<std::string> modules;
  for (const char* m : {"virtio_pci", "9pnet_virtio", "9p", "overlay"}) {
    auto r =
        run_tool({"modprobe", "-d", k.tree, "-S", k.release, "--show-depends", m}, seconds(60));
    if (r.status != 0)
      throw Error(fmt::format("kernel {} lacks module {}: {}", k.release, m, r.output), ENOENT);
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("insmod ", 0) != 0) continue;  // "builtin virtio_pci"
      std::string path = line.substr(7);
      path = path.substr(0, path.find(' '));
      if (std::find(modules.begin(), modules.end(), path) == modules.end()) modules.push_back(path);
    }
  }
  const char* busybox = "/bin/busybox";
  if (access(busybox, X_OK) != 0)
    throw Error("/bin/busybox is missing: install busybox-static", ENOENT);
  std::vector<CpioEntry> e;
  for (const char* d : {"bin", "dev", "proc", "sys", "newroot", "mods"})
    e.push_back({.name = d, .mode = S_IFDIR | 0755, .data = {}});
  e.push_back({.name = "dev/console",
               .mode = S_IFCHR | 0600,
               .data = {},
               .rdev_major = 5,
               .rdev_minor = 1});
  e.push_back({.name = "bin/busybox", .mode = S_IFREG | 0755, .data = slurp(busybox)});
  e.push_back({.name = "init", .mode = S_IFREG | 0755, .data = kInit});
  for (std::size_t i = 0; i < modules.size(); ++i) {
    std::string base = fs::path(modules[i]).filename().string();
    base = base.substr(0, base.find(".ko") + 3);
    e.push_back({.name = fmt::format("mods/{:02}-{}", i, base),
                 .mode = S_IFREG | 0644,
                 .data = module_bytes(modules[i])});
  }
  std::string cpio = cpio_newc(e);
  write_file(out + ".size", std::to_string(cpio.size()) + "\n");
  write_file(out, cpio);
}

// Whether the cached initramfs is the one build_initramfs wrote: as many bytes, ending in the
// cpio trailer.
bool initramfs_whole(const std::string& path) {
  std::ifstream size_file(path + ".size");
  std::uintmax_t want = 0;
  if (!(size_file >> want)) return false;
  std::error_code ec;
  if (fs::file_size(path, ec) != want || ec) return false;
  std::ifstream in(path, std::ios::binary);
  constexpr std::size_t kTail = 512;
  if (want < kTail) return false;
  in.seekg(static_cast<std::streamoff>(want - kTail));
  std::string tail(kTail, '\0');
  in.read(tail.data(), kTail);
  return in && tail.find("TRAILER!!!") != std::string::npos;
}

void finish(Kernel& k) {
  k.release = release_of(k.tree);
  k.vmlinuz = k.tree + "/boot/vmlinuz-" + k.release;
  k.config = k.tree + "/boot/config-" + k.release;
  if (access(k.vmlinuz.c_str(), R_OK) != 0)
    throw Error(fmt::format("{}: no readable boot/vmlinuz-{}", k.tree, k.release), ENOENT);
  if (access((k.tree + "/lib/modules/" + k.release + "/modules.dep").c_str(), R_OK) != 0)
    throw Error(
        fmt::format("{} has no modules.dep: run depmod -b {} {}", k.tree, k.tree, k.release),
        ENOENT);
}

}  // namespace

std::string cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/')
    return std::string(x) + "/nslab";
  if (const char* h = std::getenv("HOME"); h && *h == '/') return std::string(h) + "/.cache/nslab";
  // No HOME (a bare CI runner, a service): the home folder the user database names.
  if (const passwd* pw = getpwuid(getuid()); pw && pw->pw_dir && *pw->pw_dir == '/')
    return std::string(pw->pw_dir) + "/.cache/nslab";
  throw Error(
      "neither XDG_CACHE_HOME nor HOME is set, and this user has no home: no cache for "
      "kernels",
      ENOENT);
}

Kernel prepare_kernel(const std::string& spec, std::FILE* log) {
  Kernel k;
  k.label = spec;
  if (spec == "host") {
    k.host = true;
    return k;
  }
  const std::string kernels = cache_dir() + "/kernels";
  std::error_code ec;
  std::string key;
  if (spec.find('/') != std::string::npos) {
    if (!fs::is_directory(spec, ec))
      throw Error(fmt::format("kernel '{}': no such folder", spec), ENOENT);
    k.tree = fs::absolute(spec).lexically_normal().string();
    if (k.tree.size() > 1 && k.tree.back() == '/') k.tree.pop_back();
    finish(k);
    key = "path-" + std::to_string(std::hash<std::string>{}(k.tree));
  } else {
    if (!plain_word(spec))
      throw Error(fmt::format("kernel '{}': a version (6.1), a package name (linux-image-...), "
                              "a path to an unpacked kernel, or host",
                              spec),
                  EINVAL);
    k.package = is_short_version(spec) ? package_for(spec) : spec;
    if (k.package.rfind("linux-image-", 0) != 0)
      throw Error(fmt::format("kernel '{}': a version (6.1), a package name (linux-image-...), "
                              "a path to an unpacked kernel, or host",
                              spec),
                  EINVAL);
    key = k.package;
    k.tree = kernels + "/" + key + "/tree";
  }
  try {
    UniqueFd lock = lock_cache(kernels);
    const std::string dir = kernels + "/" + key;
    if (!k.package.empty() && fs::is_directory(k.tree, ec)) {
      std::string damage;
      try {
        damage = cache_damage(dir, release_of(k.tree));
      } catch (const Error& e) {
        damage = e.what();
      }
      if (!damage.empty()) {
        fmt::print(log, "the cached {} is damaged ({}): fetching it again\n", k.package, damage);
        fs::remove_all(dir);
      }
    }
    if (!k.package.empty() && !fs::is_directory(k.tree, ec)) fetch(k.package, dir, k, log);
    if (!k.package.empty()) finish(k);
    fs::create_directories(dir);
    k.initramfs = fmt::format("{}/initramfs-v{}.cpio", dir, kInitramfsVersion);
    if (!initramfs_whole(k.initramfs)) build_initramfs(k, k.initramfs);
  } catch (const fs::filesystem_error& e) {
    // An unwritable or vanished cache folder, a full disk.
    throw Error(fmt::format("the kernel cache {}: {}", kernels, e.code().message()),
                e.code().value());
  }
  return k;
}

}  // namespace nslab::matrix
