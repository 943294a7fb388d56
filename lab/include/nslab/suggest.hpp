#pragma once
// "Did you mean": shared by the loader (unknown keys) and the command line (unknown commands).

#include <cstddef>
#include <string_view>

namespace nslab {

// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace nslab
