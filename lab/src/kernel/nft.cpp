// The libnftables adapter. The only file that includes libnftables, which it loads when the first
// ruleset is applied or listed (src/kernel/dl.hpp): a lab without nftables does not map it.

#include "nslab/nft.hpp"

#include <nftables/libnftables.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <memory>
#include <string_view>

#include "dl.hpp"
#include "nslab/error.hpp"
#include "nslab/unique_fd.hpp"

namespace nslab::nft {

namespace {

// What nslab calls of libnftables, loaded on first use.
struct Api {
  dl::Library lib{NSLAB_NFT_SONAME, NSLAB_NFT_PACKAGE};
  NSLAB_DL_FUNCTION(nft_, ctx_new);
  NSLAB_DL_FUNCTION(nft_, ctx_free);
  NSLAB_DL_FUNCTION(nft_, ctx_buffer_output);
  NSLAB_DL_FUNCTION(nft_, ctx_buffer_error);
  NSLAB_DL_FUNCTION(nft_, ctx_get_output_buffer);
  NSLAB_DL_FUNCTION(nft_, ctx_get_error_buffer);
  NSLAB_DL_FUNCTION(nft_, run_cmd_from_buffer);
  NSLAB_DL_FUNCTION(nft_, run_cmd_from_filename);
};

const Api& api() {
  static const Api a;
  return a;
}

struct CtxDeleter {
  void operator()(nft_ctx* c) const { api().ctx_free(c); }
};
using Ctx = std::unique_ptr<nft_ctx, CtxDeleter>;

Ctx make_ctx() {
  Ctx c(api().ctx_new(NFT_CTX_DEFAULT));
  if (!c) throw Error("nft_ctx_new failed", ENOMEM);
  api().ctx_buffer_output(c.get());
  api().ctx_buffer_error(c.get());
  return c;
}

// nft reports "FILE:LINE:COL-COL: Error: text"; from a buffer it reports no line at all, so the
// ruleset goes through a memfd and nft reads it by `path`. Only a location in that file is
// taken, and the internal path never reaches a message.
Failure parse_failure(const std::string& err, const std::string& path) {
  std::string_view rest = err;
  while (!rest.empty()) {
    std::string_view line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    const std::string_view marker = ": Error: ";
    auto at = line.find(marker);
    if (!line.starts_with(path + ":") || at == std::string_view::npos) continue;
    std::string_view loc = line.substr(path.size() + 1, at - path.size() - 1);  // LINE:COL[-COL]
    int l = 0, c = 0;
    auto [p1, e1] = std::from_chars(loc.data(), loc.data() + loc.size(), l);
    if (e1 != std::errc() || p1 == loc.data() + loc.size() || *p1 != ':') continue;
    auto [p2, e2] = std::from_chars(p1 + 1, loc.data() + loc.size(), c);
    if (e2 != std::errc()) continue;
    return {l, c, std::string(line.substr(at + marker.size()))};
  }
  std::string first = err.substr(0, err.find('\n'));
  if (first.rfind("Error: ", 0) == 0) first = first.substr(7);
  for (auto p = first.find(path); p != std::string::npos; p = first.find(path))
    first.replace(p, path.size(), "the ruleset");
  return {0, 0, first.empty() ? "nft failed" : first};
}

}  // namespace

std::optional<Failure> apply_here(const std::string& ruleset) {
  UniqueFd mem(memfd_create("nslab-nft", MFD_CLOEXEC));
  if (!mem) throw_errno("memfd_create", errno);
  for (std::size_t done = 0; done < ruleset.size();) {
    ssize_t n = write(mem.get(), ruleset.data() + done, ruleset.size() - done);
    if (n < 0) throw_errno("write nft ruleset", errno);
    done += static_cast<std::size_t>(n);
  }
  Ctx ctx = make_ctx();
  std::string path = "/proc/self/fd/" + std::to_string(mem.get());
  if (api().run_cmd_from_filename(ctx.get(), path.c_str()) == 0) return std::nullopt;
  return parse_failure(api().ctx_get_error_buffer(ctx.get()), path);
}

std::string list_here() {
  Ctx ctx = make_ctx();
  if (api().run_cmd_from_buffer(ctx.get(), "list ruleset") != 0)
    throw Error(std::string("nft list ruleset: ") + api().ctx_get_error_buffer(ctx.get()));
  return api().ctx_get_output_buffer(ctx.get());
}

std::string version() {
  return NSLAB_NFT_VERSION " (built; loaded when used)";
}

}  // namespace nslab::nft
