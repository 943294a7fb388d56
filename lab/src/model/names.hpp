#pragma once
// Syntax rules for the names a user writes (pure; shared by loader and validator).

#include <optional>
#include <string>
#include <string_view>

namespace nslab {

// Each returns an error text, or nullopt when the name is acceptable.
std::optional<std::string> check_topology_name(std::string_view name);
std::optional<std::string> check_node_name(std::string_view name);
std::optional<std::string> check_ifname(std::string_view name);
std::optional<std::string> check_sysctl_key(std::string_view key);

// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace nslab
