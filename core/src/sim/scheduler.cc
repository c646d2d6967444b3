#include "sim/scheduler.h"

#include <cstdio>
#include <cstdlib>

namespace wsaf::sim {

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
};

const char* RunOutcomeName(RunOutcome o) {
  switch (o) {
    case RunOutcome::kFinished: return "finished";
    case RunOutcome::kDeadlock: return "deadlock";
    case RunOutcome::kStepLimit: return "step-limit";
  }
  return "?";
}

const std::string& Scheduler::thread_name(int id) const { return threads_[id]->name; }

Scheduler::Scheduler(Strategy* strategy, SchedulerOptions options)
    : strategy_(strategy), options_(options) {
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
  threads_.push_back(std::move(t));
  return threads_.back()->id;
}

void Scheduler::FiberEntry(void* arg) {
  auto* t = static_cast<Thread*>(arg);
  t->body();
  t->status = ThreadStatus::kFinished;
  t->body = nullptr;  // free captured state on the fiber's own time
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
  if ((options_.enabled_faults & (1u << static_cast<int>(site))) == 0) return false;
  return Decide(2, DecisionKind::kFault) == 1;
}

seam::ThreadState* Scheduler::CurrentThreadState() {
  return current_ >= 0 ? &threads_[current_]->state : &outside_state_;
}

// Chooses the next thread among the runnable ones, the current one first when it may go on.
int Scheduler::PickNext(bool current_runnable) {
  runnable_scratch_.clear();
  if (current_runnable) runnable_scratch_.push_back(current_);
  for (auto& t : threads_) {
    if (t->status == ThreadStatus::kRunnable && t->id != current_) runnable_scratch_.push_back(t->id);
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
  if (current_ < 0) return;
  threads_[current_]->last_site = site;
  if (steps_ >= options_.max_steps) {
    Park();  // the loop sees the limit and stops the run
    return;
  }
  int next = PickNext(true);
  if (next == current_) return;  // no preemption: no switch at all
  pending_next_ = next;
  Park();
}

void Scheduler::Park() { SwitchTo(Fiber::Main(), SwitchSync::kHappensBefore); }

void Scheduler::Wait(const void* key) {
  if (current_ < 0) return;
  Thread& t = *threads_[current_];
  t.status = ThreadStatus::kWaiting;
  t.wait_key = key;
  t.deadline = -1;
  Park();
}

void Scheduler::WaitFor(const void* key, int64_t ms) {
  if (current_ < 0) {
    now_ms_ += ms > 0 ? ms : 0;
    return;
  }
  Thread& t = *threads_[current_];
  t.status = ThreadStatus::kWaiting;
  t.wait_key = key;
  t.deadline = now_ms_ + (ms > 0 ? ms : 0);
  Park();
}

void Scheduler::Wake(const void* key) {
  for (auto& t : threads_) {
    if (t->status == ThreadStatus::kWaiting && t->wait_key == key) {
      t->status = ThreadStatus::kRunnable;
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
      t->status = ThreadStatus::kRunnable;
      t->wait_key = nullptr;
      t->deadline = -1;
    }
  }
  return true;
}

RunOutcome Scheduler::Run() {
  seam::g_hooks = this;
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
    SwitchTo(t.fiber.get(), SwitchSync::kHappensBefore);
    // Back from the fiber: a point that chose another thread left its choice; a wait or the
    // end of the body leaves the choice to the loop.
    next = pending_next_;
    pending_next_ = -1;
  }
  strategy_->EndExecution(steps_);
  current_ = -1;
  return outcome;
}

std::string Scheduler::DescribeBlocked() const {
  std::string out;
  for (auto& t : threads_) {
    if (t->status == ThreadStatus::kFinished) continue;
    char line[200];
    const char* site = t->last_site == seam::Site::kCount ? "start" : seam::SiteName(t->last_site);
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
