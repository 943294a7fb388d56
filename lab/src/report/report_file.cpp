#include "nslab/report_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <initializer_list>

#include "nslab/match.hpp"
#include "nslab/unique_fd.hpp"

namespace nslab {

using Json = nlohmann::ordered_json;

namespace {

// A report of 200,000 records is about 40 MB; a gigabyte is no report of nslab's.
constexpr off_t kMaxReportBytes = off_t{1} << 30;

enum class Type {
  string,
  boolean,
  number,
  count,
  object,
  list,
  records,
  strings,
  volatiles,
  exit_status,
  string_or_null,
  report_or_null
};

struct Field {
  const char* key;
  Type type;
  bool required = false;
};

const char* type_text(Type t) {
  switch (t) {
    case Type::string:
      return "a string";
    case Type::boolean:
      return "true or false";
    case Type::number:
      return "a number";
    case Type::count:
      return "a whole number, 0 or more";
    case Type::object:
      return "an object";
    case Type::list:
      return "a list";
    case Type::records:
      return "a list of records (objects)";
    case Type::strings:
      return "a list of strings";
    case Type::volatiles:
      return "a list of field names and record patterns";
    case Type::exit_status:
      return "a whole number or null";
    case Type::string_or_null:
      return "a string or null";
    case Type::report_or_null:
      return "a run report (an object) or null";
  }
  return "?";
}

bool all_of(const Json& list, bool (*ok)(const Json&)) {
  for (const auto& v : list)
    if (!ok(v)) return false;
  return true;
}

bool has_type(const Json& v, Type t) {
  switch (t) {
    case Type::string:
      return v.is_string();
    case Type::boolean:
      return v.is_boolean();
    case Type::number:
      return v.is_number();
    case Type::count:
      return v.is_number_unsigned();
    case Type::object:
      return v.is_object();
    case Type::list:
      return v.is_array();
    case Type::records:
      return v.is_array() && all_of(v, [](const Json& r) { return r.is_object(); });
    case Type::strings:
      return v.is_array() && all_of(v, [](const Json& r) { return r.is_string(); });
    case Type::volatiles:
      return v.is_array() &&
             all_of(v, [](const Json& r) { return r.is_string() || r.is_object(); });
    case Type::exit_status:
      return v.is_null() || v.is_number_integer();
    case Type::string_or_null:
      return v.is_null() || v.is_string();
    case Type::report_or_null:
      return v.is_null() || v.is_object();
  }
  return false;
}

// The first field of `j` (at `where`) that is missing or of the wrong type, or empty.
std::string check(const Json& j, const std::string& where, std::initializer_list<Field> fields) {
  if (!j.is_object())
    return fmt::format("{}: must be an object", where.empty() ? "the report" : where);
  std::string prefix = where.empty() ? "" : where + ".";
  for (const auto& f : fields) {
    auto it = j.find(f.key);
    if (it == j.end()) {
      if (f.required) return fmt::format("{}{}: missing", prefix, f.key);
      continue;
    }
    if (!has_type(*it, f.type))
      return fmt::format("{}{}: must be {}", prefix, f.key, type_text(f.type));
  }
  return "";
}

}  // namespace

std::optional<Json> read_json_file(const std::string& path, std::string& error) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
  UniqueFd f(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!f) {
    error = fmt::format("cannot be read: {}", std::strerror(errno));
    return std::nullopt;
  }
  struct stat st {};
  if (fstat(f.get(), &st) < 0) {
    error = fmt::format("cannot be read: {}", std::strerror(errno));
    return std::nullopt;
  }
  if (S_ISDIR(st.st_mode)) {
    error = "is a folder, not a report";
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "is not a regular file (a FIFO, socket or device), not a report";
    return std::nullopt;
  }
  if (st.st_size > kMaxReportBytes) {
    error = fmt::format("is {} bytes, more than any report of nslab's", st.st_size);
    return std::nullopt;
  }
  std::string text;
  text.resize(static_cast<std::size_t>(st.st_size));
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t n = read(f.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = fmt::format("cannot be read: {}", std::strerror(errno));
      return std::nullopt;
    }
    if (n == 0) break;  // it shrank while being read
    got += static_cast<std::size_t>(n);
  }
  text.resize(got);
  bool too_deep = false;
  Json j = parse_json_bounded(text, kMaxReportDepth, &too_deep);
  if (too_deep) {
    error = fmt::format("nested deeper than {} levels: not a report of nslab's", kMaxReportDepth);
    return std::nullopt;
  }
  if (j.is_discarded()) {
    error = "not JSON";
    return std::nullopt;
  }
  return j;
}

