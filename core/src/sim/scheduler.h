// The deterministic scheduler: runs logical threads on fibers, one at a time, switching only
// at the seams (seams.h), with every choice taken by a Strategy and recorded on the tape.
//
// It binds the production seams to itself (it is a seam::Hooks): a scheduling point asks the
// strategy which runnable thread goes next (choice 0: the current one, so a quiet tape means no
// preemption); a wait parks the fiber on a key until a wake or, for timed waits, until virtual
// time reaches its deadline; when nothing is runnable the clock jumps to the nearest deadline,
// so a 30-second DNS timeout costs nothing. Nothing runnable and no deadline is a deadlock.
//
// Points: with `atomic_points` every seam::Atomic load, store, RMW and fence (atomic.h) is a
// scheduling point too, named by its file, function, line and operation; without it only the
// named seam::Site points are (the tapes recorded before atomics went through the seam).
//
// Memory models: kSc runs every atomic at once. kTso gives each thread an x86-TSO store buffer
// (store_buffer.h); at each of its scheduling points a thread whose buffer holds n stores takes
// one decision (DecisionKind::kMemory) in [0, n]: 0 drains them all (the quiet choice: a tape of
// zeros is a sequentially consistent run), v keeps the v newest and drains the rest. A thread
// that is switched away from keeps its buffer until it runs again.
//
// ThreadSanitizer (WSAF_SIM_TSAN, the tsan preset): fibers switch without synchronisation, so
// TSan sees each simulated thread as a thread of its own, and the scheduler adds the edges of
// what it models: a Wake releases its key and a Wait that returns acquires it (seam mutexes are
// real std::mutex try_lock/unlock, which TSan sees itself). The simulation's files are built
// without TSan instrumentation (core/CMakeLists.txt), and since malloc, free and mem* are
// intercepted anyway, a fiber runs under TSan's ignore flag whenever it runs the simulator's
// code: a thread body starts there, every exported function of the library marks itself the
// code under test (WSAF_API_ENTRY, seam::CodeUnderTest), and hooks and callbacks mark
// themselves the simulator's (Inside, seam::SimulatorCode). WSAF_SIM_TSAN_SYNC=1 makes every
// switch a release/acquire pair again (no race between simulated threads can then be seen).
// kTso is refused there: a drained store would be attributed to whichever thread runs then.
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
#include <utility>
#include <vector>

#include "seams/seams.h"
#include "sim/fiber.h"
#include "sim/store_buffer.h"
#include "sim/strategy.h"

namespace wsaf::sim {

enum class RunOutcome { kFinished, kDeadlock, kStepLimit };
const char* RunOutcomeName(RunOutcome o);

enum class MemoryModel : uint8_t { kSc, kTso };
const char* MemoryModelName(MemoryModel m);  // "sc", "tso"
bool ParseMemoryModel(const std::string& name, MemoryModel* out);

// Where a thread was switched away from: a named site or an atomic operation.
struct Preemption {
  uint64_t step = 0;   // the scheduler step of the switch
  int from = -1, to = -1;
  seam::Site site = seam::Site::kCount;  // kCount: an atomic operation
  seam::AtomicOp op = seam::AtomicOp::kLoad;
  std::memory_order order = std::memory_order_seq_cst;
  const char* file = nullptr;  // static strings of the call site
  const char* func = nullptr;
  int line = 0;
};
// "task_table.cc:142 PopFree cas acq_rel" or the site's name.
std::string DescribePoint(const Preemption& p);

struct SchedulerOptions {
  MemoryModel memory = MemoryModel::kSc;
  bool atomic_points = false;  // every seam::Atomic operation is a scheduling point
  uint64_t max_steps = 200000;
  bool record_tape = true;
  // Keep the list of preemptions (for replays and feedback-driven strategies; a run nobody
  // looks at whole does not pay for it: under ASan its growth was a tenth of a run's time).
  bool record_preemptions = true;
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
  bool atomic_points() const { return options_.atomic_points; }
  MemoryModel memory() const { return options_.memory; }
  uint64_t decisions() const { return decisions_; }
  const std::vector<uint8_t>& tape() const { return tape_; }
  const std::vector<uint64_t>& step_hashes() const { return step_hashes_; }
  // After Run(): hands the records over (the run's result keeps them; no copy per run).
  std::vector<uint8_t> TakeTape() { return std::move(tape_); }
  std::vector<uint64_t> TakeStepHashes() { return std::move(step_hashes_); }
  std::vector<Preemption> TakePreemptions() { return std::move(preemptions_); }
  // Every switch away from a thread that could have gone on, in order (with record_preemptions).
  const std::vector<Preemption>& preemptions() const { return preemptions_; }
  uint64_t buffered_stores() const { return buffered_stores_; }
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
  void Atomic(const seam::Access& a) override;
  bool AtomicLoad(const seam::Access& a, uint64_t* bits) override;
  bool AtomicStore(const seam::Access& a, void* object, uint64_t bits, seam::ApplyStore apply) override;
  void Drain() override;
  bool SetCodeUnderTest(bool on) override;

 private:
  struct Thread;
  class Inside;
  enum class ThreadStatus : uint8_t { kRunnable, kWaiting, kFinished };

  static constexpr std::size_t kMaskThreads = 64;
  static void FiberEntry(void* arg);
  void SetStatus(Thread* t, ThreadStatus s);  // keeps runnable_mask_
  void Park();                  // from a fiber: back to the scheduler loop
  int PickNext(bool current_runnable);
  void SchedulePoint();         // a point of the current thread: drains, then who goes next
  void AtomicPoint(const seam::Access& a);  // an atomic's point (the caller is Inside)
  void OfferDrains();           // kTso: the current thread's drain decision
  void DrainAllBuffers();
  bool AdvanceClock();          // wakes the earliest timed waiters; false if there are none
  void Record(uint32_t n, uint32_t value, uint64_t salt);

  Strategy* strategy_;
  SchedulerOptions options_;
  std::vector<std::unique_ptr<Thread>> threads_;
  std::vector<int> runnable_scratch_;
  // invariant: bit i set iff thread i < kMaskThreads is runnable.
  uint64_t runnable_mask_ = 0;
  int current_ = -1;
  int pending_next_ = -1;  // chosen by a Point() that parked its thread
  uint64_t steps_ = 0;
  uint64_t decisions_ = 0;
  int64_t now_ms_ = 0;
  uint64_t hash_ = 0xcbf29ce484222325ull;
  std::vector<uint8_t> tape_;
  std::vector<uint64_t> step_hashes_;
  std::vector<Preemption> preemptions_;
  uint64_t buffered_stores_ = 0;
  seam::ThreadState outside_state_;  // for seam calls made outside any thread
};

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_SCHEDULER_H_
