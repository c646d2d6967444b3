#include "sim/scheduler.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#if defined(WSAF_SIM_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace wsaf::sim {

namespace {

// Fibers switch without a happens-before edge under TSan-in-sim (see scheduler.h);
// WSAF_SIM_TSAN_SYNC=1 puts the edge back (every switch a release/acquire pair: then TSan can
// see no race between simulated threads, which tells a race of the table from a defect of the
// annotations).
#if defined(WSAF_SIM_TSAN)
// The simulator's own code is uninstrumented, but malloc, free and the mem* functions are
// intercepted wherever they are called from: the simulator's vectors growing on one fiber and
// freed on another would be reported as races. So a fiber runs under TSan's ignore flag while it
// runs simulator code, and without it in the code under test (seam::CodeUnderTest).
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
const SwitchSync kSwitchSync =
    std::getenv("WSAF_SIM_TSAN_SYNC") != nullptr ? SwitchSync::kHappensBefore : SwitchSync::kNone;
void TsanRelease(const void* key) { __tsan_release(const_cast<void*>(key)); }
void TsanAcquire(const void* key) { __tsan_acquire(const_cast<void*>(key)); }
void TsanIgnoreBegin() { __tsan_ignore_thread_begin(); }
void TsanIgnoreEnd() { __tsan_ignore_thread_end(); }
#else
constexpr SwitchSync kSwitchSync = SwitchSync::kHappensBefore;
void TsanRelease(const void*) {}
void TsanAcquire(const void*) {}
void TsanIgnoreBegin() {}
void TsanIgnoreEnd() {}
#endif

// x86 drains the store buffer for a locked instruction (every RMW, a seq_cst store compiled as
// xchg) and for mfence (a seq_cst fence); acquire and release fences are free.
bool DrainsBuffer(const seam::Access& a) {
  switch (a.op) {
    case seam::AtomicOp::kLoad: return false;
    case seam::AtomicOp::kStore:
    case seam::AtomicOp::kFence: return a.order == std::memory_order_seq_cst;
    default: return true;
  }
}

const char* BaseName(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

}  // namespace

const char* MemoryModelName(MemoryModel m) { return m == MemoryModel::kTso ? "tso" : "sc"; }

bool ParseMemoryModel(const std::string& name, MemoryModel* out) {
  if (name == "sc") *out = MemoryModel::kSc;
  else if (name == "tso") *out = MemoryModel::kTso;
  else return false;
  return true;
}

std::string DescribePoint(const Preemption& p) {
  if (p.site != seam::Site::kCount || p.file == nullptr) return seam::SiteName(p.site);
  char buf[256];
  std::snprintf(buf, sizeof buf, "%s:%d %s %s %s", BaseName(p.file), p.line, p.func,
                seam::AtomicOpName(p.op), seam::MemoryOrderName(p.order));
  return buf;
}

struct Scheduler::Thread {
  int id = 0;
  std::string name;
  std::function<void()> body;
  std::unique_ptr<Fiber> fiber;
  ThreadStatus status = ThreadStatus::kRunnable;
  const void* wait_key = nullptr;
  int64_t deadline = -1;  // virtual ms; -1: no deadline
  seam::ThreadState state;
  Scheduler* scheduler = nullptr;
  seam::Site last_site = seam::Site::kCount;  // where it last met a scheduling point
  const seam::Access* last_access = nullptr;   // set with last_site == kCount: an atomic
  seam::Access access{};                        // storage for last_access
  StoreBuffer buffer;                           // kTso only
  bool simulator_code = false;  // TSan-in-sim: running the simulator's code (TSan ignores it)
};

// A hook's body is the simulator's code, also when the code under test called it.
class Scheduler::Inside {
 public:
#if defined(WSAF_SIM_TSAN)
  explicit Inside(Scheduler* s) : s_(s), restore_(s->SetCodeUnderTest(false)) {}
  ~Inside() {
    if (restore_) s_->SetCodeUnderTest(true);
  }

