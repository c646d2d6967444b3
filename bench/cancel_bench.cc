// Our start+cancel pairs: single thread (BM_WsafStartCancel_Pair, BM_WsafStartCancel_Bounded)
// and under load with threads (BM_WsafCancel_UnderLoad, beside BM_BaselineMutexMap_UnderLoad).
// Occupancy and memory are in occupancy_bench.cc.
//
// Every request is a WSAAsyncGetHostByName of a numeric address: c-ares answers it without a
// packet, so the resolver thread completes whatever cancel does not catch first, and cancel
// races a real completion. A lost race (WSAEALREADY) means a message on the window: it is
// pumped inside the timed loop, as a real client would have to.
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "api/engine.h"
#include "baselines.h"
#include "bench_common.h"

namespace wsaf_bench {
namespace {

// --- Single thread ------------------------------------------------------------------------

// range(0) = batch: start that many, then cancel them all.
void BM_WsafStartCancel_Pair(benchmark::State& state) {
  BenchEnv& env = BenchEnv::Get();
  HWND w = env.window();
  const int n = static_cast<int>(state.range(0));
  std::vector<HANDLE> handles(n);
  Outcomes out;
  uint64_t pumped = 0;
  MemoryProbe mem;
  mem.Start();
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      handles[i] = WSAAsyncGetHostByName(w, kMsg, kNumericHost, ScratchBuffer(), kScratchSize);
    }
    for (int i = 0; i < n; ++i) CancelAndCount(handles[i], &out);
    if (out.too_late + out.already_done > pumped) pumped += PumpAll(w);
  }
  pumped += PumpAtLeast(w, out.too_late + out.already_done - pumped, 5000);
  env.WaitTableSettled(5000);
  mem.ReportPerCancel(state, out.canceled);
  out.Report(state);
  state.counters["table_slots"] = env.table().capacity();
  state.SetItemsProcessed(state.iterations() * n);
}

// The same pairs with nobody behind the table: an engine of its own without a backend, so no
// resolver thread ever takes, claims or completes a request. What is left is our bookkeeping
// alone (the API's checks, the slot, the free list; a slot freed by its cancel stays in the
// submit stack, so a start that reuses it neither pushes nor wakes). BM_WsafStartCancel_Pair
// minus this is what handing requests to the resolver costs; this against the mutex map is
// what our own code costs before any hand-off.
void BM_WsafNoResolver_Pair(benchmark::State& state) {
  BenchEnv::Get();  // the production engine is set up before ours is installed
  const int n = static_cast<int>(state.range(0));
  auto engine = std::make_unique<wsaf::Engine>();
  wsaf::InstallEngine(engine.get());
  WSADATA data;
  HWND w = nullptr;
  const bool started = WSAStartup(MAKEWORD(2, 2), &data) == 0;
  if (!started || (w = wsaf_create_window()) == nullptr) {
    if (started) WSACleanup();
    wsaf::InstallEngine(nullptr);
    state.SkipWithError("no session or window in the engine without a resolver");
    return;
  }
  std::vector<HANDLE> handles(n);
  Outcomes out;
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      handles[i] = WSAAsyncGetHostByName(w, kMsg, kNumericHost, ScratchBuffer(), kScratchSize);
    }
    for (int i = 0; i < n; ++i) {
      if (WSACancelAsyncRequest(handles[i]) == 0) ++out.canceled;
      else ++out.invalid;  // nothing completes here: any other answer is a bug
    }
  }
  out.Report(state);
  DestroyWindow(w);
  WSACleanup();
  wsaf::InstallEngine(nullptr);
  state.SetItemsProcessed(state.iterations() * n);
}

// The table alone, without the API above it: TaskTable::Start and Cancel of the same request
// in a table of its own (no resolver). BM_WsafNoResolver_Pair minus this is the API's cost
// (SPEC.md's checks, the last error, the engine and thread lookups).
void BM_WsafTableOnly_Pair(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  wsaf::TaskTable table;
  table.AddSessionRef();
  const uint64_t session = table.Session();
  wsaf::RequestArgs args;
  args.kind = wsaf::RequestKind::kHostByName;
  args.msg = kMsg;
  args.name = kNumericHost;
  args.buf = ScratchBuffer();
  args.buflen = kScratchSize;
  std::vector<uint64_t> handles(n);
  Outcomes out;
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      if (table.Start(args, session, &handles[i]) != wsaf::StartStatus::kOk) handles[i] = 0;
    }
    for (int i = 0; i < n; ++i) {
      if (table.Cancel(handles[i], session) == wsaf::CancelStatus::kCanceled) ++out.canceled;
      else ++out.invalid;
    }
  }
  out.Report(state);
  state.SetItemsProcessed(state.iterations() * n);
}