std::string run_report_shape_error(const Json& report) {
  std::string e = check(report, "",
                        {{"scenarios", Type::list, true},
                         {"totals", Type::object, true},
                         {"versions", Type::object},
                         {"nslab", Type::string}});
  if (!e.empty()) return e;
  {
    e = check(report["totals"], "totals",
              {{"scenarios", Type::count},
               {"passed", Type::count},
               {"failed", Type::count},
               {"skipped", Type::count},
               {"invalid", Type::count},
               {"ms", Type::number}});
    if (!e.empty()) return e;
  }
  if (auto v = report.find("versions"); v != report.end()) {
    e = check(*v, "versions", {{"kernel", Type::string}});
    if (!e.empty()) return e;
  }
  std::size_t i = 0;
  for (const auto& s : report["scenarios"]) {
    std::string where = fmt::format("scenarios[{}]", i++);
    e = check(s, where,
              {{"file", Type::string, true},
               {"verdict", Type::string, true},
               {"family", Type::string},
               {"name", Type::string},
               {"reason", Type::string},
               {"labels", Type::strings},
               {"volatile", Type::volatiles},
               {"ms", Type::number},
               {"build_ms", Type::number},
               {"steps", Type::list}});
    if (!e.empty()) return e;
    const std::string v = s["verdict"].get<std::string>();
    if (v != "passed" && v != "failed" && v != "skipped" && v != "invalid")
      return fmt::format("{}.verdict: must be passed, failed, skipped or invalid, not \"{}\"",
                         where, v);
    std::size_t k = 0;
    for (const auto& st : s.value("steps", Json::array())) {
      e = check(st, fmt::format("{}.steps[{}]", where, k++),
                {{"name", Type::string, true},
                 {"kind", Type::string},
                 {"node", Type::string},
                 {"command", Type::string},
                 {"ran", Type::boolean},
                 {"passed", Type::boolean},
                 {"skipped", Type::boolean},
                 {"reason", Type::string},
                 {"expect_kernel", Type::string},
                 {"exit", Type::exit_status},
                 {"signal", Type::string},
                 {"records", Type::records},
                 {"details", Type::list},
                 {"stdout", Type::string},
                 {"stderr", Type::string},
                 {"ms", Type::number}});
      if (!e.empty()) return e;
    }
  }
  return "";
}

std::string matrix_report_shape_error(const Json& report) {
  std::string e = check(report, "", {{"matrix", Type::list, true}});
  if (!e.empty()) return e;
  std::size_t i = 0;
  for (const auto& run : report["matrix"]) {
    std::string where = fmt::format("matrix[{}]", i++);
    e = check(run, where,
              {{"label", Type::string, true},
               {"kernel", Type::object},
               {"failure", Type::string_or_null},
               {"report", Type::report_or_null}});
    if (!e.empty()) return e;
    if (auto k = run.find("kernel"); k != run.end()) {
      e = check(*k, where + ".kernel", {{"release", Type::string}});
      if (!e.empty()) return e;
    }
    if (auto r = run.find("report"); r != run.end() && r->is_object()) {
      e = run_report_shape_error(*r);
      if (!e.empty()) return fmt::format("{}.report.{}", where, e);
    }
  }
  return "";
}

}  // namespace nslab
