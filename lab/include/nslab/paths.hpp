#pragma once
// Where nslab's own files are, found from the running executable, so that no source or build
// path is compiled into a binary (an installed nslab can be moved with its prefix):
//   installed:  PREFIX/bin/nslab -> PREFIX/libexec/nslab/probes, PREFIX/share/nslab/{scenarios,
//               topologies}
//   build tree: BUILD/lab/nslab  -> BUILD/probes/bin, BUILD/share/nslab/... (links to the source
//               tree's folders, made when CMake configures)
// $NSLAB_PROBES, $NSLAB_SCENARIOS and $NSLAB_TOPOLOGIES override each.

#include <string>
#include <vector>

namespace nslab {

struct DataPaths {
  std::string probes;      // the bundled probes
  std::string scenarios;   // the bundled scenarios
  std::string topologies;  // the bundled topologies
};

// For the executable at `exe` (empty: this process's, /proc/self/exe), which is PREFIX/bin/nslab
// or BUILD/lab/nslab. A folder that cannot be found is left empty.
DataPaths data_paths(const std::string& exe = "");
// For an install prefix or a build tree.
DataPaths data_paths_in(const std::string& prefix);

// The folders a probe's short name is searched in: `extra` (in order, e.g. repeated --probes),
// then the bundled probes.
std::vector<std::string> probe_search_path(const std::vector<std::string>& extra,
                                           const DataPaths& paths);

}  // namespace nslab
