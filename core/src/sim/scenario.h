// Scenarios: what the application threads of a simulated run do.
//
// Each application thread runs `ops_per_thread` operations drawn from the tape (starts of all
// six kinds with valid and invalid arguments and buffers of every size, cancels of pending,
// queued, dispatched, stale, zero and random handles, pumps with and without filters and
// PM_NOREMOVE, application messages that fill tiny queues, nested startups and cleanups, the
// network going down and up, windows destroyed and created, Winsock 1.1 blocking calls whose
// hook cancels). Thread 0 then runs the liveness phase: faults off, network up, every window
// pumped (GetMessage where a message is due) until the resolver is idle and the queues are
// empty. Every call is logged (World::Log) and checked as it returns.
#ifndef WSAFAULT_SIM_SCENARIO_H_
#define WSAFAULT_SIM_SCENARIO_H_

#include "sim/world.h"

namespace wsaf::sim {

constexpr UINT kUserMsg = check::kApplicationMsg;

// Runs one execution in `world` (whose scheduler and strategy are ready): set-up decisions,
// the threads, the liveness phase and the end-of-run checks. Leaves any violation in `world`.
void RunScenario(World& world);

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_SCENARIO_H_
