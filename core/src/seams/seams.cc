#include "seams/seams.h"

#include <chrono>
#include <thread>

namespace wsaf::seam {

Hooks* g_hooks = nullptr;

const char* SiteName(Site s) {
  switch (s) {
    case Site::kStartPublish: return "start-publish";
    case Site::kStartSubmit: return "start-submit";
    case Site::kCancelDecide: return "cancel-decide";
    case Site::kCommitDecide: return "commit-decide";
    case Site::kBufferWrite: return "buffer-write";
    case Site::kPost: return "post";
    case Site::kDispatch: return "dispatch";
    case Site::kCleanupWalk: return "cleanup-walk";
    case Site::kLock: return "lock";
    case Site::kSession: return "session";
    case Site::kSleep: return "sleep";
    case Site::kCount: break;
  }
  return "?";
}

const char* FaultSiteName(FaultSite f) {
  switch (f) {
    case FaultSite::kSlotAllocFail: return "slot-alloc-fail";
    case FaultSite::kCount: break;
  }
  return "?";
}

const char* AtomicOpName(AtomicOp op) {
  switch (op) {
    case AtomicOp::kLoad: return "load";
    case AtomicOp::kStore: return "store";
    case AtomicOp::kExchange: return "exchange";
    case AtomicOp::kCompareExchange: return "cas";
    case AtomicOp::kFetchAdd: return "fetch_add";
    case AtomicOp::kFetchSub: return "fetch_sub";
    case AtomicOp::kFence: return "fence";
  }
  return "?";
}

const char* MemoryOrderName(std::memory_order mo) {
  switch (mo) {
    case std::memory_order_relaxed: return "relaxed";
    case std::memory_order_consume: return "consume";
    case std::memory_order_acquire: return "acquire";
    case std::memory_order_release: return "release";
    case std::memory_order_acq_rel: return "acq_rel";
    case std::memory_order_seq_cst: return "seq_cst";
  }
  return "?";
}

void SimAccess(const Access& a) { g_hooks->Atomic(a); }
bool SimAccessLoad(const Access& a, uint64_t* bits) { return g_hooks->AtomicLoad(a, bits); }
bool SimAccessStore(const Access& a, void* object, uint64_t bits, ApplyStore apply) {
  return g_hooks->AtomicStore(a, object, bits, apply);
}

int64_t NowMs() {
  if (Simulated()) return g_hooks->NowMs();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void SleepMs(int64_t ms) {
  if (Simulated()) {
    static const char kSleepKey = 0;  // nobody wakes it: only time does
    g_hooks->WaitFor(&kSleepKey, ms);
    return;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

ThreadState& CurrentThreadState() {
  if (Simulated()) return *g_hooks->CurrentThreadState();
  static thread_local ThreadState state;
  return state;
}

void Mutex::Lock() {
  if (Simulated()) {
    g_hooks->Point(Site::kLock);
    // One OS thread runs every fiber: blocking in std::mutex would deadlock it, so a fiber
    // that finds the mutex taken parks until the holder unlocks.
    while (!mu_.try_lock()) g_hooks->Wait(this);
    g_hooks->Drain();  // a locked instruction
    return;
  }
  mu_.lock();
}

void Mutex::Unlock() {
  if (Simulated()) g_hooks->Drain();  // what the holder stored is visible before the unlock
  mu_.unlock();
  if (Simulated()) g_hooks->Wake(this);
}

void CondVar::Wait(Mutex& mu) {
  if (Simulated()) {
    // No switch happens between Unlock and Wait (Wake only marks fibers runnable), so a
    // notification cannot slip in between and be lost.
    mu.Unlock();
    g_hooks->Wait(this);
    mu.Lock();
    return;
  }
  std::unique_lock<std::mutex> lk(mu.mu_, std::adopt_lock);
  cv_.wait(lk);
  lk.release();
}

void CondVar::WaitFor(Mutex& mu, int64_t ms) {
  if (Simulated()) {
    mu.Unlock();
    g_hooks->WaitFor(this, ms);
    mu.Lock();
    return;
  }
  std::unique_lock<std::mutex> lk(mu.mu_, std::adopt_lock);
  cv_.wait_for(lk, std::chrono::milliseconds(ms));
  lk.release();
}

void CondVar::NotifyAll() {
  if (Simulated()) {
    g_hooks->Wake(this);
    return;
  }
  cv_.notify_all();
}

}  // namespace wsaf::seam
