#pragma once
// Internal: a change step's fragment applied to a running lab.

#include <chrono>
#include <string>

#include "nslab/lab.hpp"
#include "nslab/scenario.hpp"

namespace nslab {

// Applies `fragment` as `op` says, through the same apply functions as the builder. `after` is
// the model with the change already made (change_model accepted it). Interfaces that a change
// creates or brings up are waited for as the builder waits (readiness). Returns what was done,
// for the report; throws Error with the position of what the kernel refused.
std::string apply_change(Lab& lab, const Topology& after, ChangeOp op, const Topology& fragment,
                         std::chrono::milliseconds ready_timeout);

}  // namespace nslab