// The same pairs with the table capped at kBoundedSlots (16 MiB of slots): a start that finds
// no free slot (WSAEWOULDBLOCK: the resolver has not reclaimed the canceled ones yet) yields and
// tries again, as an application would. Runs first, while the table is still small. This is the
// rate the resolver can sustain with bounded memory; the unbounded pairs above may run ahead of
// it and grow the table instead.
void BM_WsafStartCancel_Bounded(benchmark::State& state) {
  BenchEnv& env = BenchEnv::Get();
  HWND w = env.window();
  const int n = static_cast<int>(state.range(0));
  std::vector<HANDLE> handles(n);
  Outcomes out;
  uint64_t pumped = 0, would_block = 0;
  if (env.table().capacity() > kBoundedSlots) {
    state.SkipWithError("the table already grew past the bound (run this benchmark first)");
    return;
  }
  env.table().SetCapacityLimit(kBoundedSlots);
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      for (;;) {
        handles[i] = WSAAsyncGetHostByName(w, kMsg, kNumericHost, ScratchBuffer(), kScratchSize);
        if (handles[i] != nullptr || WSAGetLastError() != WSAEWOULDBLOCK) break;
        ++would_block;
        std::this_thread::yield();
      }
    }
    for (int i = 0; i < n; ++i) CancelAndCount(handles[i], &out);
    if (out.too_late + out.already_done > pumped) pumped += PumpAll(w);
  }
  pumped += PumpAtLeast(w, out.too_late + out.already_done - pumped, 5000);
  env.WaitTableSettled(5000);
  env.RestoreTableLimit();
  out.Report(state);
  state.counters["would_block_per_pair"] =
      static_cast<double>(would_block) / (static_cast<double>(state.iterations()) * n);
  state.counters["table_slots"] = env.table().capacity();
  state.SetItemsProcessed(state.iterations() * n);
}

// --- Under load ---------------------------------------------------------------------------
//
// Threads 2k and 2k+1 are a starter and a canceler joined by a shallow ring of handles. The
// starter starts lookups back to back and hands each handle over (waiting while the ring is
// full); the canceler cancels every handle it receives. The resolver completes each request the
// canceler does not reach first (a numeric name takes microseconds), so the cancel races a real
// completion. The starter pumps the window, like an application thread.

constexpr int kMaxPairs = 4;

// Single producer, single consumer.
class HandleRing {
 public:
  bool Push(uint64_t h) {
    uint64_t t = tail_.load(std::memory_order_relaxed);
    if (t - head_.load(std::memory_order_acquire) == kSize) return false;
    slots_[t % kSize] = h;
    tail_.store(t + 1, std::memory_order_release);
    return true;
  }
  bool Pop(uint64_t* h) {
    uint64_t hd = head_.load(std::memory_order_relaxed);
    if (hd == tail_.load(std::memory_order_acquire)) return false;
    *h = slots_[hd % kSize];
    head_.store(hd + 1, std::memory_order_release);
    return true;
  }

 private:
  // Shallow: a cancel follows its start closely, and the starter cannot run far ahead of the
  // canceler (no unbounded backlog for the resolver).
  static constexpr uint64_t kSize = 16;
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  std::array<uint64_t, kSize> slots_{};
};

struct LoadShared {
  std::array<HandleRing, kMaxPairs> rings;
  std::array<HWND, kMaxPairs> windows{};
  LoadShared() {
    for (HWND& w : windows) w = wsaf_create_window();
  }
};

LoadShared& Shared() {
  static LoadShared* shared = new LoadShared;  // never destroyed: threads may still be leaving
  return *shared;
}

// Spins briefly, then yields (2 cores: a spinning thread would starve the resolver).
template <typename Try>
void SpinUntil(Try try_once) {
  for (int spins = 0; !try_once(); ++spins) {
    if (spins < 64) {
      __builtin_ia32_pause();
    } else {
      std::this_thread::yield();
    }
  }
}

// Both threads of a pair run the same number of iterations, so the canceler receives exactly
// the handles the starter sends: neither waits at the end.
uint64_t Receive(HandleRing& ring) {
  uint64_t h = 0;
  SpinUntil([&] { return ring.Pop(&h); });
  return h;
}

void Send(HandleRing& ring, uint64_t h) {
  SpinUntil([&] { return ring.Push(h); });
}

// Sets the canceler's counters: raw counts (summed over cancelers by Google Benchmark) and
// fractions of its attempts weighted by 1/pairs (every canceler makes as many attempts, so the
// sums are the averages).
void ReportCanceler(benchmark::State& state, const Outcomes& out) {
  const int pairs = state.threads() / 2;
  state.counters["won"] = static_cast<double>(out.canceled);
  state.counters["lost"] = static_cast<double>(out.too_late + out.already_done);
  double n = static_cast<double>(out.total()) * pairs;
  if (n == 0) return;
  state.counters["canceled"] = out.canceled / n;
  state.counters["too_late"] = out.too_late / n;
  state.counters["already_done"] = out.already_done / n;
  if (out.invalid != 0) state.counters["invalid"] = out.invalid / n;
}

