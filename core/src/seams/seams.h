// Seams: every source of nondeterminism the table touches passes through here.
//
// Production leaves `g_hooks` null: a scheduling point is one predictable branch, locks are
// std::mutex, waits are std::condition_variable, time is steady_clock, per-thread state is
// thread_local. The simulation installs a Hooks object that runs the same code on fibers
// under a deterministic scheduler: points become scheduling decisions, waits park the fiber,
// time is virtual, per-thread state is per fiber, and fault sites fire when the tape says so.
// The table knows these seams and never the simulator.
//
// Thread safety
//   g_hooks is set before any thread uses the library and cleared after they are gone (the
//   simulator runs everything on one OS thread). Mutex and CondVar are as thread-safe as the
//   standard types they wrap.
#ifndef WSAFAULT_SEAMS_SEAMS_H_
#define WSAFAULT_SEAMS_SEAMS_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "common/thread_annotations.h"
#include "seams/atomic.h"
#include "wsafault/winsock_async.h"

namespace wsaf::seam {

// Scheduling points: places where the order between logical threads matters.
enum class Site : uint8_t {
  kStartPublish,    // a start publishes its slot as PENDING
  kStartSubmit,     // a start hands the slot to the resolver
  kCancelDecide,    // cancel reads the slot state and decides
  kCommitDecide,    // the resolver tries to move PENDING -> COMPLETING
  kBufferWrite,     // the resolver writes the caller's buffer
  kPost,            // a completion posts its message
  kDispatch,        // a pump removes a message
  kCleanupWalk,     // the final cleanup visits a slot
  kLock,            // a seam mutex is about to be taken
  kSession,         // startup / cleanup / network switch
  kSleep,           // the resolver announced it sleeps and is about to wait
  kCount
};
const char* SiteName(Site s);

// Named fault sites (BUGGIFY style): the simulation decides whether each firing happens.
enum class FaultSite : uint8_t {
  kSlotAllocFail,   // no request slot can be had: WSAEWOULDBLOCK
  kCount
};
const char* FaultSiteName(FaultSite f);

// Per logical thread: the last error and the Winsock 1.1 blocking-call state.
struct ThreadState {
  int last_error = 0;
  bool in_blocking_call = false;    // inside wsaf_gethostbyname's hook loop
  bool cancel_blocking = false;     // WSACancelBlockingCall was called from the hook
  FARPROC blocking_hook = nullptr;  // null: the default hook
  uint32_t hook_epoch = 0;          // the session the hook was set in; older hooks are void
  // wsaf_gethostbyname's result, allocated by its first call and never zeroed (the packer writes
  // every byte the caller may read; each simulated run's threads are new, and zeroing 64 KiB
  // per thread was a tenth of a run's instructions).
  std::unique_ptr<char[]> blocking_result;
};

class Hooks {
 public:
  virtual ~Hooks() = default;
  virtual void Point(Site site) = 0;
  // Parks the calling logical thread until Wake(key) (spurious returns are allowed).
  virtual void Wait(const void* key) = 0;
  // As Wait, but returns after `ms` of virtual time at the latest.
  virtual void WaitFor(const void* key, int64_t ms) = 0;
  virtual void Wake(const void* key) = 0;
  virtual int64_t NowMs() = 0;
  virtual bool Fault(FaultSite site) = 0;
  virtual ThreadState* CurrentThreadState() = 0;
  // seam::Atomic (atomic.h): the scheduling point before an atomic operation, and the memory
  // model's store buffer. A seq_cst store, an RMW or a seq_cst fence drains the caller's buffer.
  // Atomic: an RMW or a fence. AtomicLoad: the point, then true with the caller's own newest
  // buffered store to a.object. AtomicStore: the point, then true when the memory model
  // buffered the store (apply writes it when it drains). One call per operation.
  virtual void Atomic(const Access& a) = 0;
  virtual bool AtomicLoad(const Access& a, uint64_t* bits) = 0;
  virtual bool AtomicStore(const Access& a, void* object, uint64_t bits, ApplyStore apply) = 0;
  // A locked instruction or a system call (a seam mutex, a wait, a wake): drains the caller's
  // store buffer.
  virtual void Drain() = 0;
  // ThreadSanitizer inside the simulation (the tsan preset, WSAF_SIM_TSAN): whether the calling
  // logical thread now runs the code under test (TSan watches its accesses) or the simulator's
  // own code (TSan ignores it: the simulator's heap traffic between fibers is no race of the
  // table's). Returns the previous mark. Used only through the two scopes below.
  virtual bool SetCodeUnderTest(bool on) { return on; }
};

// The two scopes that draw the line between the code under test and the simulator under
// TSan-in-sim. Every public entry point of the library opens a CodeUnderTest (WSAF_API_ENTRY);
// simulator code the library calls back (a blocking hook, a resolver callback) opens a
// SimulatorCode. They nest; each restores the previous mark. Without WSAF_SIM_TSAN they are
// empty and cost nothing.
template <bool kOn>
class CodeMark {
 public:
#if defined(WSAF_SIM_TSAN)
  CodeMark() : hooks_(g_hooks), restore_(hooks_ != nullptr && hooks_->SetCodeUnderTest(kOn) != kOn) {}
  ~CodeMark() {
    if (restore_) hooks_->SetCodeUnderTest(!kOn);
  }

 private:
  Hooks* hooks_;
  bool restore_;
#else
  CodeMark() {}  // user-provided: a scope variable is not an "unused variable"
#endif
  CodeMark(const CodeMark&) = delete;
  CodeMark& operator=(const CodeMark&) = delete;
};
using CodeUnderTest = CodeMark<true>;
using SimulatorCode = CodeMark<false>;

// The first line of every exported function of the library.
#define WSAF_API_ENTRY() [[maybe_unused]] const ::wsaf::seam::CodeUnderTest wsaf_api_entry_

inline void Point(Site s) {
  if (Simulated()) g_hooks->Point(s);
}
inline bool Fault(FaultSite f) { return Simulated() && g_hooks->Fault(f); }
int64_t NowMs();
void SleepMs(int64_t ms);
ThreadState& CurrentThreadState();

class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE();
  void Unlock() RELEASE();

 private:
  friend class CondVar;
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

class CondVar {
 public:
  void Wait(Mutex& mu) REQUIRES(mu);
  // Returns after a notification, a spurious wake-up, or `ms` milliseconds.
  void WaitFor(Mutex& mu, int64_t ms) REQUIRES(mu);
  void NotifyAll();

 private:
  std::condition_variable cv_;
};

}  // namespace wsaf::seam

#endif  // WSAFAULT_SEAMS_SEAMS_H_
