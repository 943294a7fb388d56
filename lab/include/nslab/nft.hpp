#pragma once
// nftables for one namespace, through libnftables. A context is bound to the namespace in which
// it was created (one created in the parent and used from a node changes the parent's ruleset),
// and it keeps that namespace alive, so it lives no longer than a call.

#include <optional>
#include <string>

namespace nslab::nft {

struct Failure {
  int line = 0;  // 1-based, in the ruleset text
  int column = 0;
  std::string message;  // nft's, without its location prefix
};

// Loads `ruleset` atomically into the calling thread's namespace.
std::optional<Failure> apply_here(const std::string& ruleset);
// `nft list ruleset` of the calling thread's namespace.
std::string list_here();
// The version of libnftables nslab was built with (it has no runtime version call).
std::string version();

}  // namespace nslab::nft
