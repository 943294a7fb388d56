#pragma once
// Syntax rules for the names a user writes (pure; shared by loader and validator).

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "nslab/suggest.hpp"  // edit_distance

namespace nslab {

// Each returns an error text, or nullopt when the name is acceptable.
std::optional<std::string> check_topology_name(std::string_view name);
std::optional<std::string> check_node_name(std::string_view name);
std::optional<std::string> check_ifname(std::string_view name);
std::optional<std::string> check_sysctl_key(std::string_view key);
// A value the kernel reads as one line: "1\n0" would otherwise set what its first line says.
std::optional<std::string> check_sysctl_value(std::string_view key, std::string_view value);

// Where an nft ruleset reads a file of the host (`include "..."`): {line, column}, 1-based in
// `text`, skipping strings and comments. Rulesets live in the lab and may not read the host.
std::optional<std::pair<int, int>> find_nft_include(std::string_view text);

}  // namespace nslab
