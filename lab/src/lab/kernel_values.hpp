#pragma once
// Internal: the kernel half of the model's vocabularies (nslab/topology.hpp): the number the
// kernel takes for each word. One table per vocabulary; vocabulary_test checks each is complete.

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>

#include <cstdint>
#include <utility>

#include "nslab/topology.hpp"

namespace nslab::apply {

inline constexpr std::pair<AddressFlag, unsigned> kAddressFlagBits[] = {
    {AddressFlag::nodad, IFA_F_NODAD},
    {AddressFlag::noprefixroute, IFA_F_NOPREFIXROUTE},
    {AddressFlag::home, IFA_F_HOMEADDRESS},
    {AddressFlag::mngtmpaddr, IFA_F_MANAGETEMPADDR}};

inline constexpr std::pair<NudState, int> kNudStateValues[] = {{NudState::permanent, NUD_PERMANENT},
                                                               {NudState::reachable, NUD_REACHABLE},
                                                               {NudState::stale, NUD_STALE},
                                                               {NudState::noarp, NUD_NOARP}};

inline constexpr std::pair<MacvlanMode, std::uint32_t> kMacvlanModeValues[] = {
    {MacvlanMode::bridge, MACVLAN_MODE_BRIDGE},
    {MacvlanMode::private_mode, MACVLAN_MODE_PRIVATE},
    {MacvlanMode::vepa, MACVLAN_MODE_VEPA},
    {MacvlanMode::passthru, MACVLAN_MODE_PASSTHRU}};

inline constexpr std::pair<IpvlanMode, std::uint32_t> kIpvlanModeValues[] = {
    {IpvlanMode::l2, IPVLAN_MODE_L2},
    {IpvlanMode::l3, IPVLAN_MODE_L3},
    {IpvlanMode::l3s, IPVLAN_MODE_L3S}};

inline constexpr std::pair<VxlanDf, int> kVxlanDfValues[] = {{VxlanDf::unset, VXLAN_DF_UNSET},
                                                             {VxlanDf::set, VXLAN_DF_SET},
                                                             {VxlanDf::inherit, VXLAN_DF_INHERIT}};

}  // namespace nslab::apply
