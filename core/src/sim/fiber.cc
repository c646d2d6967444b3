// core/src/sim/fiber.cc
//
// The context switch, the fiber stacks and their cache, and the sanitizer annotations. See
// fiber.h for the contract.
//
// A switch, in order (Transfer): bookkeeping, then ASan's start_switch_fiber, then TSan's
// switch_to_fiber, then the stack switch, all in one function frame. TSan's switch must not be
// followed by a return before the stack switch: TSan would pop the shadow-stack frame of the
// function from the fiber it is switching to, and crash (SIM-NOTES.md). Start(), the first and
// last code of every run, carries no instrumentation at all: it never returns, so a TSan
// func_entry there would grow the fiber's shadow stack by one frame per run of a Reset fiber.

#include "sim/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>

#if !defined(__x86_64__) || (defined(WSAF_SIM_FIBER_UCONTEXT) && WSAF_SIM_FIBER_UCONTEXT)
#define WSAF_SIM_FIBER_USE_UCONTEXT 1
#include <ucontext.h>
#endif

#if defined(WSAF_SIM_FIBER_ASAN)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif
#if defined(WSAF_SIM_FIBER_TSAN)
#include <sanitizer/tsan_interface.h>
extern "C" void __tsan_ignore_thread_end();  // not declared in clang 14's tsan_interface.h
#endif

// No sanitizer instrumentation at all, not even TSan's function entry and exit.
#if defined(__clang__)
#define WSAF_SIM_NO_INSTRUMENT __attribute__((disable_sanitizer_instrumentation))
#else  // gcc skips its TSan pass, entry and exit included, for no_sanitize_thread functions
#define WSAF_SIM_NO_INSTRUMENT \
  __attribute__((no_sanitize_address, no_sanitize_thread, no_sanitize_undefined))
#endif

