#pragma once
// The root qdisc kinds (tbf, htb, netem), each a unit like the interface kinds: its key table
// (what the loader reads and checks for), what its keys say together, and its words in the
// graph. One file per kind in lab/src/model/kinds/, one line in the registry there (kinds.cpp).
// The kernel half is the qdisc request (lab/src/kernel/rtnl_qdisc.cpp).

#include <string>
#include <vector>

#include "nslab/key_table.hpp"
#include "nslab/topology.hpp"

namespace nslab {

struct QdiscKind {
  QdiscSpec::Kind kind;
  std::vector<KindKey<QdiscSpec>> keys;
  // After its keys are read: what they say together. Errors at the values' positions.
  void (*finish)(QdiscSpec& spec, Diagnostics& diags) = nullptr;
  // Its words in the graph after its name: "rate 10mbit", "delay 20ms loss 1%".
  std::string (*label)(const QdiscSpec&) = nullptr;

  const char* name() const { return qdisc_kind_name(kind); }
};

// The registry, in the order messages list them (lab/src/model/kinds/kinds.cpp).
const std::vector<const QdiscKind*>& qdisc_kinds();
const QdiscKind& qdisc_kind(QdiscSpec::Kind kind);

// The key reference of `kind` (`nslab kinds`), from its table.
std::string qdisc_kind_reference(const QdiscKind& kind);

}  // namespace nslab
