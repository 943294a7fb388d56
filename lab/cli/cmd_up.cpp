#include <fmt/format.h>
#include <unistd.h>

#include <memory>

#include "commands.hpp"
#include "nslab/lab.hpp"
#include "nslab/process.hpp"
#include "nslab/signals.hpp"
#include "nslab/userns.hpp"

namespace nslab::cli {

int run_up(const std::string& file) {
  bool own_userns = geteuid() != 0;
  if (!acquire_privileges_or_report()) return kSetup;
  auto t = load_topology_or_report(file);
  if (!t) return kFailed;
  SignalWatch signals;
  return guarded([&] {
    auto lab = Lab::build(*t);
    fmt::print("nslab: topology '{}' is up: {} nodes, {} links, built in {:.2f} ms\n", t->name,
               t->nodes.size(), t->links.size(), lab->build_time().count() / 1000.0);
    print_shell_commands(*lab, own_userns);
    std::fflush(stdout);
    int sig = signals.wait();
    int killed = kill_processes_in(lab->namespaces());
    lab.reset();
    fmt::print("nslab: signal {} received; lab torn down{}\n", sig,
               killed ? fmt::format(" ({} process(es) inside killed)", killed) : "");
    return kOk;
  });
}

}  // namespace nslab::cli
