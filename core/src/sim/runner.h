// Running simulated executions: one run, a replay from a tape, shrinking a failing tape, and
// the tape files that make every failure one command away from its replay.
#ifndef WSAFAULT_SIM_RUNNER_H_
#define WSAFAULT_SIM_RUNNER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "check/checker.h"
#include "sim/events.h"
#include "sim/scheduler.h"
#include "sim/strategy.h"
#include "sim/world.h"
#include "table/mutants.h"

namespace wsaf::sim {

struct RunResult {
  std::optional<Violation> violation;
  std::vector<uint8_t> tape;         // every decision of the run
  std::vector<uint64_t> step_hashes; // when asked for (determinism audit)
  uint64_t steps = 0;
  uint64_t decisions = 0;
  Run run;                           // the event log
  check::Coverage coverage;
  // Where each thread was switched away from: kept by replays (ReplayTape) and by runs a
  // strategy observes (feedback.h); empty otherwise.
  std::vector<Preemption> preemptions;
  uint64_t buffered_stores = 0;         // kTso: stores that went through a store buffer
};

struct RunSettings {
  ScenarioConfig scenario;  // its max_steps bounds each run
  bool step_hashes = false;
  MemoryModel memory = MemoryModel::kSc;
  // Every seam::Atomic operation is a scheduling point (false: the named sites only, as every
  // tape recorded before atomics went through the seam).
  bool atomic_points = false;
};

// One execution with `strategy` (its NewExecution(run_index) is called here).
RunResult RunOnce(const RunSettings& settings, Strategy* strategy, uint64_t run_index);
// Done with `r`: its big buffers serve the next run on this thread (World's event log) instead
// of going back to the allocator. Optional; a loop of RunOnce calls should.
void RecycleRun(RunResult&& r);
// One execution that answers every decision from `tape`.
RunResult ReplayTape(const RunSettings& settings, const std::vector<uint8_t>& tape);

struct ShrinkStats {
  std::size_t original_bytes = 0;
  std::size_t shrunk_bytes = 0;
  std::size_t original_events = 0;
  std::size_t shrunk_events = 0;
  int attempts = 0;
};
// Delta debugging over the tape (ddmin-style chunk removal, then zeroing each decision: fewer
// operations, faults and preemptions) keeping a failure of the same invariant. Bounded by
// `max_attempts` replays and `max_seconds` of wall time.
std::vector<uint8_t> ShrinkTape(const RunSettings& settings, const std::vector<uint8_t>& tape,
                                const std::string& invariant, int max_attempts, double max_seconds,
                                ShrinkStats* stats);
inline std::vector<uint8_t> ShrinkTape(const RunSettings& settings, const std::vector<uint8_t>& tape,
                                       const std::string& invariant, int max_attempts,
                                       ShrinkStats* stats) {
  return ShrinkTape(settings, tape, invariant, max_attempts, 30.0, stats);
}

// The determinism audit: replays `tape` twice and compares per-step hashes. Returns the first
// diverging decision index, or -1 when both replays agree with each other and with `expected`
// (if given).
long long AuditDeterminism(const RunSettings& settings, const std::vector<uint8_t>& tape,
                           const std::vector<uint64_t>* expected);

// A replay file: a small text header (scenario, mutant, allowed faults) and the tape in hex.
// Any other file is read as a raw tape (libFuzzer's inputs are raw tapes).
struct TapeFile {
  std::string scenario = "standard";
  Mutant mutant = Mutant::kNone;
  uint32_t allowed_faults = kAllSimFaults;
  std::vector<uint8_t> tape;
  bool raw = false;  // read from a raw tape (no header)
  int scenario_version = 0;  // "scenario-version": checked against sim/tape_version.h on reading
  std::string commit;        // "commit": the build that recorded it (informational)
  MemoryModel memory = MemoryModel::kSc;  // "memory" line; absent: sc
  bool atomic_points = false;             // "points atomics"; absent: sites
};
bool WriteTapeFile(const std::string& path, const TapeFile& file, std::string* error);
bool ReadTapeFile(const std::string& path, TapeFile* file, std::string* error);

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_RUNNER_H_
