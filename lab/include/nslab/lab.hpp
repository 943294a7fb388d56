#pragma once
// A built topology: one network namespace per node, held by fds. Destroying the Lab tears
// everything down: the namespaces vanish with their last fd, and their interfaces with them.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "nslab/netns.hpp"
#include "nslab/pidns.hpp"
#include "nslab/rtnl.hpp"
#include "nslab/templates.hpp"
#include "nslab/topology.hpp"

namespace nslab {

class LabNode {
 public:
  LabNode(std::string name, Netns ns, Rtnl rtnl)
      : name_(std::move(name)), ns_(std::move(ns)), rtnl_(std::move(rtnl)) {}

  const std::string& name() const { return name_; }
  const Netns& netns() const { return ns_; }
  Rtnl& rtnl() { return rtnl_; }
  // ifindexes are assigned by nslab (lo is 1, then 2, 3, ... across the whole lab in declaration
  // order), so they are the same in every run of a topology.
  int ifindex(const std::string& ifname) const;
  const std::map<std::string, int>& ifindexes() const { return ifindexes_; }
  void set_ifindex(const std::string& ifname, int idx) { ifindexes_[ifname] = idx; }
  void forget_ifindex(const std::string& ifname) { ifindexes_.erase(ifname); }

 private:
  std::string name_;
  Netns ns_;
  Rtnl rtnl_;
  std::map<std::string, int> ifindexes_;
};

struct BuildOptions {
  // How long interfaces may take to become operationally up once configured.
  std::chrono::milliseconds ready_timeout{5000};
};

class Lab {
 public:
  // Builds `topology` (which must be valid). Throws Error, with the YAML position of the object
  // the kernel refused when there is one; whatever was built is torn down first.
  static std::unique_ptr<Lab> build(const Topology& topology, const BuildOptions& options = {});

  // The topology as the lab holds it now: the one built, then as each change left it.
  const Topology& topology() const { return topology_; }
  const Netns& home() const { return home_; }
  std::vector<LabNode>& nodes() { return nodes_; }
  LabNode& node(const std::string& name);
  const LabNode& node(const std::string& name) const;
  std::vector<const Netns*> namespaces() const;
  std::chrono::microseconds build_time() const { return build_time_; }
  // The one way a change reaches the kernel (SPEC 7): `op` applied to `fragment`. It is checked
  // against topology() first (change_model, as `nslab validate` checks it): what is wrong goes
  // to `diags`, and nothing is done. Then an add walks the build's phases over the fragment's
  // objects (links, bridges, the interfaces nodes create, ports, up, addresses, qdiscs,
  // nexthops, routes, rules, neighbours) and waits until what it created or addressed is
  // ready, as the build does; a build is that walk over a whole topology on an empty lab.
  // topology() is then the model after the change. Returns what was done, for the report;
  // throws Error with the position of what the kernel refused (topology() stays as it was).
  std::string apply(ChangeOp op, const Topology& fragment, Diagnostics& diags,
                    std::chrono::milliseconds ready_timeout);
  // Numbers an interface that a change creates: above every number the lab has given so far
  // (a link deleted and added back comes back on new ifindexes, as the kernel's own numbering
  // would have it, so an event about the old device never names the new one), and none that a
  // fresh namespace already holds (fallback tunnel devices).
  int number_interface(const std::string& node, const std::string& ifname);
  // ${lab.dir}: a private folder that every node's processes see ($TMPDIR/nslab-lab-XXXXXX). It
  // goes with the lab: removed at teardown, and by the lab's init if nslab dies (see pidns.hpp).
  const std::string& dir() const { return pids_->folder(); }
  // Where every process of this lab is started (see PidNamespace).
  const PidNamespace* pids() const { return pids_ ? &*pids_ : nullptr; }
  // Kills every process of the lab at once (its PID namespace's init), without waiting; none can
  // start after. Reap your own children of the lab before the Lab goes (see ~PidNamespace).
  void end_processes() const {
    if (pids_) pids_->kill_all();
  }

 private:
  friend class Applier;
  explicit Lab(Topology t) : topology_(std::move(t)), home_(Netns::current()) {}

  Topology topology_;
  Netns home_;
  std::optional<PidNamespace> pids_;  // also owns the lab's folder (see PidNamespace::create)
  std::vector<LabNode> nodes_;
  std::set<int> reserved_ifindexes_;  // what a fresh namespace holds besides lo
  int next_ifindex_ = 2;              // above every ifindex given so far
  std::chrono::microseconds build_time_{0};
};

// ${...} as a running lab holds them, for the runner and the GoogleTest fixture alike:
// ifindexes the lab gave, MTUs the kernel reports now, addresses of the lab's topology() (as
// the changes so far left it), ${lab.dir} the lab's own folder, ${save.NAME} from `saved`.
// What cannot be resolved throws Error with the reason.
TemplateResolver lab_resolver(Lab& lab, const std::map<std::string, std::string>* saved = nullptr);

}  // namespace nslab
