#pragma once
// ${node.ifname.ipv4|ipv6|mtu|ifindex} and ${lab.dir} in scenario strings (SPEC section 3).

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nslab/topology.hpp"

namespace nslab {

struct TemplateRef {
  std::string text;  // "${router.eth1.ipv4}"
  bool lab_dir = false;
  std::string save;  // ${save.NAME}: a value an earlier step saved
  // ${save.NAME + N} / ${save.NAME - N}: that value, which must be a whole number, plus `offset`.
  bool arithmetic = false;
  long long offset = 0;
  std::string node, ifname, attribute;
};

// Every ${...} in `s`; a malformed one ("${x}", "${a.b}") is reported through `error`.
std::vector<TemplateRef> find_templates(std::string_view s,
                                        const std::function<void(std::string)>& error = {});
// Thrown by a resolver for a template whose value exists only when the step runs (a save): the
// field it fills is checked then.
struct DeferredTemplate {};
// Why `ref` cannot be resolved in `topology`, or nullopt (saves are the scenario's to check).
std::optional<std::string> check_template(const TemplateRef& ref, const Topology& topology);

// Expands one template; throws Error with the reason when it cannot.
using TemplateResolver = std::function<std::string(const TemplateRef&)>;
// The model's view (validation): addresses and MTUs as the topology declares them, ifindexes as
// the builder assigns them. A reference the model cannot resolve throws Error with the reason.
TemplateResolver model_resolver(const Topology& topology);
// ${save.NAME} (and ${save.NAME + N}) from the values the steps so far saved: what a program
// printed, so anything. Throws Error when nothing was saved under NAME, or when arithmetic meets
// a value that is not a whole number or overflows.
std::string resolve_saved(const TemplateRef& ref, const std::map<std::string, std::string>* saved);
std::string expand_templates(std::string_view s, const TemplateResolver& resolve);
// True for a string holding a ${...} template: its value is known only when the step runs.
bool is_templated(const nlohmann::ordered_json& value);
nlohmann::ordered_json expand_templates_json(const nlohmann::ordered_json& j,
                                             const TemplateResolver& resolve);

// A `run:` command split into words: whitespace separates, '...' and "..." quote, backslash
// escapes (no other shell syntax: use `sh -c '...'` for pipes and redirections).
std::vector<std::string> split_command(const std::string& command);

}  // namespace nslab
