// Unit tests of the fiber layer of the deterministic scheduler (core/src/sim/fiber.h).

#include "sim/fiber.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cfenv>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace wsaf::sim {
namespace {

size_t CountMappings() {
  std::ifstream maps("/proc/self/maps");
  size_t lines = 0;
  for (std::string line; std::getline(maps, line);) ++lines;
  return lines;
}

// One-page PROT_NONE mappings: the guard pages of fiber stacks, and a few unrelated ones that
// tests subtract. (The stacks themselves are no good to count: a sanitizer's own mappings may
// merge with them.)
size_t CountGuardPages() {
  const auto page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  std::ifstream maps("/proc/self/maps");
  size_t count = 0;
  for (std::string line; std::getline(maps, line);) {
    const size_t dash = line.find('-');
    const size_t space = line.find(' ');
    const uint64_t lo = std::stoull(line.substr(0, dash), nullptr, 16);
    const uint64_t hi = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
    if (hi - lo == page && line.compare(space + 1, 4, "---p") == 0) ++count;
  }
  return count;
}

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t total = 0, resident = 0;
  statm >> total >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// The fibers of these tests share their state with the test body, so every hand-over is a
// modelled synchronisation: under TSan it must be a happens-before edge, or TSan would rightly
// report the test's own accesses as races (the default, SwitchSync::kNone, is tested at the end).
void Handoff(Fiber* to) { SwitchTo(to, SwitchSync::kHappensBefore); }

// ---- Switching ------------------------------------------------------------------------------

struct Ring {
  std::vector<std::unique_ptr<Fiber>> fibers;
  std::string trace;
  int rounds = 0;
};

struct RingMember {
  Ring* ring;
  size_t index;
};

void RingBody(void* arg) {
  auto* me = static_cast<RingMember*>(arg);
  Ring& ring = *me->ring;
  for (int round = 0; round < ring.rounds; ++round) {
    ring.trace += static_cast<char>('A' + me->index);
    ring.trace += static_cast<char>('0' + round);
    ring.trace += ' ';
    Handoff(ring.fibers[(me->index + 1) % ring.fibers.size()].get());
  }
  // The last fiber of the last round got here by a switch from its predecessor, and returns
  // to it; that one returns to its own predecessor, and so on back to main.
}

TEST(FiberTest, PingPongRingRunsInDeterministicOrder) {
  Ring ring;
  ring.rounds = 3;
  RingMember members[3] = {{&ring, 0}, {&ring, 1}, {&ring, 2}};
  for (auto& member : members) ring.fibers.push_back(std::make_unique<Fiber>(&RingBody, &member));

  Handoff(ring.fibers[0].get());

  EXPECT_EQ(ring.trace, "A0 B0 C0 A1 B1 C1 A2 B2 C2 ");
  for (auto& fiber : ring.fibers) EXPECT_TRUE(fiber->finished());
  EXPECT_EQ(Fiber::Current(), Fiber::Main());
}

TEST(FiberTest, ManyFibersYieldToMainRoundRobin) {
  constexpr int kFibers = 1000;
  constexpr int kYields = 10;
  struct State {
    int id;
    int steps = 0;
    std::vector<int>* log;
  };
  std::vector<int> log;
  std::vector<State> states;
  states.reserve(kFibers);
  std::vector<std::unique_ptr<Fiber>> fibers;
  for (int i = 0; i < kFibers; ++i) {
    states.push_back(State{i, 0, &log});
    fibers.push_back(std::make_unique<Fiber>(
        +[](void* arg) {
          auto* state = static_cast<State*>(arg);
          for (int y = 0; y < kYields; ++y) {
            state->log->push_back(state->id);
            ++state->steps;
            Handoff(Fiber::Main());
          }
        },
        &states.back()));
  }
  for (int round = 0; round <= kYields; ++round) {
    for (auto& fiber : fibers) {
      ASSERT_FALSE(fiber->finished());
      Handoff(fiber.get());
    }
  }
  for (int i = 0; i < kFibers; ++i) {
    EXPECT_TRUE(fibers[i]->finished());
    EXPECT_EQ(states[i].steps, kYields);
  }
  ASSERT_EQ(log.size(), size_t{kFibers} * kYields);
  for (size_t i = 0; i < log.size(); ++i) ASSERT_EQ(log[i], static_cast<int>(i % kFibers));
}

TEST(FiberTest, FinishedFiberReturnsToTheFiberThatLastSwitchedToIt) {
  struct Shared {
    std::unique_ptr<Fiber> a, b;
    std::string trace;
  } shared;
  shared.b = std::make_unique<Fiber>(
      +[](void* arg) {
        auto* s = static_cast<Shared*>(arg);
        s->trace += "b;";
      },
      &shared);
  shared.a = std::make_unique<Fiber>(
      +[](void* arg) {
        auto* s = static_cast<Shared*>(arg);
        s->trace += "a1;";
        Handoff(s->b.get());  // b returns straight back here, not to main
        EXPECT_TRUE(s->b->finished());
        EXPECT_EQ(Fiber::Current(), s->a.get());
        s->trace += "a2;";
      },
      &shared);

  EXPECT_FALSE(shared.a->started());
  Handoff(shared.a.get());
  EXPECT_EQ(shared.trace, "a1;b;a2;");
  EXPECT_TRUE(shared.a->finished());
  EXPECT_EQ(Fiber::Current(), Fiber::Main());
  EXPECT_FALSE(Fiber::Main()->finished());
}

TEST(FiberTest, FiberWhoseResumerFinishedReturnsToMain) {
  struct Shared {
    std::unique_ptr<Fiber> a, b;
    std::string trace;
  } shared;
  // main -> a -> b -> a: a finishes, returning to b (its last switcher); b resumes and finishes,
  // and since a (its last switcher) has finished, control goes to main.
  shared.a = std::make_unique<Fiber>(
      +[](void* arg) {
        auto* s = static_cast<Shared*>(arg);
        s->trace += "a;";
        Handoff(s->b.get());
        s->trace += "a-end;";
      },
      &shared);
  shared.b = std::make_unique<Fiber>(
      +[](void* arg) {
        auto* s = static_cast<Shared*>(arg);
        s->trace += "b;";
        Handoff(s->a.get());
        s->trace += "b-end;";
      },
      &shared);
  Handoff(shared.a.get());
  EXPECT_EQ(shared.trace, "a;b;a-end;b-end;");
  EXPECT_TRUE(shared.a->finished());
  EXPECT_TRUE(shared.b->finished());
  EXPECT_EQ(Fiber::Current(), Fiber::Main());
}

TEST(FiberTest, SwitchToTheRunningFiberIsANoOp) {
  int steps = 0;
  Fiber f(
      +[](void* arg) {
        Handoff(Fiber::Current());
        ++*static_cast<int*>(arg);
      },
      &steps);
  Handoff(Fiber::Main());  // main is running: nothing happens
  Handoff(&f);
  EXPECT_EQ(steps, 1);
  EXPECT_TRUE(f.finished());
}

TEST(FiberTest, UnstartedFiberMayRunOnAnotherThread) {
  int value = 0;
  Fiber f(
      +[](void* arg) { *static_cast<int*>(arg) = 42; }, &value);
  std::thread([&] { Handoff(&f); }).join();
  EXPECT_EQ(value, 42);
  EXPECT_TRUE(f.finished());
}

// ---- Floating-point state -------------------------------------------------------------------

unsigned SseRounding() {
#if defined(__x86_64__)
  return _mm_getcsr() & 0x6000u;
#else
  return 0;
#endif
}

double OneThird() {
  volatile double one = 1.0, three = 3.0;
  return one / three;
}

struct FpProbe {
  int mode_at_start = -1;
  unsigned sse_at_start = 0;
  bool kept_upward = false;
  bool kept_upward_sse = false;
  double up = 0;
};

void FpBody(void* arg) {
  auto* probe = static_cast<FpProbe*>(arg);
  probe->mode_at_start = std::fegetround();
  probe->sse_at_start = SseRounding();
  std::fesetround(FE_UPWARD);
  const unsigned upward_sse = SseRounding();
  Handoff(Fiber::Main());
  probe->kept_upward = std::fegetround() == FE_UPWARD;
  probe->kept_upward_sse = SseRounding() == upward_sse;
  probe->up = OneThird();
}

TEST(FiberTest, FloatingPointRoundingModeIsPerFiber) {
  const int saved = std::fegetround();
  std::fesetround(FE_TOWARDZERO);
  const unsigned towardzero_sse = SseRounding();
  FpProbe probe;
  Fiber f(&FpBody, &probe);  // inherits round-toward-zero from the code that creates it
  std::fesetround(FE_TONEAREST);

  Handoff(&f);
  EXPECT_EQ(probe.mode_at_start, FE_TOWARDZERO);
  EXPECT_EQ(probe.sse_at_start, towardzero_sse);
  EXPECT_EQ(std::fegetround(), FE_TONEAREST);  // the fiber's upward mode stayed in the fiber
  std::fesetround(FE_DOWNWARD);
  const double down = OneThird();

  Handoff(&f);
  EXPECT_TRUE(f.finished());
  EXPECT_TRUE(probe.kept_upward);
  EXPECT_TRUE(probe.kept_upward_sse);
  EXPECT_EQ(std::fegetround(), FE_DOWNWARD);
  EXPECT_GT(probe.up, down);
  std::fesetround(saved);
}

// ---- Stacks -----------------------------------------------------------------------------------

__attribute__((noinline)) uint64_t Recurse(int depth) {
  volatile unsigned char frame[512];
  for (size_t i = 0; i < sizeof(frame); i += 64) frame[i] = static_cast<unsigned char>(depth);
  if (depth == 0) return frame[0];
  return Recurse(depth - 1) + frame[64];  // not a tail call
}

struct RecursionJob {
  int depth;
  uint64_t result = ~uint64_t{0};
};

void RecursionBody(void* arg) {
  auto* job = static_cast<RecursionJob*>(arg);
  job->result = Recurse(job->depth);
}

uint64_t ExpectedRecursion(int depth) {
  uint64_t sum = 0;
  for (int d = 1; d <= depth; ++d) sum += static_cast<unsigned char>(d);
  return sum;
}

TEST(FiberTest, DeepRecursionFitsInTheStack) {
  // ~600 bytes a frame plain, more under sanitizers: 64 frames fit the default stack and
  // 1,000 fit one MiB.
  RecursionJob small{64};
  Fiber default_stack(&RecursionBody, &small);
  Handoff(&default_stack);
  EXPECT_EQ(small.result, ExpectedRecursion(small.depth));

  RecursionJob deep{1000};
  Fiber big_stack(&RecursionBody, &deep, 1 << 20);
  EXPECT_EQ(big_stack.stack_bytes(), size_t{1} << 20);
  Handoff(&big_stack);
  EXPECT_EQ(deep.result, ExpectedRecursion(deep.depth));
}

TEST(FiberTest, StackBytesRoundUpToWholePages) {
  Fiber f(
      +[](void*) {}, nullptr, 1000);
  EXPECT_EQ(f.stack_bytes(), static_cast<size_t>(sysconf(_SC_PAGESIZE)));
}

int run_count = 0;
std::set<uintptr_t> frames_seen;
void CountRun(void*) {
  ++run_count;
  frames_seen.insert(reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
}

TEST(FiberTest, TenThousandCreateDestroyCyclesReuseStacks) {
  const size_t stack_bytes = 19 * kPage;
  const size_t unrelated = CountGuardPages();
  // Warm up so that the baseline already holds the cached stacks and allocator arenas.
  for (int i = 0; i < 3; ++i) {
    Fiber f(&CountRun, nullptr, stack_bytes);
    Handoff(&f);
  }
  const size_t maps_before = CountMappings();
  const size_t rss_before = ResidentBytes();
  run_count = 0;
  frames_seen.clear();
  for (int cycle = 0; cycle < 10000; ++cycle) {
    Fiber a(&CountRun, nullptr, stack_bytes), b(&CountRun, nullptr, stack_bytes),
        c(&CountRun, nullptr, stack_bytes);
    Handoff(&a);
    Handoff(&b);
    Handoff(&c);
  }
  EXPECT_EQ(run_count, 30000);
  // Three stacks, reused over and over: the cache holds them and no others of this size.
  EXPECT_LE(frames_seen.size(), 3u + 3u);
  EXPECT_LE(CountGuardPages(), unrelated + 3);
  // A leak of one stack per cycle would add 20,000 mappings and 2.5 GiB of address space;
  // the slack allows for sanitizer bookkeeping.
  EXPECT_LT(CountMappings(), maps_before + 64);
  EXPECT_LT(ResidentBytes(), rss_before + (64u << 20));
}

TEST(FiberTest, TrimStackCacheUnmapsCachedStacks) {
  const size_t stack_bytes = 23 * kPage;
  Fiber::TrimStackCache();
  const size_t unrelated = CountGuardPages();
  {
    std::vector<std::unique_ptr<Fiber>> fibers;
    for (int i = 0; i < 40; ++i) {
      fibers.push_back(std::make_unique<Fiber>(&CountRun, nullptr, stack_bytes));
    }
    EXPECT_EQ(CountGuardPages() - unrelated, 40u);
  }
  EXPECT_EQ(CountGuardPages() - unrelated, 32u);  // 32 cached an OS thread
  EXPECT_EQ(Fiber::TrimStackCache(), 32u);
  EXPECT_EQ(CountGuardPages(), unrelated);
  EXPECT_EQ(Fiber::TrimStackCache(), 0u);
}

TEST(FiberTest, ResetReusesTheFiberForTenThousandRuns) {
  int steps = 0;
  auto body = +[](void* arg) {
    ++*static_cast<int*>(arg);
    Handoff(Fiber::Main());
    ++*static_cast<int*>(arg);
  };
  Fiber f(body, &steps);
  const size_t maps_before = CountMappings();
  for (int run = 0; run < 10000; ++run) {
    if (run > 0) f.Reset(body, &steps);
    EXPECT_FALSE(f.started());
    Handoff(&f);
    Handoff(&f);
    ASSERT_TRUE(f.finished());
  }
  EXPECT_EQ(steps, 20000);
  EXPECT_LT(CountMappings(), maps_before + 16);
}

struct CountsDestruction {
  int* destroyed;
  ~CountsDestruction() { ++*destroyed; }
};

void SuspendForever(void* arg) {
  CountsDestruction guard{static_cast<int*>(arg)};
  for (;;) Handoff(Fiber::Main());
}

TEST(FiberTest, AbandonedFiberIsDroppedWithoutRunningItsDestructors) {
  int destroyed = 0;
  {
    Fiber f(&SuspendForever, &destroyed);
    Handoff(&f);
    Handoff(&f);
    EXPECT_TRUE(f.started());
    EXPECT_FALSE(f.finished());
  }  // abandoned here
  EXPECT_EQ(destroyed, 0);
  EXPECT_EQ(Fiber::Current(), Fiber::Main());

  // Reset of a suspended fiber abandons the run and starts afresh, many times over.
  Fiber g(&SuspendForever, &destroyed);
  for (int run = 0; run < 10000; ++run) {
    Handoff(&g);
    g.Reset(&SuspendForever, &destroyed);
  }
  EXPECT_EQ(destroyed, 0);
  int value = 0;
  g.Reset(
      +[](void* arg) { *static_cast<int*>(arg) = 7; }, &value);
  Handoff(&g);
  EXPECT_EQ(value, 7);
}

// A frame with many small arrays has many redzones, poisoned while it is live.
__attribute__((noinline)) void SuspendAmongRedzones() {
  volatile char a[24], b[24], c[24], d[24], e[24], f[24], g[24], h[24];
  for (volatile char* array : {a, b, c, d, e, f, g, h}) array[0] = 1;
  for (;;) Handoff(Fiber::Main());
}

void AbandonAmongRedzones(void*) { SuspendAmongRedzones(); }

// One big array over the same addresses: under ASan, a redzone left behind by the abandoned
// run would make this report a stack-buffer-underflow (seen with g++-12: its prologue writes
// shadow only for redzones and trusts the rest to be clean).
void WriteBigArray(void* arg) {
  volatile char big[4096];
  for (size_t i = 0; i < sizeof(big); ++i) big[i] = static_cast<char>(i);
  *static_cast<int*>(arg) = big[100];
}

TEST(FiberTest, AbandonedFramesLeaveNoPoisonBehind) {
  int result = 0;
  Fiber f(&AbandonAmongRedzones, nullptr);
  Handoff(&f);
  f.Reset(&WriteBigArray, &result);
  Handoff(&f);
  EXPECT_EQ(result, 100);
}

// ---- Exceptions -------------------------------------------------------------------------------

TEST(FiberTest, ExceptionThrownAndCaughtInsideAFiber) {
  std::string caught;
  Fiber f(
      +[](void* arg) {
        try {
          throw std::runtime_error("inside");
        } catch (const std::runtime_error& e) {
          *static_cast<std::string*>(arg) = e.what();
        }
        Handoff(Fiber::Main());
      },
      &caught);
  Handoff(&f);
  EXPECT_EQ(caught, "inside");
  Handoff(&f);
  EXPECT_TRUE(f.finished());
}

TEST(FiberDeathTest, ExceptionEscapingTheEntryTerminates) {
  EXPECT_DEATH(
      {
        Fiber f(
            +[](void*) { throw std::runtime_error("boom"); }, nullptr);
        Handoff(&f);
      },
      "exception escaped a fiber's entry: boom");
}

// ---- Misuse -----------------------------------------------------------------------------------

TEST(FiberDeathTest, SwitchToAFinishedFiberAborts) {
  EXPECT_DEATH(
      {
        Fiber f(
            +[](void*) {}, nullptr);
        Handoff(&f);
        Handoff(&f);
      },
      "switch to a finished fiber");
}

TEST(FiberDeathTest, ResumingASuspendedFiberOnAnotherThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Fiber f(
            +[](void*) {
              for (;;) Handoff(Fiber::Main());
            },
            nullptr);
        Handoff(&f);
        std::thread([&] { Handoff(&f); }).join();
      },
      "another OS thread");
}

