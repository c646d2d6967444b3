// The world of one simulated run: a fresh Engine (the production table, windows and completion
// path) bound to the scheduler, the simulated resolver, the event log and the checker.
//
// Thread safety: everything lives on the OS thread running the scheduler; logical threads
// touch it one at a time.
#ifndef WSAFAULT_SIM_WORLD_H_
#define WSAFAULT_SIM_WORLD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/engine.h"
#include "check/checker.h"
#include "sim/events.h"
#include "sim/scheduler.h"

namespace wsaf::sim {

// Fault sites of the simulation (BUGGIFY). A run activates a subset, each by a tape decision;
// each firing of an active site is another decision.
enum class SimFault : uint8_t {
  kSlotAllocFail,   // the table cannot have a slot: WSAEWOULDBLOCK
  kResolverError,   // a lookup fails: host not found, server failure, refused, no data
  kResolverTimeout, // a lookup times out (30 s of virtual time): WSATRY_AGAIN
  kResolverDelay,   // completions are delayed and reordered
  kQueueFull,       // tiny window queues and application messages that fill them
  kNetworkDown,     // the network goes down and up
  kCleanup,         // startups and cleanups, the final one included, at any point
  kWindowDestroy,   // windows destroyed with requests outstanding
  kBlocking,        // Winsock 1.1 blocking calls with hooks that cancel
  kCount
};
const char* SimFaultName(SimFault f);
bool ParseSimFaults(const std::string& csv, uint32_t* mask, std::string* error);  // "all", "none", names
constexpr uint32_t kAllSimFaults = (1u << static_cast<int>(SimFault::kCount)) - 1;

struct ScenarioConfig {
  std::string name = "standard";
  int app_threads = 3;
  int ops_per_thread = 20;
  int initial_windows = 2;
  uint32_t table_slots = 12;
  std::size_t queue_limit = 3;
  uint32_t allowed_faults = kAllSimFaults;  // sites a run may activate
  uint64_t max_steps = 200000;              // scheduling decisions before a run is a livelock
  bool cancel_last_only = false;            // cancels always name the thread's last handle
  bool cycle_ops = false;                   // start, cancel, pump in turn (no op decisions)
  // The operations added so that every public call is judged (NULL WSADATA, 1.1-only calls
  // outside and inside a hook, the per-thread last error, GetMessage with a filter and on a
  // destroyed window). They take decisions of their own, so only scenarios that set this use
  // them: the others replay their stored tapes unchanged.
  bool spec_ops = false;
  // Relative weights of the operations (see scenario.cc), 0 disables one.
  int w_start = 30, w_cancel = 25, w_peek = 20, w_post = 4, w_session = 5, w_network = 3,
      w_window = 3, w_blocking = 3;
  int w_blocking_api = 0, w_last_error = 0;  // spec_ops only
};
// Known scenarios: standard, cancel-race, cleanup, blocking, tiny, handle-wrap, spec-rules.
// False for an unknown name.
bool LookupScenario(const std::string& name, ScenarioConfig* out);
// The scenarios a fuzzer or a campaign rotates through; `include_long` adds handle-wrap (one
// run is 600,000 operations, ~0.5 s: it has to be asked for by name). The fuzzers pick one by
// index, so this list only grows with a fuzz corpus re-recorded.
std::vector<std::string> ScenarioNames(bool include_long = false);
// ScenarioNames() plus the scenarios added for coverage (spec-rules): together they reach every
// reachable cell SPEC.md allows (check/coverage.h). The campaign's sim stages and the coverage
// sweep test rotate through these.
std::vector<std::string> CoverageScenarioNames();

class SimResolver;

// The event log of a finished run, kept for the next World made on this OS thread (its
// storage, cleared): under ASan a fresh 30 KiB log per run meant page faults and a malloc
// fill every run. RecycleRun (runner.h) is the way in.
void KeepSpareEvents(std::vector<Event>&& events);

class World {
 public:
  World(const ScenarioConfig& config, Scheduler* scheduler);
  ~World();

  const ScenarioConfig& config() const { return config_; }
  Scheduler& scheduler() { return *scheduler_; }
  Engine& engine() { return engine_; }
  Run& run() { return run_; }
  check::Checker& checker() { return checker_; }
  SimResolver& resolver() { return *resolver_; }

  bool FaultActive(SimFault f) const { return (active_faults_ & (1u << static_cast<int>(f))) != 0; }
  void ActivateFaults(uint32_t mask) { active_faults_ = mask; }
  uint32_t active_faults() const { return active_faults_; }
  // In the liveness phase every fault is off.
  void EndFaults() { active_faults_ = 0; }
  // A decision that fires an active fault site.
  bool Fire(SimFault f) { return FaultActive(f) && scheduler_->Decide(2, DecisionKind::kFault) == 1; }

  // Slot accounting at quiescence, after the liveness phase drained the run: every slot of the
  // table is FREE or DONE. A slot still PENDING, CANCELED, COMPLETING or QUEUED is stranded (in
  // a destroyed window, never reclaimed, never answered) and is a violation with its handle.
  void CheckQuiescence();

  // Stamps and appends an event, then checks it. After a violation nothing more is checked.
  void Log(Event e);
  bool violated() const { return violation_.has_value(); }
  const std::optional<Violation>& violation() const { return violation_; }
  void SetViolation(Violation v) {
    if (!violation_) violation_ = std::move(v);
  }

  // Windows by index (the log uses indexes, stable across replays; HWND values are too).
  int AddWindow(HWND hwnd);
  HWND window(int index) const { return windows_[index]; }
  int window_count() const { return static_cast<int>(windows_.size()); }
  int WindowIndex(HWND hwnd) const;

  // Handles issued so far (for cancels of other threads' requests), in issue order.
  std::vector<uint64_t>& issued() { return issued_; }

 private:
  ScenarioConfig config_;
  Scheduler* scheduler_;
  Engine engine_;
  Run run_;
  check::Checker checker_;
  SimResolver* resolver_ = nullptr;  // owned by engine_ (it is the engine's backend)
  uint32_t active_faults_ = 0;
  std::optional<Violation> violation_;
  std::vector<HWND> windows_;
  std::vector<uint64_t> issued_;
};

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_WORLD_H_
