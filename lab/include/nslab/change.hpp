#pragma once
// Change steps on the model (SPEC 7). Pure: no kernel.

#include "nslab/scenario.hpp"
#include "nslab/source.hpp"
#include "nslab/topology.hpp"

namespace nslab {

// Applies `fragment` to `model` as `op` says: add creates, del removes (objects named by their
// identity: a route by family, to, table and metric; a rule by priority; a neighbour by dev and
// address; a link by its endpoints), replace swaps or creates, set changes attributes (interface
// mtu and up, sysctls, nftables). What is wrong is reported at the fragment's positions and
// leaves `model` as it was; what is right updates it, so later steps see the change.
void change_model(Topology& model, ChangeOp op, const Topology& fragment, Diagnostics& diags);

}  // namespace nslab
