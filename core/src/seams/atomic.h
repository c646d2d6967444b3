// seam::Atomic<T>: the one atomic type of core/src. Every synchronisation the table relies on
// goes through it, so the simulation can schedule it.
//
// Production (seam::g_hooks null) it is std::atomic<T>: each operation is the std::atomic one
// with the same memory order, behind one predictable branch on g_hooks, inlined. Nothing else
// changes: layout, size and lock-freedom are std::atomic<T>'s.
//
// Simulation: each load, store, read-modify-write and fence is first reported to the hooks as an
// Access (the object, the operation, its memory order and where in the source it is: file,
// function and line, filled at the call site by default arguments). The scheduler makes it a
// scheduling point (the strategy may preempt the thread right before the operation) and applies
// its memory model:
//   - sc: the operation runs at once (fibers on one OS thread are sequentially consistent);
//   - tso (x86-TSO, Sewell et al. CACM 2010): a relaxed or release store waits in the thread's
//     store buffer (AtomicStore returns true, and Apply writes it later, when the tape says it
//     drains); a load first reads the thread's own newest buffered store to the same object
//     (AtomicLoad), else memory; seq_cst stores, every RMW and seq_cst fences drain the
//     thread's buffer first (they are locked instructions or mfence on x86).
// The real operation then still runs on the std::atomic (with its own memory order), so
// ThreadSanitizer sees every atomic with its ordering, also between simulated threads.
//
// Only types of at most 8 bytes that std::atomic makes lock-free are supported (integers, bool,
// pointers): their values travel through the hooks as 64 bits.
//
// Thread safety: as std::atomic<T>.
// Memory ordering: as std::atomic<T>; in the simulation, as the chosen memory model.
#ifndef WSAFAULT_SEAMS_ATOMIC_H_
#define WSAFAULT_SEAMS_ATOMIC_H_

#include <atomic>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace wsaf::seam {

enum class AtomicOp : uint8_t { kLoad, kStore, kExchange, kCompareExchange, kFetchAdd, kFetchSub, kFence };
const char* AtomicOpName(AtomicOp op);
const char* MemoryOrderName(std::memory_order mo);

// One atomic operation as the simulation sees it.
struct Access {
  const void* object;  // null for a fence
  AtomicOp op;
  std::memory_order order;
  const char* file;  // __builtin_FILE() of the call
  const char* func;  // __builtin_FUNCTION()
  int line;
};

// Writes a buffered store into its object when the store buffer drains.
using ApplyStore = void (*)(void* object, uint64_t bits, std::memory_order order);

// The simulation's side (implemented by the scheduler through seam::Hooks, seams.cc).
// SimAccess (an RMW or a fence): the scheduling point and, for an RMW or a seq_cst fence, the
// drain.
void SimAccess(const Access& a);
// A load: the point, then true with the thread's own newest buffered store to `a.object`.
bool SimAccessLoad(const Access& a, uint64_t* bits);
// A store: the point (and the drain of a seq_cst one), then true when the memory model
// buffered it (Apply writes it later).
bool SimAccessStore(const Access& a, void* object, uint64_t bits, ApplyStore apply);

class Hooks;
extern Hooks* g_hooks;  // seams.h: null in production
#if defined(WSAFAULT_NO_SIM_HOOKS)
// The production library (CMake WSAFAULT_PRODUCTION_LIB): no simulation can attach.
constexpr bool Simulated() { return false; }
#else
inline bool Simulated() { return __builtin_expect(g_hooks != nullptr, 0); }
#endif

// Always inlined: each caller keeps its own instrumentation (under TSan-in-sim the simulation's
// files are uninstrumented; an out-of-line copy shared with the table would hide its atomics).
#define WSAF_SEAM_INLINE __attribute__((always_inline)) inline

#define WSAF_SEAM_WHERE \
  const char *file_ = __builtin_FILE(), const char *func_ = __builtin_FUNCTION(), int line_ = __builtin_LINE()

