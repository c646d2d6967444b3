// core/src/sim/fiber.h
//
// Fiber: a cooperative thread of execution with its own stack, run on the OS thread that
// switches to it. The deterministic scheduler runs each logical thread of the production table
// on a Fiber and hands control from one to the next with SwitchTo(). Only one fiber of an OS
// thread runs at a time and every hand-over is an explicit call, so a run is a function of the
// scheduler's decisions and nothing else.
//
// Every OS thread has a main context, Fiber::Main(): the code that was running before any fiber
// was entered (the scheduler). It has no stack of its own and is never finished.
//
//   void Body(void* arg) {
//     ...
//     wsaf::sim::SwitchTo(wsaf::sim::Fiber::Main());  // yield to the scheduler
//     ...
//   }  // returning hands control back to whoever switched to this fiber last
//
//   wsaf::sim::Fiber f(&Body, &state);
//   while (!f.finished()) wsaf::sim::SwitchTo(&f);
//
// On x86-64 a switch is a hand-written routine (callee-saved registers, the stack pointer, MXCSR
// and the x87 control word; resumed by an indirect jump): ~5 ns of CPU, ~22 ns under ASan, ~23 ns
// under TSan (~76 ns with SwitchSync::kHappensBefore). Elsewhere, or when built with
// WSAF_SIM_FIBER_UCONTEXT=1, it is glibc's swapcontext (~160 ns: a system call every switch).
// Set WSAF_SIM_FIBER_UCONTEXT the same way for every translation unit of a program.
// (bench/fiber_bench.cc; 2-vCPU KVM guest, g++-12 / clang-14.)
//
// Thread safety:
//   A Fiber is bound to one OS thread from its first switch until it finishes (or is Reset):
//   switching to it, destroying it or resetting it while it is suspended mid-run must happen on
//   that thread; otherwise the process aborts with a message. A finished or never-started Fiber
//   may be destroyed or Reset on any thread, and a Reset fiber may then run on another thread.
//   No member function is safe to call concurrently with another on the same Fiber. Different
//   OS threads may run their own fibers in parallel; nothing is shared between them.
//
// Memory ordering:
//   All fibers of an OS thread are one thread in the C++ memory model: everything a fiber did
//   before SwitchTo() is visible to the fiber that runs next, with no atomics needed, because a
//   switch is an opaque call to the compiler.
//   ThreadSanitizer, which otherwise sees each fiber as its own thread, is told about these
//   happens-before edges, and only these:
//     - constructing or Reset()ing a fiber happens before its entry starts (like pthread_create);
//     - the fiber's entry returning happens before its final switch back and before ~Fiber() or
//       Reset() returns (like pthread_join); for a fiber abandoned mid-run, everything it did
//       happens before ~Fiber() or Reset() returns;
//     - SwitchTo(to, SwitchSync::kHappensBefore) makes the switch a release/acquire pair.
//   The default, SwitchSync::kNone, adds no edge, so two fibers touching the same memory without
//   modelled synchronisation are reported as a data race; the scheduler adds __tsan_release /
//   __tsan_acquire edges for each synchronisation it models. This file's own bookkeeping is
//   excluded from TSan (no_sanitize("thread")), so it never shows up in a report.
//
// Lifetime:
//   The constructor maps the stack (or takes one from a small per-OS-thread cache of free
//   stacks) and never runs the entry; the first SwitchTo() does. When entry(arg) returns, the
//   fiber is finished() and control goes to the fiber that last switched to it, which must still
//   exist. ~Fiber() and Reset() may be called on a fiber that is finished, never started, or
//   suspended mid-run, never on the running one. A fiber destroyed or Reset while suspended is
//   abandoned: its stack frames are dropped without running destructors (like a killed thread),
//   so anything they own leaks; the scheduler should let fibers return when that matters.
//   The stack goes back to a cache of the destroying OS thread (up to 32 stacks, the oldest
//   unmapped first; emptied when the thread exits or by TrimStackCache()). Constructing and
//   destroying a fiber costs ~20 ns with a cached stack and ~8 us without (mmap, mprotect,
//   munmap). Reset() reuses the stack and the sanitizer state as well (~17 ns); prefer it when a
//   scheduler runs the same threads thousands of times a second, above all under TSan, where
//   creating a TSan fiber costs ~8 us with clang-14 and ~0.5 ms with g++-12 against ~0.3 us for
//   a Reset().
//
// Sanitizers:
//   Under ASan every switch, first entries and final exits included, is announced with
//   __sanitizer_{start,finish}_switch_fiber, so reports inside fibers carry the right stack
//   (use-after-free, stack overflow; stack-use-after-return with
//   ASAN_OPTIONS=detect_stack_use_after_return=1). Abandoning a fiber switches to it once more,
//   running none of its code, so that ASan frees its fake stack (~16 KiB a run otherwise) and
//   TSan gets the join edge; the dropped frames' redzones are unpoisoned. Fiber stacks in use
//   are LSan root regions. Under TSan each Fiber owns a TSan fiber (__tsan_create_fiber).
//   The ucontext fallback under ASan warns that swapcontext is not fully supported: ASan's
//   interceptor also clears the shadow of the stack it switches to.
//
// Rules for fiber code:
//   - entry must not throw: an exception escaping it prints a message and calls std::terminate.
//     Exceptions thrown and caught inside one fiber are fine, but do not switch from inside a
//     catch handler or from a destructor running during unwinding: the C++ runtime keeps the
//     exceptions in flight per OS thread, and another fiber would see them.
//   - errno, thread_local variables and the signal mask are per OS thread, so all fibers of a
//     thread share them.
//   - A stack overflow lands on a PROT_NONE guard page (one page) below the stack and kills the
//     process with SIGSEGV (ASan reports it as stack-overflow). A single frame larger than a page
//     can jump the guard unless the code is built with -fstack-clash-protection.
//   - The x86-64 switch is not compatible with CET shadow stacks.

