// libFuzzer target: any bytes as nslab's command line (arguments separated by NUL bytes, after
// argv[0] "nslab"), parsed by the real grammar (lab/cli/command_line.cpp) with bodies that run
// nothing and instead check what the parse let through: every bound the options promise
// (--jobs, --time-scale, --boot-timeout, --shard I/N), the required arguments present. Never a
// crash, an escaped exception (main() would print "internal error"), a sanitizer report or a
// broken promise (a trap).

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "command_line.hpp"

namespace {

using namespace nslab::cli;

void promise(bool kept) {
  if (!kept) __builtin_trap();
}

bool scale_ok(double s) {
  return std::isfinite(s) && s >= 0.1 && s <= 100.0;
}

int checked_run(const RunArgs& a) {
  promise(a.jobs >= 1 && a.jobs <= 256);
  promise(scale_ok(a.time_scale));
  std::string error;
  auto shard = parse_shard(a.shard, error);
  promise(shard ? shard->index >= 0 && shard->index < shard->total : !error.empty());
  return 0;
}

int checked_matrix(const MatrixArgs& a) {
  promise(!a.kernels.empty());
  promise(a.jobs >= 1 && a.jobs <= 256);
  promise(a.time_scale == 0 || scale_ok(a.time_scale));
  promise(a.boot_bound >= 5 && a.boot_bound <= 3600);
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kMaxArgs = 64;
  std::vector<std::string> words{"nslab"};
  std::string word;
  for (std::size_t i = 0; i < size && words.size() < kMaxArgs; ++i) {
    if (data[i] == 0) {
      words.push_back(std::move(word));
      word.clear();
    } else {
      word += static_cast<char>(data[i]);
    }
  }
  if (!word.empty() && words.size() < kMaxArgs) words.push_back(std::move(word));
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  CommandBodies bodies{
      .validate = [](const std::vector<std::string>& paths) { return paths.empty() ? 3 : 0; },
      .graph = [](const std::string&) { return 0; },
      .exec =
          [](const ExecArgs& a) {
            promise(!a.command.empty());
            return 0;
          },
      .up = [](const std::string&) { return 0; },
      .run = checked_run,
      .version = [] { return 0; },
      .kinds = [](const std::vector<std::string>&) { return 0; },
      .diff = [](const DiffArgs&) { return 0; },
      .matrix = checked_matrix,
      .version_text = [] { return std::string("nslab fuzz"); },
  };
  int rc = run_command_line(static_cast<int>(words.size()), argv.data(), bodies);
  promise(rc == 0 || rc == 2);  // 3: validate ran without the PATH it requires
  return 0;
}
