#pragma once
// An initramfs is a cpio archive in the "newc" format (the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst): written here, no cpio tool needed.

#include <string>
#include <vector>

namespace nslab::matrix {

struct CpioEntry {
  std::string name;   // without a leading '/'
  unsigned mode = 0;  // S_IFREG | 0755, S_IFDIR | 0755, S_IFCHR | 0600
  std::string data;   // a file's content
  unsigned rdev_major = 0, rdev_minor = 0;
};

std::string cpio_newc(const std::vector<CpioEntry>& entries);

}  // namespace nslab::matrix