TEST(FiberDeathTest, StackOverflowHitsTheGuardPage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        RecursionJob endless{1 << 30};
        Fiber f(&RecursionBody, &endless, 64 * 1024);
        Handoff(&f);
      },
#if defined(WSAF_SIM_FIBER_ASAN)
      "stack-overflow"
#else
      ""
#endif
  );
}

// ---- Sanitizers ------------------------------------------------------------------------------

#if defined(WSAF_SIM_FIBER_ASAN)
// Out of line, so that no compiler can drop an access it can prove undefined.
__attribute__((noinline)) int ReadThrough(const int* p) { return *p; }

void UseAfterFree(void*) {
  int* p = new int(1);
  delete p;
  volatile int sink = ReadThrough(p);
  (void)sink;
}

TEST(FiberDeathTest, AsanReportsHeapUseAfterFreeInsideAFiber) {
  EXPECT_DEATH(
      {
        Fiber f(&UseAfterFree, nullptr);
        Handoff(&f);
      },
      "heap-use-after-free.*\n.*READ of size 4.*\n.*ReadThrough");
}
#endif

#if defined(WSAF_SIM_FIBER_TSAN)
// Two fibers write one variable with no modelled synchronisation between them. With the
// default SwitchSync::kNone TSan must see the race; with kHappensBefore it must not. TSan
// prints the report and makes the exit code 66 when the process exits.
int racy = 0;

void WriteRacyAndYield(void* arg) {
  racy = 1;
  SwitchTo(Fiber::Main(), *static_cast<SwitchSync*>(arg));
  racy = 2;
}

void RaceBetweenTwoFibers(SwitchSync sync) {
  Fiber a(&WriteRacyAndYield, &sync), b(&WriteRacyAndYield, &sync);
  SwitchTo(&a, sync);
  SwitchTo(&b, sync);
  SwitchTo(&a, sync);
  SwitchTo(&b, sync);
  std::exit(racy - 2);  // reads racy, so that the writes are not optimised away
}

// "threadsafe": the child starts from a fresh exec. After a fork from a process that TSan sees
// as multithreaded (live fibers count as threads) the child ignores all memory accesses.
TEST(FiberDeathTest, TsanReportsARaceBetweenFibersByDefault) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(RaceBetweenTwoFibers(SwitchSync::kNone), testing::ExitedWithCode(66), "data race");
}

TEST(FiberDeathTest, TsanSeesNoRaceAcrossHappensBeforeSwitches) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(RaceBetweenTwoFibers(SwitchSync::kHappensBefore), testing::ExitedWithCode(0), "");
}
#endif

}  // namespace
}  // namespace wsaf::sim