 private:
  Scheduler* s_;
  bool restore_;
#else
  explicit Inside(Scheduler*) {}
#endif
};

bool Scheduler::SetCodeUnderTest(bool on) {
  if (current_ < 0) return on;  // outside the threads (set-up, checks): nothing is ignored
  Thread& t = *threads_[current_];
  bool was = !t.simulator_code;
  if (was == on) return was;
  t.simulator_code = !on;
  t.fiber->set_tsan_ignores(on ? 0 : 1);
  if (on) TsanIgnoreEnd();
  else TsanIgnoreBegin();
  return was;
}

const char* RunOutcomeName(RunOutcome o) {
  switch (o) {
    case RunOutcome::kFinished: return "finished";
    case RunOutcome::kDeadlock: return "deadlock";
    case RunOutcome::kStepLimit: return "step-limit";
  }
  return "?";
}

void Scheduler::SetStatus(Thread* t, ThreadStatus s) {
  t->status = s;
  if (t->id >= static_cast<int>(kMaskThreads)) return;
  const uint64_t bit = uint64_t{1} << t->id;
  if (s == ThreadStatus::kRunnable) runnable_mask_ |= bit;
  else runnable_mask_ &= ~bit;
}

const std::string& Scheduler::thread_name(int id) const { return threads_[id]->name; }

Scheduler::Scheduler(Strategy* strategy, SchedulerOptions options)
    : strategy_(strategy), options_(options) {
  // While a process never had a second thread, libstdc++ counts shared_ptr references with
  // plain adds (__libc_single_threaded), and the fibers' shared_ptr copies would be what TSan
  // reports. In production the library always has its resolver thread: so does the simulation.
  static const bool multithreaded = [] {
    std::thread([] {}).join();
    return true;
  }();
  (void)multithreaded;
  if (options_.record_tape) tape_.reserve(1024);
}

Scheduler::~Scheduler() {
  if (seam::g_hooks == this) seam::g_hooks = nullptr;
}

int Scheduler::Spawn(std::string name, std::function<void()> body) {
  auto t = std::make_unique<Thread>();
  t->id = static_cast<int>(threads_.size());
  t->name = std::move(name);
  t->body = std::move(body);
  t->scheduler = this;
  t->fiber = std::make_unique<Fiber>(&FiberEntry, t.get());
  Thread* raw = t.get();
  threads_.push_back(std::move(t));
  SetStatus(raw, ThreadStatus::kRunnable);
  runnable_scratch_.reserve(threads_.size());
  return threads_.back()->id;
}

void Scheduler::FiberEntry(void* arg) {
  auto* t = static_cast<Thread*>(arg);
  t->simulator_code = true;  // a body is scenario code; it marks its calls into the library
  t->fiber->set_tsan_ignores(1);
  TsanIgnoreBegin();
  t->body();
  t->buffer.DrainAll();  // a thread's stores reach memory before it is gone
  t->scheduler->SetStatus(t, ThreadStatus::kFinished);
  t->body = nullptr;  // free captured state on the fiber's own time
  TsanRelease(t);     // what the thread did happens before the end of the run (Run acquires)
  t->simulator_code = false;
  t->fiber->set_tsan_ignores(0);
  TsanIgnoreEnd();
}

void Scheduler::Record(uint32_t n, uint32_t value, uint64_t salt) {
  ++decisions_;
  if (options_.record_tape) Tape::Append(&tape_, n, value);
  hash_ = (hash_ ^ (value + (uint64_t{n} << 32) + salt)) * 0x100000001B3ull;
  if (options_.record_step_hashes) step_hashes_.push_back(hash_);
}

uint32_t Scheduler::Decide(uint32_t n, DecisionKind kind) {
  if (n <= 1) return 0;
  uint32_t v = strategy_->NextValue(n, kind);
  if (v >= n) v %= n;
  Record(n, v, static_cast<uint64_t>(kind) << 60);
  return v;
}

bool Scheduler::Fault(seam::FaultSite site) {
  const Inside inside(this);
  if ((options_.enabled_faults & (1u << static_cast<int>(site))) == 0) return false;
  return Decide(2, DecisionKind::kFault) == 1;
}

seam::ThreadState* Scheduler::CurrentThreadState() {
  return current_ >= 0 ? &threads_[current_]->state : &outside_state_;
}

// Chooses the next thread among the runnable ones, the current one first when it may go on.
// The others in id order: from the mask of runnable threads (a loop over every thread's record
// was a quarter of this function under ASan), or by that loop for more than 64 threads.
int Scheduler::PickNext(bool current_runnable) {
  runnable_scratch_.clear();
  if (current_runnable) runnable_scratch_.push_back(current_);
  if (threads_.size() <= kMaskThreads) {
    uint64_t others = runnable_mask_;
    if (current_ >= 0) others &= ~(uint64_t{1} << current_);
    for (; others != 0; others &= others - 1) runnable_scratch_.push_back(__builtin_ctzll(others));
  } else {
    for (auto& t : threads_) {
      if (t->status == ThreadStatus::kRunnable && t->id != current_) runnable_scratch_.push_back(t->id);
    }
  }
  if (runnable_scratch_.empty()) return -1;
  ++steps_;
  uint32_t n = static_cast<uint32_t>(runnable_scratch_.size());
  uint32_t choice = n == 1 ? 0 : strategy_->NextThread(runnable_scratch_, current_runnable);
  if (choice >= n) choice %= n;
  if (n > 1) Record(n, choice, uint64_t{1} << 61);
  return runnable_scratch_[choice];
}

void Scheduler::Point(seam::Site site) {
  const Inside inside(this);
  if (current_ < 0) return;
  Thread& t = *threads_[current_];
  t.last_site = site;
  t.last_access = nullptr;
  SchedulePoint();
}

void Scheduler::Atomic(const seam::Access& a) {
  const Inside inside(this);
  AtomicPoint(a);
}

void Scheduler::AtomicPoint(const seam::Access& a) {
  if (current_ < 0) return;  // set-up code outside the threads runs as it is
  Thread& t = *threads_[current_];
  if (options_.atomic_points) {
    t.last_site = seam::Site::kCount;
    t.access = a;
    t.last_access = &t.access;
    SchedulePoint();
  }
  // The operation runs right after its point: a locked instruction drains the buffer first.
  if (options_.memory == MemoryModel::kTso && DrainsBuffer(a)) threads_[current_]->buffer.DrainAll();
}

bool Scheduler::AtomicLoad(const seam::Access& a, uint64_t* bits) {
  const Inside inside(this);
  AtomicPoint(a);
  if (options_.memory != MemoryModel::kTso || current_ < 0) return false;
  return threads_[current_]->buffer.Newest(a.object, bits);
}

bool Scheduler::AtomicStore(const seam::Access& a, void* object, uint64_t bits, seam::ApplyStore apply) {
  const Inside inside(this);
  AtomicPoint(a);
  if (options_.memory != MemoryModel::kTso || current_ < 0 || a.order == std::memory_order_seq_cst) {
    return false;
  }
  threads_[current_]->buffer.Push(StoreBuffer::Entry{object, a.object, bits, a.order, apply});
  ++buffered_stores_;
  return true;
}

void Scheduler::Drain() {
  const Inside inside(this);
  if (current_ >= 0) threads_[current_]->buffer.DrainAll();
}

void Scheduler::DrainAllBuffers() {
  for (auto& t : threads_) t->buffer.DrainAll();
}

// The current thread's buffered stores: 0 drains them all (quiet), v in [1, n] keeps the v
// newest. A thread switched away from keeps its buffer until its own next point: asking at
// every point of every thread would make a store that outlives another thread's whole call
// exponentially unlikely, and that is the delay a Dekker bug needs. (A store that becomes
// visible in the middle of another thread's call is reached by switching to its owner, which
// decides at its next point, and back.)
void Scheduler::OfferDrains() {
  StoreBuffer& buffer = threads_[current_]->buffer;
  if (buffer.empty()) return;
  std::size_t n = buffer.size();
  uint32_t options = static_cast<uint32_t>(n < 255 ? n : 255) + 1;
  uint32_t keep = Decide(options, DecisionKind::kMemory);
  buffer.DrainOldest(keep == 0 ? n : n - keep);
}

void Scheduler::SchedulePoint() {
  if (steps_ >= options_.max_steps) {
    Park();  // the loop sees the limit and stops the run
    return;
  }
  if (options_.memory == MemoryModel::kTso) OfferDrains();
  int next = PickNext(true);
  if (next == current_) return;  // no preemption: no switch at all
  if (options_.record_preemptions) {
    const Thread& t = *threads_[current_];
    Preemption p;
    p.step = steps_;
    p.from = current_;
    p.to = next;
    p.site = t.last_site;
    if (t.last_access != nullptr) {
      p.op = t.last_access->op;
      p.order = t.last_access->order;
      p.file = t.last_access->file;
      p.func = t.last_access->func;
      p.line = t.last_access->line;
    }
    preemptions_.push_back(p);
  }
  pending_next_ = next;
  Park();
}

void Scheduler::Park() {
  TsanRelease(threads_[current_].get());  // for the end of the run only (Run acquires)
  SwitchTo(Fiber::Main(), kSwitchSync);
}

void Scheduler::Wait(const void* key) {
  const Inside inside(this);
  if (current_ < 0) return;
  Thread& t = *threads_[current_];
  t.buffer.DrainAll();  // a futex wait is a system call
  SetStatus(&t, ThreadStatus::kWaiting);
  t.wait_key = key;
  t.deadline = -1;
  Park();
  TsanAcquire(key);
}

void Scheduler::WaitFor(const void* key, int64_t ms) {
  const Inside inside(this);
  if (current_ < 0) {
    now_ms_ += ms > 0 ? ms : 0;
    return;
  }
  Thread& t = *threads_[current_];
  t.buffer.DrainAll();
  SetStatus(&t, ThreadStatus::kWaiting);
  t.wait_key = key;
  t.deadline = now_ms_ + (ms > 0 ? ms : 0);
  Park();
  TsanAcquire(key);  // woken or timed out: either way no race is hidden (a timeout has no writer)
}

void Scheduler::Wake(const void* key) {
  const Inside inside(this);
  if (current_ >= 0) threads_[current_]->buffer.DrainAll();
  TsanRelease(key);
  for (auto& t : threads_) {
    if (t->status == ThreadStatus::kWaiting && t->wait_key == key) {
      SetStatus(t.get(), ThreadStatus::kRunnable);
      t->wait_key = nullptr;
      t->deadline = -1;
    }
  }
}

bool Scheduler::AdvanceClock() {
  int64_t earliest = -1;
  for (auto& t : threads_) {
    if (t->status == ThreadStatus::kWaiting && t->deadline >= 0 &&
        (earliest < 0 || t->deadline < earliest)) {
      earliest = t->deadline;
    }
  }
  if (earliest < 0) return false;
  if (earliest > now_ms_) now_ms_ = earliest;
  for (auto& t : threads_) {
    if (t->status == ThreadStatus::kWaiting && t->deadline >= 0 && t->deadline <= now_ms_) {
      SetStatus(t.get(), ThreadStatus::kRunnable);
      t->wait_key = nullptr;
      t->deadline = -1;
    }
  }
  return true;
}

RunOutcome Scheduler::Run() {
  seam::g_hooks = this;
  TsanIgnoreBegin();  // the loop is the simulator's own code
  RunOutcome outcome = RunOutcome::kFinished;
  // `next` is chosen by the fiber that parked (Point) or here when it blocked or finished.
  int next = -1;
  for (;;) {
    if (steps_ >= options_.max_steps) {
      outcome = RunOutcome::kStepLimit;
      break;
    }
    if (next < 0) {
      bool current_runnable = current_ >= 0 && threads_[current_]->status == ThreadStatus::kRunnable;
      next = PickNext(current_runnable);
    }
    if (next < 0) {
      bool any_alive = false;
      for (auto& t : threads_) any_alive |= t->status != ThreadStatus::kFinished;
      if (!any_alive) break;
      if (!AdvanceClock()) {
        outcome = RunOutcome::kDeadlock;
        break;
      }
      continue;
    }
    current_ = next;
    next = -1;
    Thread& t = *threads_[current_];
    SwitchTo(t.fiber.get(), kSwitchSync);
    // Back from the fiber: a point that chose another thread left its choice; a wait or the
    // end of the body leaves the choice to the loop.
    next = pending_next_;
    pending_next_ = -1;
  }
  DrainAllBuffers();  // stores of threads cut short still reach memory
  strategy_->EndExecution(steps_);
  current_ = -1;
  for (auto& t : threads_) TsanAcquire(t.get());  // the checks and the teardown come after all
  TsanIgnoreEnd();
  return outcome;
}

std::string Scheduler::DescribeBlocked() const {
  std::string out;
  for (auto& t : threads_) {
    if (t->status == ThreadStatus::kFinished) continue;
    char line[200];
    std::string where = "start";
    if (t->last_access != nullptr) {
      Preemption p;
      p.op = t->last_access->op;
      p.order = t->last_access->order;
      p.file = t->last_access->file;
      p.func = t->last_access->func;
      p.line = t->last_access->line;
      where = DescribePoint(p);
    } else if (t->last_site != seam::Site::kCount) {
      where = seam::SiteName(t->last_site);
    }
    const char* site = where.c_str();
    if (t->status == ThreadStatus::kWaiting) {
      std::snprintf(line, sizeof(line), "%s%s waits%s (last point: %s)", out.empty() ? "" : "; ",
                    t->name.c_str(), t->deadline >= 0 ? " with a deadline" : "", site);
    } else {
      std::snprintf(line, sizeof(line), "%s%s runnable (last point: %s)", out.empty() ? "" : "; ",
                    t->name.c_str(), site);
    }
    out += line;
  }
  return out;
}

}  // namespace wsaf::sim
