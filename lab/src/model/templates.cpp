#include "nslab/templates.hpp"

#include <fmt/format.h>

#include <charconv>

#include "nslab/error.hpp"

namespace nslab {

TemplateResolver model_resolver(const Topology& t) {
  return [&t](const TemplateRef& ref) -> std::string {
    if (ref.lab_dir) return "/tmp/nslab-lab-XXXXXX";
    if (!ref.save.empty()) throw DeferredTemplate{};
    if (auto e = check_template(ref, t)) throw Error(*e, EINVAL);
    if (ref.attribute == "mtu") {
      if (ref.ifname == "lo") return "65536";
      return std::to_string(t.effective_mtu(ref.node, ref.ifname).value_or(kDefaultMtu));
    }
    if (ref.attribute == "ifindex") {  // as the builder numbers them
      if (ref.ifname == "lo") return "1";
      return std::to_string(t.assigned_ifindexes().at({ref.node, ref.ifname}));
    }
    const InterfaceSpec* ifc = t.node(ref.node)->interface(ref.ifname);
    return ifc->first(ref.attribute == "ipv4" ? Family::ipv4 : Family::ipv6)->str();
  };
}

std::vector<TemplateRef> find_templates(std::string_view s,
                                        const std::function<void(std::string)>& error) {
  std::vector<TemplateRef> out;
  for (std::size_t at = s.find("${"); at != std::string_view::npos; at = s.find("${", at + 2)) {
    auto end = s.find('}', at);
    if (end == std::string_view::npos) {
      if (error) error(fmt::format("unterminated template '{}'", s.substr(at)));
      break;
    }
    TemplateRef r;
    r.text = std::string(s.substr(at, end - at + 1));
    std::string body(s.substr(at + 2, end - at - 2));
    if (body == "lab.dir") {
      r.lab_dir = true;
      out.push_back(r);
      continue;
    }
    if (body.rfind("save.", 0) == 0 && body.size() > 5) {
      // ${save.NAME}, or ${save.NAME + N} / ${save.NAME - N}: the saved whole number plus or
      // minus N (the spaces keep a minus apart from a dash in NAME).
      std::string name = body.substr(5), sign, digits;
      if (auto sp = name.find(' '); sp != std::string::npos) {
        std::string rest = name.substr(sp);
        name = name.substr(0, sp);
        if (rest.size() > 3 && rest[0] == ' ' && (rest[1] == '+' || rest[1] == '-') &&
            rest[2] == ' ') {
          sign = rest.substr(1, 1);
          digits = rest.substr(3);
        } else {
          digits = "x";  // malformed
        }
      }
      bool ok =
          !name.empty() &&
          name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos &&
          (sign.empty() == digits.empty()) && digits.size() <= 15 &&
          digits.find_first_not_of("0123456789") == std::string::npos;
      if (!ok) {
        if (error)
          error(
              fmt::format("template '{}': a save is ${{save.NAME}}, ${{save.NAME + N}} or "
                          "${{save.NAME - N}} (N a whole number)",
                          r.text));
        continue;
      }
      if (!digits.empty()) r.offset = (sign == "-" ? -1 : 1) * std::stoll(digits);
      r.arithmetic = !digits.empty();
      r.save = name;
      out.push_back(r);
      continue;
    }
    auto first = body.find('.'), last = body.rfind('.');
    if (first == std::string::npos || first == last || first == 0 || last + 1 == body.size() ||
        last == first + 1) {
      if (error)
        error(
            fmt::format("template '{}' must be ${{lab.dir}}, ${{save.NAME}} or "
                        "${{node.interface.attribute}}",
                        r.text));
      continue;
    }
    r.node = body.substr(0, first);
    r.ifname = body.substr(first + 1, last - first - 1);
    r.attribute = body.substr(last + 1);
    out.push_back(r);
  }
  return out;
}

std::optional<std::string> check_template(const TemplateRef& ref, const Topology& t) {
  if (ref.lab_dir || !ref.save.empty()) return std::nullopt;
  const NodeSpec* node = t.node(ref.node);
  if (!node) return fmt::format("template '{}' names unknown node '{}'", ref.text, ref.node);
  auto ifs = t.created_interfaces(ref.node);
  if (ref.ifname != "lo" && std::find(ifs.begin(), ifs.end(), ref.ifname) == ifs.end())
    return fmt::format("template '{}': node '{}' has no interface '{}'", ref.text, ref.node,
                       ref.ifname);
  if (ref.attribute == "mtu" || ref.attribute == "ifindex") return std::nullopt;
  if (ref.attribute != "ipv4" && ref.attribute != "ipv6")
    return fmt::format("template '{}': unknown attribute '{}' (ipv4, ipv6, mtu or ifindex)",
                       ref.text, ref.attribute);
  const InterfaceSpec* ifc = node->interface(ref.ifname);
  Family f = ref.attribute == "ipv4" ? Family::ipv4 : Family::ipv6;
  if (!ifc || !ifc->first(f))
    return fmt::format("template '{}': '{}:{}' has no {} address", ref.text, ref.node, ref.ifname,
                       ref.attribute == "ipv4" ? "IPv4" : "IPv6");
  return std::nullopt;
}

std::string expand_templates(std::string_view s, const TemplateResolver& resolve) {
  std::string out;
  std::size_t pos = 0;
  for (const auto& ref : find_templates(s)) {
    auto at = s.find(ref.text, pos);
    out.append(s.substr(pos, at - pos));
    out += resolve(ref);
    pos = at + ref.text.size();
  }
  out.append(s.substr(pos));
  return out;
}

nlohmann::ordered_json expand_templates_json(const nlohmann::ordered_json& j,
                                             const TemplateResolver& resolve) {
  if (j.is_string())
    return expand_templates(std::string_view(j.get_ref<const std::string&>()), resolve);
  if (j.is_array() || j.is_object()) {
    nlohmann::ordered_json out = j;
    for (auto& [k, v] : out.items()) v = expand_templates_json(v, resolve);
    return out;
  }
  return j;
}

// Shell-like words: whitespace separates, '...' and "..." quote, backslash escapes.
std::vector<std::string> split_command(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote)
        quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < s.size())
        cur += s[++i];
      else
        cur += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(cur);
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(cur);
  return out;
}

}  // namespace nslab

namespace nslab {

bool is_templated(const nlohmann::ordered_json& value) {
  return value.is_string() && value.get_ref<const std::string&>().find("${") != std::string::npos;
}

std::string resolve_saved(const TemplateRef& r, const std::map<std::string, std::string>* saved) {
  auto it = saved ? saved->find(r.save) : decltype(saved->end()){};
  if (!saved || it == saved->end())
    throw Error(fmt::format("nothing was saved as '{}'", r.save), ENOENT);
  if (!r.arithmetic) return it->second;
  long long v = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error(fmt::format("template '{}': the value saved as '{}' is \"{}\", not a whole number",
                            r.text, r.save, text),
                EINVAL);
  long long sum = 0;
  if (__builtin_add_overflow(v, r.offset, &sum))
    throw Error(fmt::format("template '{}': {} {:+} overflows", r.text, v, r.offset), ERANGE);
  return std::to_string(sum);
}

}  // namespace nslab