#ifndef WSAFAULT_CORE_SRC_SIM_FIBER_H_
#define WSAFAULT_CORE_SRC_SIM_FIBER_H_

#include <cstddef>

// Sanitizer detection for this file and its users. clang has __has_feature; g++-12 has not, and
// defines __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__ instead.
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WSAF_SIM_FIBER_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define WSAF_SIM_FIBER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(WSAF_SIM_FIBER_ASAN)
#define WSAF_SIM_FIBER_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(WSAF_SIM_FIBER_TSAN)
#define WSAF_SIM_FIBER_TSAN 1
#endif

// Keeps the scheduler's bookkeeping out of TSan's view (see "Memory ordering" above).
#if defined(WSAF_SIM_FIBER_TSAN)
#define WSAF_SIM_NO_SANITIZE_THREAD __attribute__((no_sanitize("thread")))
#else
#define WSAF_SIM_NO_SANITIZE_THREAD
#endif

namespace wsaf::sim {

// Whether a switch is a happens-before edge for ThreadSanitizer. Ignored in other builds.
enum class SwitchSync : unsigned char {
  kNone,           // no edge: races between the two fibers are reported (the default)
  kHappensBefore,  // release by the fiber switching away, acquire by the fiber switched to
};

class Fiber {
 public:
  using Entry = void (*)(void* arg);

  // Under ASan frames carry redzones and grow two to three times.
#if defined(WSAF_SIM_FIBER_ASAN)
  static constexpr size_t kDefaultStackBytes = 256 * 1024;
#else
  static constexpr size_t kDefaultStackBytes = 64 * 1024;
#endif

  // A fiber that will run entry(arg) on a stack of stack_bytes (rounded up to whole pages) when
  // first switched to. Takes a cached stack of the same size if there is one, else maps one
  // with a guard page below it. Throws std::bad_alloc if the stack cannot be mapped.
  Fiber(Entry entry, void* arg, size_t stack_bytes = kDefaultStackBytes);

