#pragma once
// `nslab matrix` (SPEC 8): the same scenarios on other Linux kernels. Debian's linux-image
// packages are fetched and unpacked into a cache (never installed), each kernel is booted in QEMU
// with the host's root file system shared read-only over 9p, and `nslab run` runs inside; its
// report comes back through a second, writable share. QEMU is spoken to here only.

#include <chrono>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace nslab::matrix {

// A kernel to run on, ready to boot.
struct Kernel {
  std::string label;    // as the user named it: "6.12", a package, a path, "host"
  bool host = false;    // the running kernel, no QEMU
  std::string package;  // linux-image-...; empty for a path or the host
  std::string tree;     // the unpacked package: boot/ and lib/modules/RELEASE/
  std::string release;  // "6.12.117+deb12-amd64"
  std::string vmlinuz, config, initramfs;
  double package_mb = 0;  // the .deb's size when it was fetched (0: from the cache)
};

// $XDG_CACHE_HOME/nslab, else ~/.cache/nslab.
std::string cache_dir();

// Resolves `spec` (a short version such as 6.1: the newest Debian linux-image-6.1*-amd64; a
// package name; a path to an unpacked kernel; or "host"), fetches and unpacks it into the cache
// when it is not there yet, and builds its initramfs. Progress goes to `log`. Throws Error.
Kernel prepare_kernel(const std::string& spec, std::FILE* log);

// Whether KVM can run a stock kernel here: tried once with a short bound, then cached.
struct Accel {
  bool kvm = false;
  std::string why;  // why not, or how it was found
};
Accel detect_accel(const Kernel& any, std::FILE* log);

// Software emulation is this much slower: the factor every timeout in the guest is scaled by.
inline constexpr double kTcgTimeScale = 3.0;

// Moves this process into a private mount namespace with a tmpfs under the cache, where the
// guests' result shares live: they vanish with the process, however it ends. Call before any
// thread starts (it may enter a user namespace when not root). Returns that folder.
std::string private_work_dir();

struct GuestOptions {
  std::vector<std::string> run_args;  // after `nslab run`
  std::string cwd;                    // where the guest's nslab runs (the host's cwd)
  std::string nslab;                  // the nslab executable (visible in the guest at this path)
  std::string work_dir;               // from private_work_dir()
  bool kvm = false;
  std::chrono::seconds boot_bound{60};              // until the guest's userland says it is up
  std::chrono::seconds quiet_bound{300};            // between two lines of output once up
  std::function<void(const std::string&)> on_line;  // each line of the guest's nslab
};

struct GuestRun {
  bool booted = false;
  int exit_status = -1;                   // of the guest's `nslab run`; -1 when it did not end
  std::string failure;                    // why there is no report: "did not boot within 60 s", ...
  std::vector<std::string> console_tail;  // the last lines of the console, for failures
  nlohmann::ordered_json report;          // the guest's --json report
  double boot_ms = 0, run_ms = 0;
};

// Boots `kernel` and runs `nslab run` inside. Every wait is bounded; QEMU dies with nslab.
GuestRun run_in_guest(const Kernel& kernel, const GuestOptions& options);

// `nslab run` on the running kernel, as a child process, its report written to `work_dir`.
GuestRun run_on_host(const GuestOptions& options);

// Kernel facts for the report: release, package, config file and the values of the options
// the scenarios depend on.
nlohmann::ordered_json kernel_facts(const Kernel& kernel);

// The matrix (`nslab matrix`): the same suite on every kernel named.
struct MatrixOptions {
  std::vector<std::string> kernels;   // as named, in the table's order
  std::string baseline;               // the kernel the others are diffed against; empty: first
  std::vector<std::string> run_args;  // for each kernel's `nslab run`, after its bounds and -j
  int jobs = 1;
  double time_scale = 0;  // 0: 1 under KVM and on the host, kTcgTimeScale under emulation
  std::chrono::seconds boot_bound{60};
  std::chrono::seconds longest_timeout{60};  // of the selected scenarios: a guest's silence
};

struct MatrixOutcome {
  nlohmann::ordered_json runs;  // per kernel: label, kernel facts, times, failure, report
  std::string baseline;
  bool any_failed = false;  // a scenario failed on some kernel
  bool any_setup = false;   // a kernel did not boot or its suite did not report
};

// Prepares every kernel (each fetched and unpacked before anything boots), then runs the suite
// on each in turn, its progress and each kernel's line of results on `out`. Throws Error for
// what stops the matrix before any kernel runs: a kernel named twice or that cannot be had, a
// baseline that is none of them, no accelerator probe or private work folder.
MatrixOutcome run_matrix(const MatrixOptions& options, std::FILE* out);

// One row per scenario, one column per kernel; '*' marks rows whose verdicts differ.
void print_verdict_table(const nlohmann::ordered_json& runs, std::FILE* out);
// Each kernel's observations against the baseline's (SPEC 8), `ignore` masked too.
void print_diffs(const nlohmann::ordered_json& runs, const std::string& baseline,
                 const std::vector<std::string>& ignore, std::FILE* out);
// JUnit: one testsuite per kernel; a kernel that did not run is one failed testcase.
std::string matrix_junit(const nlohmann::ordered_json& runs);

}  // namespace nslab::matrix
