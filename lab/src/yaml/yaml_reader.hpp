#pragma once
// Strict, position-aware reading of yaml-cpp nodes. yaml-cpp is lenient (duplicate keys silently
// keep the first, "1500" in quotes converts to a number, 0755 is octal); this reader is not, and
// every complaint carries the 1-based FILE:LINE:COLUMN of the node it is about.

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "nslab/source.hpp"
#include "nslab/vocabulary.hpp"

namespace nslab::yaml {

// The whole text of an input file, at most kMaxInputBytes. A folder, a missing, unreadable or
// oversized file becomes a diagnostic ("cannot read <what> file: ...") and nothing is returned.
inline constexpr std::size_t kMaxInputBytes = 16 << 20;
std::optional<std::string> read_input_file(const std::string& path, const char* what,
                                           Diagnostics& diags);

class Reader {
 public:
  Reader(std::string file, std::string text, Diagnostics& diags);

  // Scalars holding ${...} templates are read through `expand` (which reports its own problems
  // at the node) and then checked as what they stand for: a change fragment's `mtu:
  // "${a.eth0.mtu}"` must expand to a number. Without it, templates are plain text.
  using Expand = std::function<std::string(const std::string& text, const YAML::Node& at)>;
  void set_expand(Expand expand) { expand_ = std::move(expand); }
  // The position given to nodes nslab made itself (a short change form's fragment): the text
  // the user wrote for them.
  void set_fallback_pos(SourcePos pos) { fallback_ = std::move(pos); }

  SourcePos pos(const YAML::Node& n) const;
  void error(const YAML::Node& at, std::string message) {
    SourcePos p = pos(at);
    if (!silenced_.count({p.line, p.column})) diags_.error(p, std::move(message));
  }
  // No more errors at this node: what was reported there (a template that cannot be expanded)
  // explains everything that follows from it.
  void silence(const YAML::Node& at) {
    SourcePos p = pos(at);
    silenced_.insert({p.line, p.column});
  }
  // This node's value is known only when the step runs (a ${save.NAME}): typed readers return a
  // placeholder instead of an error, and what is said about the node is not the user's problem
  // yet (silenced; see deferred()).
  void defer(const YAML::Node& at) {
    silence(at);
    SourcePos p = pos(at);
    deferred_.insert({p.line, p.column});
  }
  bool is_deferred(const YAML::Node& at) const {
    SourcePos p = pos(at);
    return deferred_.count({p.line, p.column}) != 0;
  }
  const std::set<std::pair<int, int>>& deferred() const { return deferred_; }
  Diagnostics& diags() { return diags_; }
  const std::string& file() const { return file_; }
  const std::string& source() const { return text_; }

  // Parses the text, which must hold one YAML document; a syntax error or a second document
  // becomes a diagnostic and an undefined node is returned.
  YAML::Node parse();

  // Runs `f`; anything it throws (yaml-cpp, std::filesystem, a conversion) becomes a diagnostic
  // of this file, positioned where yaml-cpp says, instead of escaping the loader.
  template <class F>
  void guard(F&& f) {
    try {
      f();
    } catch (const YAML::Exception& e) {
      SourcePos at{file_, 1, 1};
      if (e.mark.line >= 0) at = {file_, e.mark.line + 1, e.mark.column + 1};
      diags_.error(at, "YAML: " + e.msg);
    } catch (const std::exception& e) {
      diags_.error({file_, 1, 1}, std::string("cannot read this file: ") + e.what());
    }
  }

  // A mapping whose keys are all scalars, each at most once and each in `allowed` (when given).
  // Reports problems and returns false when `n` is not a mapping. `what` names it in messages.
  bool check_map(const YAML::Node& n, const std::string& what,
                 std::initializer_list<const char*> allowed = {}) {
    return check_map(n, what, std::span<const char* const>(allowed.begin(), allowed.size()));
  }
  bool check_map(const YAML::Node& n, const std::string& what,
                 std::span<const char* const> allowed);
  bool is_map_or_null(const YAML::Node& n) const { return n.IsMap() || n.IsNull(); }

  std::optional<std::string> string(const YAML::Node& n, const std::string& what);
  // A scalar's text, templates expanded; `templated` tells whether it had any.
  std::string text(const YAML::Node& n, bool* templated = nullptr);
  // A plain decimal integer within [min, max]; quoted numbers and other bases are refused.
  std::optional<std::int64_t> integer(const YAML::Node& n, const std::string& what,
                                      std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(const YAML::Node& n, const std::string& what);
  // DIGITS[.DIGITS] followed by one of `units` (suffix, factor); returns the number times the
  // factor. `expected` ends the error "WHAT 'TEXT' must be ...": "a duration like 5s or 200ms".
  using Units = std::initializer_list<std::pair<const char*, double>>;
  std::optional<double> quantity(const YAML::Node& n, const std::string& what, Units units,
                                 const char* expected) {
    return quantity(n, what, std::span<const std::pair<const char*, double>>(units), expected);
  }
  std::optional<double> quantity(const YAML::Node& n, const std::string& what,
                                 std::span<const std::pair<const char*, double>> units,
                                 const char* expected);
  // DIGITS[.DIGITS] followed by ms, s or m; at least 1 ms and at most 24 hours.
  std::optional<std::chrono::milliseconds> duration(const YAML::Node& n, const std::string& what);
  // One word of `words`; anything else is "WHAT must be a, b or c, not 'X'". A value known only
  // when the step runs stands for the first word until then.
  template <class E, std::size_t N>
  std::optional<Located<E>> word(const YAML::Node& n, const std::string& what,
                                 const Vocabulary<E, N>& words) {
    auto s = string(n, what);
    if (!s) return std::nullopt;
    if (is_deferred(n)) return Located<E>{words.begin()->value, pos(n)};
    if (auto e = words.parse(*s)) return Located<E>{*e, pos(n)};
    error(n, words.refusal(*s));
    return std::nullopt;
  }
  // A scalar or a list of scalars.
  std::vector<YAML::Node> scalar_or_list(const YAML::Node& n, const std::string& what);

  // The text of line `line` (1-based) of the source, for mapping positions inside block scalars.
  std::string_view source_line(int line) const;

 private:
  std::string file_;
  std::string text_;
  Diagnostics& diags_;
  Expand expand_;
  std::set<std::pair<int, int>> silenced_;
  std::set<std::pair<int, int>> deferred_;
  std::optional<SourcePos> fallback_;
};

}  // namespace nslab::yaml
