#pragma once
// Optional libraries, loaded when first used (dlopen), as systemd loads its optional dependencies:
// a run that captures no packet and loads no nftables rule never maps libpcap or libnftables, nor
// what they pull in (dbus, systemd, gcrypt, xtables, jansson, gmp...). The headers still give the
// prototypes: every symbol is looked up with the type its header declares.

#include <dlfcn.h>

#include <string>

#include <fmt/format.h>

#include "nslab/error.hpp"

namespace nslab::dl {

// One library, opened at construction and kept for the life of the process (never dlclosed: the
// thread-local state of such libraries does not survive an unload). Build one as a function-local
// static: its construction is then thread-safe, and a failure is retried on the next use.
class Library {
 public:
  // `soname` as the package installs it; `package`, the Debian package to name when it is missing.
  Library(const char* soname, const char* package) : soname_(soname) {
    handle_ = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle_)
      throw Error(fmt::format("{} could not be loaded ({}); it comes with the Debian package {}",
                              soname, dlerror(), package));
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;

  // The symbol `name`, typed as its header declares it (F is decltype(&function)).
  template <class F>
  F get(const char* name) const {
    void* p = dlsym(handle_, name);
    if (!p) throw Error(fmt::format("{} has no symbol {}", soname_, name));
    return reinterpret_cast<F>(p);
  }

 private:
  std::string soname_;
  void* handle_ = nullptr;
};

}  // namespace nslab::dl

// A member of an API table: the function `prefix##name` looked up in the table's `lib`, with the
// type its header gives it.
#define NSLAB_DL_FUNCTION(prefix, name) \
  decltype(&::prefix##name) name = lib.get<decltype(&::prefix##name)>(#prefix #name)