// Waits (bounded) until no request is pending, completing or awaiting reclaim, pumping `w`.
void SettleAndPump(HWND w) {
  BenchEnv& env = BenchEnv::Get();
  double deadline = NowSeconds() + 10;
  for (;;) {
    PumpAll(w);
    uint32_t counts[6];
    env.table().CountStates(counts);
    uint32_t busy = counts[static_cast<int>(wsaf::SlotState::kPending)] +
                    counts[static_cast<int>(wsaf::SlotState::kCompleting)] +
                    counts[static_cast<int>(wsaf::SlotState::kCanceled)];
    if (busy == 0 || NowSeconds() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  PumpAll(w);
}

void BM_WsafCancel_UnderLoad(benchmark::State& state) {
  LoadShared& shared = Shared();
  const int pair = state.thread_index() / 2;
  HandleRing& ring = shared.rings[pair];
  HWND w = shared.windows[pair];
  BenchEnv& env = BenchEnv::Get();
  if (state.thread_index() % 2 == 0) {
    uint64_t k = 0;
    for (auto _ : state) {
      HANDLE h = WSAAsyncGetHostByName(w, kMsg, kNumericHost, ScratchBuffer(), kScratchSize);
      Send(ring, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(h)));
      if ((++k & 15) == 0) PumpAll(w);
    }
    state.SetItemsProcessed(state.iterations());
    SettleAndPump(w);  // every lost cancel's message, outside the timed loop
    if (state.thread_index() == 0) state.counters["table_slots"] = env.table().capacity();
    return;
  }
  Outcomes out;
  for (auto _ : state) {
    uint64_t h = Receive(ring);
    if (WSACancelAsyncRequest(reinterpret_cast<HANDLE>(static_cast<uintptr_t>(h))) == 0) {
      ++out.canceled;
      continue;
    }
    int error = WSAGetLastError();
    uint32_t index = wsaf::TaskTable::IndexOf(h);
    if (error == WSAEALREADY &&
        env.table().StateOfSlot(index) == wsaf::SlotState::kCompleting) {
      ++out.too_late;
    } else if (error == WSAEALREADY || error == WSAEINVAL) {
      // WSAEINVAL: the starter pumped the message and the slot was reused ("forgotten").
      ++out.already_done;
    } else {
      ++out.invalid;
    }
  }
  ReportCanceler(state, out);
}

// The same protocol over the mutex map. With no resolver behind it, the starter plays the
// resolver: it commits each request kCommitLag starts after starting it (a commit, like a
// cancel, takes a pending request out), so the cancel races a commit here too.
void BM_BaselineMutexMap_UnderLoad(benchmark::State& state) {
  constexpr int kCommitLag = 4;
  static MutexMapTable* table = new MutexMapTable;
  HandleRing& ring = Shared().rings[state.thread_index() / 2];
  if (state.thread_index() % 2 == 0) {
    uint64_t recent[kCommitLag] = {};
    uint64_t k = 0;
    for (auto _ : state) {
      uint64_t h = table->Start(nullptr, kMsg, kNumericHost, ScratchBuffer(), kScratchSize);
      Send(ring, h);
      uint64_t& slot = recent[k++ % kCommitLag];
      if (slot != 0) table->CancelRequest(slot);  // the commit
      slot = h;
    }
    for (uint64_t h : recent) {
      if (h != 0) table->CancelRequest(h);
    }
    state.SetItemsProcessed(state.iterations());
    return;
  }
  Outcomes out;
  for (auto _ : state) {
    if (table->CancelRequest(Receive(ring)) == MutexMapTable::Cancel::kCanceled) {
      ++out.canceled;
    } else {
      ++out.already_done;
    }
  }
  ReportCanceler(state, out);
}

}  // namespace

void RegisterPairBenchmarks() {
  for (auto* b : {benchmark::RegisterBenchmark("BM_WsafStartCancel_Bounded",
                                               BM_WsafStartCancel_Bounded),
                  benchmark::RegisterBenchmark("BM_WsafStartCancel_Pair", BM_WsafStartCancel_Pair),
                  benchmark::RegisterBenchmark("BM_WsafNoResolver_Pair", BM_WsafNoResolver_Pair),
                  benchmark::RegisterBenchmark("BM_WsafTableOnly_Pair", BM_WsafTableOnly_Pair)}) {
    b->ArgName("batch")->Arg(1)->Arg(64)->Arg(1024)->UseRealTime();
  }
}

void RegisterLoadBenchmarks() {
  for (auto* b : {benchmark::RegisterBenchmark("BM_WsafCancel_UnderLoad", BM_WsafCancel_UnderLoad),
                  benchmark::RegisterBenchmark("BM_BaselineMutexMap_UnderLoad",
                                               BM_BaselineMutexMap_UnderLoad)}) {
    b->Threads(2)->Threads(4)->UseRealTime();
    if (GetFlags().smoke) b->Iterations(2000);
  }
}

}  // namespace wsaf_bench