template <typename T>
class Atomic {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "seam::Atomic holds at most 8 bytes");
  static_assert(std::atomic<T>::is_always_lock_free, "seam::Atomic needs a lock-free std::atomic<T>");

 public:
  constexpr Atomic() noexcept : a_() {}
  constexpr Atomic(T v) noexcept : a_(v) {}  // NOLINT(google-explicit-constructor): as std::atomic
  Atomic(const Atomic&) = delete;
  Atomic& operator=(const Atomic&) = delete;

  WSAF_SEAM_INLINE T load(std::memory_order mo = std::memory_order_seq_cst, WSAF_SEAM_WHERE) const {
    uint64_t bits;
    if (Simulated() && SimLoad(mo, file_, func_, line_, &bits)) return FromBits(bits);
    return a_.load(mo);
  }

  // A read for the simulator and the checkers, never a scheduling point and never from a store
  // buffer: observing the table must not change the schedule (production code never calls it).
  WSAF_SEAM_INLINE T Peek() const { return a_.load(std::memory_order_relaxed); }

  WSAF_SEAM_INLINE void store(T v, std::memory_order mo = std::memory_order_seq_cst, WSAF_SEAM_WHERE) {
    if (Simulated() && SimStore(ToBits(v), mo, file_, func_, line_)) return;
    a_.store(v, mo);
  }

  WSAF_SEAM_INLINE T exchange(T v, std::memory_order mo = std::memory_order_seq_cst, WSAF_SEAM_WHERE) {
    Rmw(AtomicOp::kExchange, mo, file_, func_, line_);
    return a_.exchange(v, mo);
  }

  WSAF_SEAM_INLINE bool compare_exchange_weak(T& expected, T desired, std::memory_order success,
                             std::memory_order failure, WSAF_SEAM_WHERE) {
    Rmw(AtomicOp::kCompareExchange, success, file_, func_, line_);
    return a_.compare_exchange_weak(expected, desired, success, failure);
  }
  WSAF_SEAM_INLINE bool compare_exchange_weak(T& expected, T desired,
                             std::memory_order mo = std::memory_order_seq_cst, WSAF_SEAM_WHERE) {
    Rmw(AtomicOp::kCompareExchange, mo, file_, func_, line_);
    return a_.compare_exchange_weak(expected, desired, mo);
  }
  WSAF_SEAM_INLINE bool compare_exchange_strong(T& expected, T desired, std::memory_order success,
                               std::memory_order failure, WSAF_SEAM_WHERE) {
    Rmw(AtomicOp::kCompareExchange, success, file_, func_, line_);
    return a_.compare_exchange_strong(expected, desired, success, failure);
  }
  WSAF_SEAM_INLINE bool compare_exchange_strong(T& expected, T desired,
                               std::memory_order mo = std::memory_order_seq_cst, WSAF_SEAM_WHERE) {
    Rmw(AtomicOp::kCompareExchange, mo, file_, func_, line_);
    return a_.compare_exchange_strong(expected, desired, mo);
  }

  template <typename U = T, typename = std::enable_if_t<std::is_integral_v<U> && !std::is_same_v<U, bool>>>
  WSAF_SEAM_INLINE T fetch_add(T v, std::memory_order mo = std::memory_order_seq_cst, WSAF_SEAM_WHERE) {
    Rmw(AtomicOp::kFetchAdd, mo, file_, func_, line_);
    return a_.fetch_add(v, mo);
  }
  template <typename U = T, typename = std::enable_if_t<std::is_integral_v<U> && !std::is_same_v<U, bool>>>
  WSAF_SEAM_INLINE T fetch_sub(T v, std::memory_order mo = std::memory_order_seq_cst, WSAF_SEAM_WHERE) {
    Rmw(AtomicOp::kFetchSub, mo, file_, func_, line_);
    return a_.fetch_sub(v, mo);
  }

 private:
  WSAF_SEAM_INLINE static uint64_t ToBits(T v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof(T));
    return bits;
  }
  WSAF_SEAM_INLINE static T FromBits(uint64_t bits) {
    T v;
    std::memcpy(&v, &bits, sizeof(T));
    return v;
  }
  static void Apply(void* object, uint64_t bits, std::memory_order mo) {
    static_cast<Atomic*>(object)->a_.store(FromBits(bits), mo);
  }
  WSAF_SEAM_INLINE void Rmw(AtomicOp op, std::memory_order mo, const char* file, const char* func, int line) const {
    if (Simulated()) SimRmw(op, mo, file, func, line);
  }
  // The simulated side, out of line and cold, so the production path is the test of g_hooks and
  // the std::atomic operation alone (the real operation stays inline in the caller). Callgrind of
  // BM_WsafStartCancel_Pair/batch:1, release, instructions of the calling thread per pair: 802
  // with this code inline, 746 out of line, 487 with the test compiled out (what is left is the
  // seams' branches and the inlining they cost, spread over the start and cancel paths).
  __attribute__((noinline, cold)) bool SimLoad(std::memory_order mo, const char* file, const char* func, int line,
                                               uint64_t* bits) const {
    return SimAccessLoad(Access{&a_, AtomicOp::kLoad, mo, file, func, line}, bits);
  }
  __attribute__((noinline, cold)) bool SimStore(uint64_t bits, std::memory_order mo, const char* file,
                                                const char* func, int line) {
    return SimAccessStore(Access{&a_, AtomicOp::kStore, mo, file, func, line}, this, bits, &Apply);
  }
  __attribute__((noinline, cold)) void SimRmw(AtomicOp op, std::memory_order mo, const char* file, const char* func,
                                              int line) const {
    SimAccess(Access{&a_, op, mo, file, func, line});
  }

  std::atomic<T> a_;
};

// std::atomic_thread_fence through the seam: in the simulation a scheduling point, and under
// tso a seq_cst fence drains the thread's store buffer (acquire and release fences cost nothing
// on x86).
__attribute__((noinline, cold)) inline void SimFence(std::memory_order mo, const char* file, const char* func,
                                                     int line) {
  SimAccess(Access{nullptr, AtomicOp::kFence, mo, file, func, line});
}
WSAF_SEAM_INLINE void Fence(std::memory_order mo, WSAF_SEAM_WHERE) {
  if (Simulated()) SimFence(mo, file_, func_, line_);
  std::atomic_thread_fence(mo);
}

#undef WSAF_SEAM_WHERE
#undef WSAF_SEAM_INLINE

}  // namespace wsaf::seam

#endif  // WSAFAULT_SEAMS_ATOMIC_H_
