// The libnftables adapter. The only file that includes libnftables.

#include "nslab/nft.hpp"

#include <nftables/libnftables.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <regex>

#include "nslab/error.hpp"

namespace nslab::nft {

namespace {

struct CtxDeleter {
  void operator()(nft_ctx* c) const { nft_ctx_free(c); }
};
using Ctx = std::unique_ptr<nft_ctx, CtxDeleter>;

Ctx make_ctx() {
  Ctx c(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!c) throw Error("nft_ctx_new failed", ENOMEM);
  nft_ctx_buffer_output(c.get());
  nft_ctx_buffer_error(c.get());
  return c;
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// nft reports "FILE:LINE:COL-COL: Error: text"; from a buffer it reports no line at all, so the
// ruleset goes through a memfd and nft reads it by name.
Failure parse_failure(const std::string& err) {
  static const std::regex loc(R"(^[^\n]*?:(\d+):(\d+)(?:-\d+)?: Error: ([^\n]*))");
  std::smatch m;
  if (std::regex_search(err, m, loc)) return {std::stoi(m[1]), std::stoi(m[2]), m[3]};
  std::string first = err.substr(0, err.find('\n'));
  if (first.rfind("Error: ", 0) == 0) first = first.substr(7);
  return {0, 0, first.empty() ? "nft failed" : first};
}

}  // namespace

std::optional<Failure> apply_here(const std::string& ruleset) {
  Fd mem{memfd_create("nslab-nft", MFD_CLOEXEC)};
  if (mem.fd < 0) throw_errno("memfd_create", errno);
  for (std::size_t done = 0; done < ruleset.size();) {
    ssize_t n = write(mem.fd, ruleset.data() + done, ruleset.size() - done);
    if (n < 0) throw_errno("write nft ruleset", errno);
    done += static_cast<std::size_t>(n);
  }
  Ctx ctx = make_ctx();
  std::string path = "/proc/self/fd/" + std::to_string(mem.fd);
  if (nft_run_cmd_from_filename(ctx.get(), path.c_str()) == 0) return std::nullopt;
  return parse_failure(nft_ctx_get_error_buffer(ctx.get()));
}

std::string list_here() {
  Ctx ctx = make_ctx();
  if (nft_run_cmd_from_buffer(ctx.get(), "list ruleset") != 0)
    throw Error(std::string("nft list ruleset: ") + nft_ctx_get_error_buffer(ctx.get()));
  return nft_ctx_get_output_buffer(ctx.get());
}

}  // namespace nslab::nft
