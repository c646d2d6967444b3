// Microbenchmarks of the fiber layer (core/src/sim/fiber.h) against glibc's swapcontext.
//
// BM_FiberSwitch_PingPong     main <-> one fiber; items = switches (two an iteration)
// BM_FiberSwitch_PingPongHappensBefore   the same with SwitchSync::kHappensBefore (TSan cost)
// BM_Swapcontext_PingPong     the baseline: the same ping-pong with raw swapcontext
// BM_FiberCreate_CachedStack  construct, run to the end, destroy; the stack comes from the cache
// BM_FiberCreate_MappedStack  the same with the cache emptied every time: mmap + mprotect + munmap
// BM_FiberReset_Run           Reset() and run to the end: what a scheduler pays per fiber per run
//
// per_switch / per_fiber are the inverse of items_per_second, for reading at a glance.

#include <benchmark/benchmark.h>
#include <ucontext.h>

#include <atomic>
#include <memory>

#include "sim/fiber.h"

#if defined(WSAF_SIM_FIBER_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace wsaf::sim {
namespace {

// Seconds of CPU time per item, printed with an SI prefix ("5.2ns").
benchmark::Counter TimePerItem(int64_t items) {
  return benchmark::Counter(static_cast<double>(items),
                            benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

struct PingPong {
  std::atomic<bool> stop{false};  // atomic only so that TSan stays quiet; relaxed is enough
  SwitchSync sync = SwitchSync::kNone;
};

void Ponger(void* arg) {
  auto* pp = static_cast<PingPong*>(arg);
  while (!pp->stop.load(std::memory_order_relaxed)) SwitchTo(Fiber::Main(), pp->sync);
}

void RunFiberPingPong(benchmark::State& state, SwitchSync sync) {
  PingPong pp;
  pp.sync = sync;
  Fiber fiber(&Ponger, &pp);
  for (auto _ : state) SwitchTo(&fiber, sync);
  pp.stop.store(true, std::memory_order_relaxed);
  SwitchTo(&fiber, sync);  // lets it return
  const int64_t switches = 2 * static_cast<int64_t>(state.iterations());
  state.SetItemsProcessed(switches);
  state.counters["per_switch"] = TimePerItem(switches);
}

void BM_FiberSwitch_PingPong(benchmark::State& state) {
  RunFiberPingPong(state, SwitchSync::kNone);
}
BENCHMARK(BM_FiberSwitch_PingPong);

void BM_FiberSwitch_PingPongHappensBefore(benchmark::State& state) {
  RunFiberPingPong(state, SwitchSync::kHappensBefore);
}
BENCHMARK(BM_FiberSwitch_PingPongHappensBefore);

// The baseline. Under TSan the two contexts are TSan fibers too (TSan cannot follow raw
// swapcontext); under ASan it is raw, and ASan's swapcontext interceptor does its own work.
struct UcontextPair {
  ucontext_t main_context;
  ucontext_t ponger_context;
  void* tsan_main = nullptr;
  void* tsan_ponger = nullptr;
};
UcontextPair* uc_pair = nullptr;

void UcontextPonger() {
  for (;;) {
#if defined(WSAF_SIM_FIBER_TSAN)
    __tsan_switch_to_fiber(uc_pair->tsan_main, __tsan_switch_to_fiber_no_sync);
#endif
    swapcontext(&uc_pair->ponger_context, &uc_pair->main_context);
  }
}

void BM_Swapcontext_PingPong(benchmark::State& state) {
  constexpr size_t kStackBytes = 64 * 1024;
  auto stack = std::make_unique<char[]>(kStackBytes);
  UcontextPair pair;
  uc_pair = &pair;
  getcontext(&pair.ponger_context);
  pair.ponger_context.uc_stack.ss_sp = stack.get();
  pair.ponger_context.uc_stack.ss_size = kStackBytes;
  pair.ponger_context.uc_link = nullptr;
  makecontext(&pair.ponger_context, &UcontextPonger, 0);
#if defined(WSAF_SIM_FIBER_TSAN)
  pair.tsan_main = __tsan_get_current_fiber();
  pair.tsan_ponger = __tsan_create_fiber(0);
#endif
  for (auto _ : state) {
#if defined(WSAF_SIM_FIBER_TSAN)
    __tsan_switch_to_fiber(pair.tsan_ponger, __tsan_switch_to_fiber_no_sync);
#endif
    swapcontext(&pair.main_context, &pair.ponger_context);
  }
#if defined(WSAF_SIM_FIBER_TSAN)
  __tsan_destroy_fiber(pair.tsan_ponger);
#endif
  // The ponger stays suspended in its loop; its stack is simply dropped.
  const int64_t switches = 2 * static_cast<int64_t>(state.iterations());
  state.SetItemsProcessed(switches);
  state.counters["per_switch"] = TimePerItem(switches);
}
BENCHMARK(BM_Swapcontext_PingPong);

void Nothing(void*) {}

void BM_FiberCreate_CachedStack(benchmark::State& state) {
  for (auto _ : state) {
    Fiber fiber(&Nothing, nullptr);
    SwitchTo(&fiber);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["per_fiber"] = TimePerItem(state.iterations());
}
BENCHMARK(BM_FiberCreate_CachedStack);

void BM_FiberCreate_MappedStack(benchmark::State& state) {
  for (auto _ : state) {
    {
      Fiber fiber(&Nothing, nullptr);
      SwitchTo(&fiber);
    }
    Fiber::TrimStackCache();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["per_fiber"] = TimePerItem(state.iterations());
}
BENCHMARK(BM_FiberCreate_MappedStack);

void BM_FiberReset_Run(benchmark::State& state) {
  Fiber fiber(&Nothing, nullptr);
  SwitchTo(&fiber);
  for (auto _ : state) {
    fiber.Reset(&Nothing, nullptr);
    SwitchTo(&fiber);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["per_fiber"] = TimePerItem(state.iterations());
}
BENCHMARK(BM_FiberReset_Run);

}  // namespace
}  // namespace wsaf::sim
