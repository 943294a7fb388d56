#pragma once
// Privileges: real root works in the host's user namespace; anyone else gets a user namespace of
// their own (the caller mapped to uid 0) plus a mount namespace and an empty network namespace
// as the lab's home, so nothing needs sudo.

#include <string>

namespace nslab {

enum class PrivilegeMode {
  real_root,   // uid 0 of the initial user namespace
  inherited,   // already root of some user namespace (e.g. started under `unshare -r`)
  own_userns,  // we created a user namespace for ourselves
};

// Makes the process able to create network namespaces. Must run before any thread starts:
// unshare(CLONE_NEWUSER) fails with EINVAL in a multi-threaded process. Throws Error.
PrivilegeMode acquire_privileges();

// True when this process is root of the initial user namespace (uid_map "0 0 4294967295").
bool is_real_root();

const char* privilege_mode_name(PrivilegeMode m);

}  // namespace nslab
