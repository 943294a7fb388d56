#pragma once
// "Did you mean": shared by the loader (unknown keys) and the command line (unknown commands).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nslab {

// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate closest to `word`, at most two edits away (the first of equals), or "".
std::string closest_word(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace nslab