namespace wsaf::sim {
namespace {

// Free stacks kept per OS thread for reuse; when it is full the oldest is unmapped.
constexpr size_t kStackCacheCapacity = 32;

[[noreturn]] void Fatal(const char* what) {
  std::fprintf(stderr, "wsaf::sim::Fiber: %s\n", what);
  std::abort();
}

#if defined(WSAF_SIM_FIBER_TSAN)
constexpr unsigned kTsanNoSync = __tsan_switch_to_fiber_no_sync;
#else
constexpr unsigned kTsanNoSync = 1;
#endif

struct CachedStack {
  char* lo;
  size_t bytes;
};

// Everything per OS thread. Zero-initialised and trivially destructible, so it is usable until
// the thread is gone, even from destructors of other thread_local objects.
struct ThreadState {
  Fiber* current;   // the running fiber; null until Fiber::Current() is first called
  Fiber* previous;  // the fiber that switched to `current` (ASan records its stack bounds)
  Fiber* main;      // constructed in main_storage on first use, never destroyed
  alignas(Fiber) unsigned char main_storage[sizeof(Fiber)];
#if defined(WSAF_SIM_FIBER_USE_UCONTEXT)
  ucontext_t main_context;
#endif
  CachedStack cache[kStackCacheCapacity];  // invariant: entries [0, cache_size) are free stacks
  size_t cache_size;
  bool cache_reaper_armed;
  bool thread_exiting;  // the cache has been emptied for good: release stacks by unmapping
};
constinit thread_local ThreadState tls{};

}  // namespace

// ---- The context switch -------------------------------------------------------------------

#if !defined(WSAF_SIM_FIBER_USE_UCONTEXT)
// A suspended context is its stack pointer; the stack holds, from there upward: the x87 control
// word, MXCSR, r15, r14, r13, r12, rbx, rbp and the address to resume at.
extern "C" {
void wsaf_sim_fiber_switch(void** save_sp, void* load_sp) noexcept;
void wsaf_sim_fiber_trampoline() noexcept;
}

#if defined(__CET__) && (__CET__ & 1)
#define WSAF_SIM_ENDBR "  endbr64\n"
#else
#define WSAF_SIM_ENDBR
#endif

// wsaf_sim_fiber_switch(save_sp = rdi, load_sp = rsi). The unwind rules stay valid after the
// stack pointer is replaced because both stacks have the same layout.
__asm__(
    ".pushsection .text\n"
    ".p2align 4\n"
    ".globl wsaf_sim_fiber_switch\n"
    ".hidden wsaf_sim_fiber_switch\n"
    ".type wsaf_sim_fiber_switch, @function\n"
    "wsaf_sim_fiber_switch:\n"
    "  .cfi_startproc\n" WSAF_SIM_ENDBR
    "  pushq %rbp\n"
    "  .cfi_adjust_cfa_offset 8\n"
    "  .cfi_rel_offset %rbp, 0\n"
    "  pushq %rbx\n"
    "  .cfi_adjust_cfa_offset 8\n"
    "  .cfi_rel_offset %rbx, 0\n"
    "  pushq %r12\n"
    "  .cfi_adjust_cfa_offset 8\n"
    "  .cfi_rel_offset %r12, 0\n"
    "  pushq %r13\n"
    "  .cfi_adjust_cfa_offset 8\n"
    "  .cfi_rel_offset %r13, 0\n"
    "  pushq %r14\n"
    "  .cfi_adjust_cfa_offset 8\n"
    "  .cfi_rel_offset %r14, 0\n"
    "  pushq %r15\n"
    "  .cfi_adjust_cfa_offset 8\n"
    "  .cfi_rel_offset %r15, 0\n"
    "  subq $16, %rsp\n"
    "  .cfi_adjust_cfa_offset 16\n"
    "  stmxcsr 8(%rsp)\n"
    "  fnstcw (%rsp)\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  fldcw (%rsp)\n"
    "  ldmxcsr 8(%rsp)\n"
    "  addq $16, %rsp\n"
    "  .cfi_adjust_cfa_offset -16\n"
    "  popq %r15\n"
    "  .cfi_adjust_cfa_offset -8\n"
    "  .cfi_restore %r15\n"
    "  popq %r14\n"
    "  .cfi_adjust_cfa_offset -8\n"
    "  .cfi_restore %r14\n"
    "  popq %r13\n"
    "  .cfi_adjust_cfa_offset -8\n"
    "  .cfi_restore %r13\n"
    "  popq %r12\n"
    "  .cfi_adjust_cfa_offset -8\n"
    "  .cfi_restore %r12\n"
    "  popq %rbx\n"
    "  .cfi_adjust_cfa_offset -8\n"
    "  .cfi_restore %rbx\n"
    "  popq %rbp\n"
    "  .cfi_adjust_cfa_offset -8\n"
    "  .cfi_restore %rbp\n"
    "  popq %rcx\n"
    "  .cfi_adjust_cfa_offset -8\n"
    "  .cfi_register %rip, %rcx\n"
    "  jmpq *%rcx\n"
    "  .cfi_endproc\n"
    ".size wsaf_sim_fiber_switch, .-wsaf_sim_fiber_switch\n"
    // The first resume of a fiber lands here with r13 = &Fiber::Start and rsp 16-byte aligned.
    // The undefined return address ends every unwind (debugger, exception, sanitizer) here.
    ".p2align 4\n"
    ".globl wsaf_sim_fiber_trampoline\n"
    ".hidden wsaf_sim_fiber_trampoline\n"
    ".type wsaf_sim_fiber_trampoline, @function\n"
    "wsaf_sim_fiber_trampoline:\n"
    "  .cfi_startproc\n"
    "  .cfi_undefined %rip\n" WSAF_SIM_ENDBR
    "  callq *%r13\n"
    "  ud2\n"
    "  .cfi_endproc\n"
    ".size wsaf_sim_fiber_trampoline, .-wsaf_sim_fiber_trampoline\n"
    ".popsection\n");

namespace {
inline __attribute__((always_inline)) void RawSwitch(void** save, void* load) {
  wsaf_sim_fiber_switch(save, load);
}
}  // namespace
#else   // ucontext: a suspended context is a ucontext_t*, kept at the top of the fiber's stack
namespace {
inline __attribute__((always_inline)) void RawSwitch(void** save, void* load) {
  if (swapcontext(static_cast<ucontext_t*>(*save), static_cast<ucontext_t*>(load)) != 0) {
    Fatal("swapcontext failed");
  }
}
}  // namespace
#endif  // WSAF_SIM_FIBER_USE_UCONTEXT

// ---- Stacks -------------------------------------------------------------------------------
namespace {

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

void UnmapStack(char* lo, size_t bytes) {
  if (munmap(lo - PageSize(), bytes + PageSize()) != 0) Fatal("munmap of a fiber stack failed");
}

struct StackCacheReaper {
  WSAF_SIM_NO_SANITIZE_THREAD ~StackCacheReaper() {
    for (size_t i = 0; i < tls.cache_size; ++i) UnmapStack(tls.cache[i].lo, tls.cache[i].bytes);
    tls.cache_size = 0;
    tls.thread_exiting = true;
  }
};

// Takes a free stack of exactly `bytes` from the cache, or maps one with a guard page below.
WSAF_SIM_NO_SANITIZE_THREAD char* TakeStack(size_t bytes) {
  char* lo = nullptr;
  for (size_t i = tls.cache_size; i-- > 0;) {  // newest first: its pages are likely resident
    if (tls.cache[i].bytes == bytes) {
      lo = tls.cache[i].lo;
      for (size_t j = i + 1; j < tls.cache_size; ++j) tls.cache[j - 1] = tls.cache[j];
      --tls.cache_size;  // the order of the rest stays oldest-first
      break;
    }
  }
  if (lo == nullptr) {
    const size_t guard = PageSize();
    void* map = mmap(nullptr, bytes + guard, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) throw std::bad_alloc();
    if (mprotect(map, guard, PROT_NONE) != 0) {
      munmap(map, bytes + guard);
      throw std::bad_alloc();
    }
    lo = static_cast<char*>(map) + guard;
  }
#if defined(WSAF_SIM_FIBER_TSAN)
  __tsan_acquire(lo);  // the stack's previous user happens before its next one
#endif
#if defined(WSAF_SIM_FIBER_ASAN)
  __lsan_register_root_region(lo, bytes);  // LSan does not scan mmap'd memory by itself
#endif
  return lo;
}

WSAF_SIM_NO_SANITIZE_THREAD void ReleaseStack(char* lo, size_t bytes) {
#if defined(WSAF_SIM_FIBER_ASAN)
  // No unpoisoning here: frames that returned have unpoisoned their redzones, and Abandon()
  // clears those of frames that never will.
  __lsan_unregister_root_region(lo, bytes);
#endif
#if defined(WSAF_SIM_FIBER_TSAN)
  __tsan_release(lo);
#endif
  if (tls.thread_exiting) {
    UnmapStack(lo, bytes);
    return;
  }
  if (tls.cache_size == kStackCacheCapacity) {  // evict the oldest: sizes no longer in use age out
    UnmapStack(tls.cache[0].lo, tls.cache[0].bytes);
    for (size_t i = 1; i < tls.cache_size; ++i) tls.cache[i - 1] = tls.cache[i];
    --tls.cache_size;
  }
  if (!tls.cache_reaper_armed) {
    thread_local StackCacheReaper reaper;
    (void)&reaper;
    tls.cache_reaper_armed = true;
  }
  tls.cache[tls.cache_size++] = CachedStack{lo, bytes};
}

size_t RoundUpToPages(size_t bytes) {
  const size_t page = PageSize();
  if (bytes == 0) bytes = 1;
  return (bytes + page - 1) / page * page;
}

}  // namespace

// ---- Fiber --------------------------------------------------------------------------------

WSAF_SIM_NO_SANITIZE_THREAD Fiber::Fiber(Entry entry, void* arg, size_t stack_bytes)
    : entry_(entry), arg_(arg) {
  stack_bytes_ = RoundUpToPages(stack_bytes);
  stack_lo_ = TakeStack(stack_bytes_);
  asan_stack_bottom_ = stack_lo_;
  asan_stack_size_ = stack_bytes_;
#if defined(WSAF_SIM_FIBER_TSAN)
  tsan_fiber_ = __tsan_create_fiber(0);
  __tsan_release(this);  // construction happens before the entry starts
#endif
  PrepareFirstEntry();
}

WSAF_SIM_NO_SANITIZE_THREAD Fiber::Fiber(MainTag) : state_(State::kRunning), is_main_(true) {
  owner_ = &tls;
#if defined(WSAF_SIM_FIBER_USE_UCONTEXT)
  context_ = &tls.main_context;
#endif
#if defined(WSAF_SIM_FIBER_TSAN)
  tsan_fiber_ = __tsan_get_current_fiber();  // the thread's own context; never destroyed
#endif
}

WSAF_SIM_NO_SANITIZE_THREAD Fiber::~Fiber() {
  if (is_main_) return;
  if (state_ == State::kRunning) Fatal("destroying the running fiber");
  if (state_ == State::kSuspended) Abandon();
#if defined(WSAF_SIM_FIBER_TSAN)
  __tsan_acquire(this);  // everything the fiber did happens before its destruction
  __tsan_destroy_fiber(tsan_fiber_);
#endif
  ReleaseStack(stack_lo_, stack_bytes_);
}

WSAF_SIM_NO_SANITIZE_THREAD void Fiber::Reset(Entry entry, void* arg) {
  if (is_main_) Fatal("Reset of a thread's main context");
  if (state_ == State::kRunning) Fatal("Reset of the running fiber");
  if (state_ == State::kSuspended) Abandon();
#if defined(WSAF_SIM_FIBER_TSAN)
  __tsan_acquire(this);
  if (tsan_dirty_) {  // its shadow call stack still holds the abandoned frames
    __tsan_destroy_fiber(tsan_fiber_);
    tsan_fiber_ = __tsan_create_fiber(0);
    tsan_dirty_ = false;
  }
  __tsan_release(this);
#endif
  entry_ = entry;
  arg_ = arg;
  resumer_ = nullptr;
  PrepareFirstEntry();
}

// Lays out a context that, when switched to, calls Start() at the top of the stack.
WSAF_SIM_NO_SANITIZE_THREAD void Fiber::PrepareFirstEntry() {
  const auto top = reinterpret_cast<uintptr_t>(stack_lo_ + stack_bytes_);
#if !defined(WSAF_SIM_FIBER_USE_UCONTEXT)
  // The new fiber inherits the floating-point control state of the code that prepares it.
  uint32_t mxcsr = 0;
  uint16_t x87_control = 0;
  __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
  __asm__ volatile("fnstcw %0" : "=m"(x87_control));
  // Popping 9 words leaves rsp 16-byte aligned for the trampoline's call.
  auto* frame = reinterpret_cast<uint64_t*>((top & ~uintptr_t{15}) - 11 * sizeof(uint64_t));
  frame[0] = x87_control;
  frame[1] = mxcsr;
  frame[2] = 0;                                          // r15
  frame[3] = 0;                                          // r14
  frame[4] = reinterpret_cast<uint64_t>(&Fiber::Start);  // r13
  frame[5] = 0;                                          // r12
  frame[6] = 0;                                          // rbx
  frame[7] = 0;                                          // rbp: ends frame-pointer walks
  frame[8] = reinterpret_cast<uint64_t>(&wsaf_sim_fiber_trampoline);
  frame[9] = 0;
  frame[10] = 0;
  context_ = frame;
#else
  auto* uc = reinterpret_cast<ucontext_t*>((top - sizeof(ucontext_t)) & ~uintptr_t{63});
  if (getcontext(uc) != 0) Fatal("getcontext failed");
  uc->uc_stack.ss_sp = stack_lo_;
  uc->uc_stack.ss_size = static_cast<size_t>(reinterpret_cast<char*>(uc) - stack_lo_);
  uc->uc_link = nullptr;
  makecontext(uc, &Fiber::Start, 0);
  context_ = uc;
#endif
  owner_ = nullptr;
  state_ = State::kInitial;
}

// Runs the suspended fiber once more, from a fresh frame, through its final exit only: that
// frees its ASan fake stack and gives TSan the join edge. Its old frames are dropped.
WSAF_SIM_NO_SANITIZE_THREAD void Fiber::Abandon() {
  abandoning_ = true;
#if defined(WSAF_SIM_FIBER_ASAN)
  // The dropped frames never return to unpoison their redzones; a later run would trip on them.
  __asan_unpoison_memory_region(stack_lo_, stack_bytes_);
#endif
  const void* owner = owner_;
  PrepareFirstEntry();
  owner_ = owner;  // SwitchTo() must still refuse a switch from another OS thread
  SwitchTo(this, SwitchSync::kHappensBefore);
  abandoning_ = false;
  tsan_dirty_ = true;
}

WSAF_SIM_NO_SANITIZE_THREAD void Fiber::RunEntry(Fiber* self) {
  try {
    self->entry_(self->arg_);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wsaf::sim::Fiber: exception escaped a fiber's entry: %s\n", e.what());
    std::terminate();
  } catch (...) {
    std::fprintf(stderr, "wsaf::sim::Fiber: exception escaped a fiber's entry\n");
    std::terminate();
  }
}

inline __attribute__((always_inline)) WSAF_SIM_NO_SANITIZE_THREAD void Fiber::Transfer(
    Fiber* from, Fiber* to, unsigned tsan_flags, bool final) {
  if (!final) to->resumer_ = from;
  from->state_ = final ? State::kFinished : State::kSuspended;
  to->state_ = State::kRunning;
  to->owner_ = &tls;
  tls.current = to;
#if defined(WSAF_SIM_FIBER_ASAN)
  tls.previous = from;
  // A null save slot tells ASan the fiber is gone: it frees the fiber's fake stack.
  __sanitizer_start_switch_fiber(final ? nullptr : &from->asan_fake_stack_, to->asan_stack_bottom_,
                                 to->asan_stack_size_);
#endif
#if defined(WSAF_SIM_FIBER_TSAN)
  __tsan_switch_to_fiber(to->tsan_fiber_, tsan_flags);
#else
  (void)tsan_flags;
#endif
  RawSwitch(&from->context_, to->context_);
#if defined(WSAF_SIM_FIBER_ASAN)
  Fiber* previous = tls.previous;
  __sanitizer_finish_switch_fiber(from->asan_fake_stack_, &previous->asan_stack_bottom_,
                                  &previous->asan_stack_size_);
  from->asan_fake_stack_ = nullptr;  // it is the thread's current fake stack again
#endif
}

WSAF_SIM_NO_INSTRUMENT void Fiber::Start() {
  Fiber* self = tls.current;
#if defined(WSAF_SIM_FIBER_ASAN)
  // Null on a first entry; on an abandoning entry, the fake stack the fiber was suspended with.
  Fiber* previous = tls.previous;
  __sanitizer_finish_switch_fiber(self->asan_fake_stack_, &previous->asan_stack_bottom_,
                                  &previous->asan_stack_size_);
  self->asan_fake_stack_ = nullptr;
#endif
#if defined(WSAF_SIM_FIBER_TSAN)
  __tsan_acquire(self);  // pairs with the release in the constructor and Reset()
  if (self->abandoning_) {
    for (; self->tsan_ignores_ > 0; --self->tsan_ignores_) __tsan_ignore_thread_end();
  }
#endif
  if (!self->abandoning_) RunEntry(self);
  Fiber* to = self->resumer_;
  if (to == nullptr || to->state_ == State::kFinished) to = tls.main;
  self->owner_ = nullptr;
#if defined(WSAF_SIM_FIBER_TSAN)
  __tsan_release(self);  // pairs with the acquire in ~Fiber() and Reset()
#endif
  Transfer(self, to, /*tsan_flags=*/0, /*final=*/true);
  Fatal("a finished fiber was resumed");
}

WSAF_SIM_NO_SANITIZE_THREAD Fiber* Fiber::Current() {
  Fiber* current = tls.current;
  if (current == nullptr) [[unlikely]] {
    current = Main();
    tls.current = current;
  }
  return current;
}

WSAF_SIM_NO_SANITIZE_THREAD Fiber* Fiber::Main() {
  if (tls.main == nullptr) [[unlikely]] {
    tls.main = new (tls.main_storage) Fiber(MainTag{});
  }
  return tls.main;
}

WSAF_SIM_NO_SANITIZE_THREAD size_t Fiber::TrimStackCache() {
  const size_t trimmed = tls.cache_size;
  for (size_t i = 0; i < trimmed; ++i) UnmapStack(tls.cache[i].lo, tls.cache[i].bytes);
  tls.cache_size = 0;
  return trimmed;
}

WSAF_SIM_NO_SANITIZE_THREAD void SwitchTo(Fiber* to, SwitchSync sync) {
  Fiber* from = Fiber::Current();
  if (to == from) return;
  if (to->state_ == Fiber::State::kFinished) Fatal("switch to a finished fiber");
  if (to->owner_ != nullptr && to->owner_ != &tls) {
    Fatal("switch to a fiber bound to another OS thread");
  }
  // A first entry is always an edge: it is the fiber's thread start.
  const bool edge = sync == SwitchSync::kHappensBefore || to->state_ == Fiber::State::kInitial;
  Fiber::Transfer(from, to, edge ? 0 : kTsanNoSync, /*final=*/false);
}

}  // namespace wsaf::sim
