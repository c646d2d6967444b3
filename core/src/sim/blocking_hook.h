// The blocking hook the scenarios install with WSASetBlockingHook: what a Winsock 1.1
// application does from inside wsaf_gethostbyname's wait, chosen per blocking call.
//
// Hook modes: 0 cancel the blocking call at once; 1 cancel an async request; 2 start one;
// 3 wait (the 41st call cancels); spec_ops scenarios add 4.. = a HookOp call from kHookOps,
// then, after the other threads ran (their final cleanup or a new 2.x session may come in
// between), every call of kHookOps, then the hook cancels.
//
// Thread safety: the simulation runs on one OS thread; the hook's state is per logical thread.
// Lifetime: BindBlockingHook(world) before a run, BindBlockingHook(nullptr) after it.
#ifndef WSAFAULT_SIM_BLOCKING_HOOK_H_
#define WSAFAULT_SIM_BLOCKING_HOOK_H_

#include <cstdint>

#include "sim/world.h"

namespace wsaf::sim {

inline constexpr int kHookModes = 4;       // what every scenario draws from
inline constexpr int kSpecHookModes = 12;  // ScenarioConfig::spec_ops: the eight of kHookOps too

// The hook itself (logs each call it makes as kHookCall / kHookCancel).
intptr_t SimBlockingHook();
void BindBlockingHook(World* world);
// The mode the next blocking call of logical thread `thread` runs its hook in.
void ArmBlockingHook(int thread, int mode);

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_BLOCKING_HOOK_H_