  // Abandons the fiber if it is suspended mid-run (see "Lifetime") and returns its stack to
  // the cache. Aborts if the fiber is running.
  ~Fiber();

  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Makes the fiber run entry(arg) from the start of its stack at the next switch to it, as if
  // newly constructed, reusing the stack. Abandons a suspended fiber first. Does not allocate
  // (under TSan it recreates the TSan fiber of an abandoned fiber). Aborts if it is running.
  void Reset(Entry entry, void* arg);

  // True once the fiber has been switched to (until Reset).
  WSAF_SIM_NO_SANITIZE_THREAD bool started() const { return state_ != State::kInitial; }
  // True once entry(arg) has returned (until Reset). Never true for Main().
  WSAF_SIM_NO_SANITIZE_THREAD bool finished() const { return state_ == State::kFinished; }
  // The usable stack size: the requested size rounded up to whole pages; 0 for Main().
  size_t stack_bytes() const { return stack_bytes_; }
  // Under TSan: how many ignore regions (__tsan_ignore_thread_begin) the fiber's code has open.
  // TSan refuses to destroy a fiber with ignores enabled, so abandoning the fiber closes them.
  void set_tsan_ignores(int n) { tsan_ignores_ = n; }

  // The fiber running on the calling OS thread: Main() unless a fiber has been switched to.
  static Fiber* Current();
  // The calling OS thread's main context; created on first use, lives until the thread exits.
  static Fiber* Main();

  // Unmaps the calling OS thread's cached free stacks; returns how many it unmapped.
  static size_t TrimStackCache();

 private:
  enum class State : unsigned char { kInitial, kRunning, kSuspended, kFinished };
  struct MainTag {};

  explicit Fiber(MainTag);
  void PrepareFirstEntry();
  void Abandon();
  // Runs on the fiber's own stack: the first code of every run, and its final exit.
  [[noreturn]] static void Start();
  static void RunEntry(Fiber* self);
  // Hands the OS thread from `from` (running) to `to`; returns when `from` is resumed, never if
  // `final` (from's entry has returned).
  static void Transfer(Fiber* from, Fiber* to, unsigned tsan_flags, bool final);
  friend void SwitchTo(Fiber* to, SwitchSync sync);

  // The suspended context: the saved stack pointer (x86-64) or a ucontext_t* (fallback).
  void* context_ = nullptr;
  // invariant: while this fiber runs, the fiber it will return to when entry returns.
  Fiber* resumer_ = nullptr;
  Entry entry_ = nullptr;
  void* arg_ = nullptr;
  char* stack_lo_ = nullptr;  // lowest usable byte; the guard page lies just below
  size_t stack_bytes_ = 0;
  const void* owner_ = nullptr;  // the OS thread it is bound to while started and unfinished
  State state_ = State::kInitial;
  bool is_main_ = false;
  bool abandoning_ = false;  // the next entry runs no user code, only the final exit
  bool tsan_dirty_ = false;  // the TSan fiber was abandoned mid-call: recreate it on Reset
  // Sanitizer state. Present in every build so that the layout does not depend on flags.
  void* asan_fake_stack_ = nullptr;  // ASan fake stack saved while suspended
  const void* asan_stack_bottom_ = nullptr;
  size_t asan_stack_size_ = 0;
  void* tsan_fiber_ = nullptr;
  int tsan_ignores_ = 0;
};

// Suspends the running fiber (Fiber::Current()) and resumes `to` where it last switched away,
// or starts it. Returns when some fiber switches back. A switch to the running fiber is a no-op;
// to a finished fiber, or to a fiber bound to another OS thread, aborts. The switching fiber is
// implicit rather than a parameter so that it can never disagree with the one actually running.
// Does not allocate. See "Memory ordering" for `sync`.
void SwitchTo(Fiber* to, SwitchSync sync = SwitchSync::kNone);

}  // namespace wsaf::sim

#endif  // WSAFAULT_CORE_SRC_SIM_FIBER_H_
