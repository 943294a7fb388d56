#include "cpio.hpp"

#include <fmt/format.h>

namespace nslab::matrix {

namespace {

void pad4(std::string& out) {
  while (out.size() % 4) out += '\0';
}

void header(std::string& out, unsigned ino, const CpioEntry& e) {
  // magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor,
  // rdevminor, namesize (with its NUL), check: each 8 hex digits.
  out += fmt::format(
      "070701{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}{:08X}"
      "{:08X}{:08X}",
      ino, e.mode, 0, 0, 1, 0, e.data.size(), 0, 0, e.rdev_major, e.rdev_minor, e.name.size() + 1,
      0);
  out += e.name;
  out += '\0';
  pad4(out);
  out += e.data;
  pad4(out);
}

}  // namespace

std::string cpio_newc(const std::vector<CpioEntry>& entries) {
  std::string out;
  unsigned ino = 1;
  for (const auto& e : entries) header(out, ino++, e);
  header(out, 0, CpioEntry{.name = "TRAILER!!!", .mode = 0, .data = {}});
  return out;
}

}  // namespace nslab::matrix
