// The deterministic scheduler: runs logical threads on fibers, one at a time, switching only
// at the seams (seams.h), with every choice taken by a Strategy and recorded on the tape.
//
// It binds the production seams to itself (it is a seam::Hooks): a scheduling point asks the
// strategy which runnable thread goes next (choice 0: the current one, so a quiet tape means no
// preemption); a wait parks the fiber on a key until a wake or, for timed waits, until virtual
// time reaches its deadline; when nothing is runnable the clock jumps to the nearest deadline,
// so a 30-second DNS timeout costs nothing. Nothing runnable and no deadline is a deadlock.
//
// Thread safety: a Scheduler and its fibers live on the OS thread that calls Run(). Only one
// Scheduler may be installed (seam::g_hooks) at a time per process.
// Lifetime: bodies must return for their resources to be freed; a run cut short (deadlock,
// step limit) abandons the fibers that are still parked.
#ifndef WSAFAULT_SIM_SCHEDULER_H_
#define WSAFAULT_SIM_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "seams/seams.h"
#include "sim/fiber.h"
#include "sim/strategy.h"

namespace wsaf::sim {

enum class RunOutcome { kFinished, kDeadlock, kStepLimit };
const char* RunOutcomeName(RunOutcome o);

struct SchedulerOptions {
  uint64_t max_steps = 200000;
  bool record_tape = true;
  bool record_step_hashes = false;  // for the determinism audit
  // Which fault sites may fire this run (BUGGIFY): bit i = seam::FaultSite i.
  uint32_t enabled_faults = 0;
};

class Scheduler : public seam::Hooks {
 public:
  Scheduler(Strategy* strategy, SchedulerOptions options);
  ~Scheduler() override;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Adds a logical thread; call before Run() or from a running thread.
  int Spawn(std::string name, std::function<void()> body);
  // Binds the seams to this scheduler (also outside any logical thread, for set-up code);
  // the destructor unbinds them.
  void Install() { seam::g_hooks = this; }
  // Runs every thread to the end (or a deadlock or the step limit). Installs itself first.
  RunOutcome Run();

  // A data or fault decision in [0, n), recorded on the tape.
  uint32_t Decide(uint32_t n, DecisionKind kind = DecisionKind::kData);
  // The running logical thread (-1 outside threads).
  int current() const { return current_; }
  const std::string& thread_name(int id) const;
  int thread_count() const { return static_cast<int>(threads_.size()); }
  uint64_t steps() const { return steps_; }
  uint64_t decisions() const { return decisions_; }
  const std::vector<uint8_t>& tape() const { return tape_; }
  const std::vector<uint64_t>& step_hashes() const { return step_hashes_; }
  // The unfinished threads: waiting or runnable, and the last scheduling point each met.
  std::string DescribeBlocked() const;
  // The liveness phase: no fault fires after this.
  void DisableFaults() { options_.enabled_faults = 0; }
  void SetEnabledFaults(uint32_t mask) { options_.enabled_faults = mask; }

  // seam::Hooks
  void Point(seam::Site site) override;
  void Wait(const void* key) override;
  void WaitFor(const void* key, int64_t ms) override;
  void Wake(const void* key) override;
  int64_t NowMs() override { return now_ms_; }
  bool Fault(seam::FaultSite site) override;
  seam::ThreadState* CurrentThreadState() override;

 private:
  struct Thread;
  enum class ThreadStatus : uint8_t { kRunnable, kWaiting, kFinished };

  static void FiberEntry(void* arg);
  void Park();                  // from a fiber: back to the scheduler loop
  int PickNext(bool current_runnable);
  bool AdvanceClock();          // wakes the earliest timed waiters; false if there are none
  void Record(uint32_t n, uint32_t value, uint64_t salt);

  Strategy* strategy_;
  SchedulerOptions options_;
  std::vector<std::unique_ptr<Thread>> threads_;
  std::vector<int> runnable_scratch_;
  int current_ = -1;
  int pending_next_ = -1;  // chosen by a Point() that parked its thread
  uint64_t steps_ = 0;
  uint64_t decisions_ = 0;
  int64_t now_ms_ = 0;
  uint64_t hash_ = 0xcbf29ce484222325ull;
  std::vector<uint8_t> tape_;
  std::vector<uint64_t> step_hashes_;
  seam::ThreadState outside_state_;  // for seam calls made outside any thread
};

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_SCHEDULER_H_
