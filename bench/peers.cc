// The peers of BM_WsafStartCancel_Pair, same workload (start `batch` lookups of a numeric
// address, cancel them all, reap whatever the cancel did not stop), same binary, same run:
//   BM_GlibcGaiStartCancel_Pair       getaddrinfo_a(GAI_NOWAIT, AI_NUMERICHOST) + gai_cancel
//   BM_LibuvGetaddrinfoCancel_Pair    uv_getaddrinfo + uv_cancel, the loop run to reap
//   BM_BaselineMutexMap_Pair          a std::mutex + std::unordered_map handle table
//   BM_FloorLockfreeSlot_Pair         one CAS to start, one CAS (+ a store) to cancel
// and the cost that stands between ours and those two when a second thread (our resolver) looks
// at each request: BM_FloorCrossCore_RoundTrip, one cache line going to the other core and back,
// and BM_FloorRingHandoff_Pair, the floor plus the cheapest hand-off to a second thread we know
// (baselines.h FloorRing).
//
// glibc 2.36: a request gai_cancel removed is never completed: its gai_error stays
// EAI_INPROGRESS forever and its internal request record (about 145 bytes) leaks. So a
// canceled gaicb is never polled again (it is reused at once: glibc no longer refers to it),
// and the leak shows in heap_B_per_cancel. Requests that were not canceled are polled with
// gai_error until they finish and their results freed.
#include <netdb.h>
#include <uv.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "baselines.h"
#include "bench_common.h"

namespace wsaf_bench {
namespace {

// --- glibc --------------------------------------------------------------------------------

class GaiPool {
 public:
  gaicb* Take() {
    if (free_.empty()) {
      storage_.push_back(std::make_unique<gaicb>());
      return storage_.back().get();
    }
    gaicb* g = free_.back();
    free_.pop_back();
    return g;
  }
  void Give(gaicb* g) { free_.push_back(g); }
  void Watch(gaicb* g) { in_flight_.push_back(g); }
  // Frees the watched requests that finished. Only never-canceled requests are watched.
  void Reap() {
    std::size_t keep = 0;
    for (gaicb* g : in_flight_) {
      if (gai_error(g) == EAI_INPROGRESS) {
        in_flight_[keep++] = g;
        continue;
      }
      if (g->ar_result != nullptr) freeaddrinfo(g->ar_result);
      g->ar_result = nullptr;
      Give(g);
    }
    in_flight_.resize(keep);
  }
  bool Idle() const { return in_flight_.empty(); }

 private:
  std::vector<std::unique_ptr<gaicb>> storage_;
  std::vector<gaicb*> free_;
  std::vector<gaicb*> in_flight_;
};

void BM_GlibcGaiStartCancel_Pair(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;  // one result, not one per socket type
  GaiPool pool;
  std::vector<gaicb*> batch(n);
  Outcomes out;
  uint64_t start_errors = 0;
  MemoryProbe mem;
  mem.Start();
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      gaicb* g = pool.Take();
      *g = gaicb{};
      g->ar_name = kNumericHost;
      g->ar_request = &hints;
      gaicb* list[1] = {g};
      if (getaddrinfo_a(GAI_NOWAIT, list, 1, nullptr) != 0) {
        ++start_errors;
        pool.Give(g);
        g = nullptr;
      }
      batch[i] = g;
    }
    for (int i = 0; i < n; ++i) {
      gaicb* g = batch[i];
      if (g == nullptr) continue;
      switch (gai_cancel(g)) {
        case EAI_CANCELED:
          ++out.canceled;
          pool.Give(g);  // never polled again (see the top of the file)
          break;
        case EAI_NOTCANCELED:
          ++out.too_late;
          pool.Watch(g);
          break;
        case EAI_ALLDONE:
          ++out.already_done;
          pool.Watch(g);
          break;
        default:
          ++out.invalid;
          pool.Watch(g);
          break;
      }
    }
    pool.Reap();
  }
  double deadline = NowSeconds() + 5;
  while (!pool.Idle() && NowSeconds() < deadline) {
    std::this_thread::yield();
    pool.Reap();
  }
  mem.ReportPerCancel(state, out.canceled);
  out.Report(state);
  if (start_errors != 0) state.counters["start_errors"] = static_cast<double>(start_errors);
  state.SetItemsProcessed(state.iterations() * n);
}

// --- libuv --------------------------------------------------------------------------------

class UvPeer {
 public:
  struct Req {
    uv_getaddrinfo_t req;  // first: the callback gets it back
    UvPeer* peer;
  };

  UvPeer() { uv_loop_init(&loop_); }
  ~UvPeer() {
    Drain(5);
    uv_loop_close(&loop_);
  }

  uv_loop_t* loop() { return &loop_; }
  Req* Take() {
    ++outstanding_;
    if (free_.empty()) {
      storage_.push_back(std::make_unique<Req>());
      storage_.back()->peer = this;
      return storage_.back().get();
    }
    Req* r = free_.back();
    free_.pop_back();
    return r;
  }
  void Give(Req* r) {
    --outstanding_;
    free_.push_back(r);
  }
  static void OnDone(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    Req* r = reinterpret_cast<Req*>(req);
    if (status == UV_EAI_CANCELED) ++r->peer->canceled_callbacks_;
    if (res != nullptr) uv_freeaddrinfo(res);
    r->peer->Give(r);
  }
  // Runs the loop until `n` canceled callbacks ran in all (they are queued by uv_cancel).
  void ReapCanceled(uint64_t n) {
    for (int spins = 0; canceled_callbacks_ < n && spins < 1000000; ++spins) {
      uv_run(&loop_, UV_RUN_NOWAIT);
    }
  }
  void Drain(double seconds) {
    double deadline = NowSeconds() + seconds;
    while (outstanding_ > 0 && NowSeconds() < deadline) {
      uv_run(&loop_, UV_RUN_NOWAIT);
      if (outstanding_ > 0) std::this_thread::yield();
    }
  }

 private:
  uv_loop_t loop_;
  std::vector<std::unique_ptr<Req>> storage_;
  std::vector<Req*> free_;
  uint64_t outstanding_ = 0;
  uint64_t canceled_callbacks_ = 0;
};

void BM_LibuvGetaddrinfoCancel_Pair(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  UvPeer peer;
  std::vector<UvPeer::Req*> batch(n);
  Outcomes out;
  uint64_t start_errors = 0;
  MemoryProbe mem;
  mem.Start();
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      UvPeer::Req* r = peer.Take();
      if (uv_getaddrinfo(peer.loop(), &r->req, &UvPeer::OnDone, kNumericHost, nullptr, &hints) !=
          0) {
        ++start_errors;
        peer.Give(r);
        r = nullptr;
      }
      batch[i] = r;
    }
    for (int i = 0; i < n; ++i) {
      if (batch[i] == nullptr) continue;
      int rc = uv_cancel(reinterpret_cast<uv_req_t*>(&batch[i]->req));
      if (rc == 0) {
        ++out.canceled;
      } else if (rc == UV_EBUSY) {
        ++out.too_late;  // running or finished: libuv does not say which
      } else {
        ++out.invalid;
      }
    }
    peer.ReapCanceled(out.canceled);
  }
  peer.Drain(5);
  mem.ReportPerCancel(state, out.canceled);
  out.Report(state);
  if (start_errors != 0) state.counters["start_errors"] = static_cast<double>(start_errors);
  state.SetItemsProcessed(state.iterations() * n);
}

// --- In-process baselines -----------------------------------------------------------------

void BM_BaselineMutexMap_Pair(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  MutexMapTable table;
  HWND w = BenchEnv::Get().window();
  std::vector<uint64_t> handles(n);
  Outcomes out;
  MemoryProbe mem;
  mem.Start();
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      handles[i] = table.Start(w, kMsg, kNumericHost, ScratchBuffer(), kScratchSize);
    }
    for (int i = 0; i < n; ++i) {
      if (table.CancelRequest(handles[i]) == MutexMapTable::Cancel::kCanceled) {
        ++out.canceled;
      } else {
        ++out.invalid;
      }
    }
  }
  mem.ReportPerCancel(state, out.canceled);
  out.Report(state);
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_FloorLockfreeSlot_Pair(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  FloorSlots slots(n);
  std::vector<uint64_t> handles(n);
  Outcomes out;
  MemoryProbe mem;
  mem.Start();
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) handles[i] = slots.Start(i);
    for (int i = 0; i < n; ++i) {
      if (slots.CancelSlot(i, handles[i])) {
        ++out.canceled;
      } else {
        ++out.invalid;
      }
    }
  }
  mem.ReportPerCancel(state, out.canceled);
  out.Report(state);
  state.SetItemsProcessed(state.iterations() * n);
}

// The floor with a second thread looking at each request (FloorRing): what handing requests
// to a resolver costs at least, with the cheapest hand-off we know.
void BM_FloorRingHandoff_Pair(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  FloorRing ring(n);
  std::vector<uint64_t> handles(n);
  Outcomes out;
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) handles[i] = ring.Start(i);
    for (int i = 0; i < n; ++i) {
      if (ring.CancelSlot(i, handles[i]) == FloorRing::Cancel::kCanceled) {
        ++out.canceled;
      } else {
        ++out.too_late;
      }
    }
  }
  out.Report(state);
  const double pairs = static_cast<double>(state.iterations()) * n;
  state.counters["rearmed"] = static_cast<double>(ring.rearmed) / pairs;
  state.counters["wakes"] = static_cast<double>(ring.wakes) / pairs;
  state.counters["waits"] = static_cast<double>(ring.waits) / pairs;
  state.SetItemsProcessed(state.iterations() * n);
}

// Two threads take turns on one atomic word: thread 0 moves it from even to odd, thread 1 back.
// An iteration is one round trip of the cache line between the cores (two transfers, and the
// spin that waits for the other's); nothing else is in it. Both threads run the same number of
// iterations (Google Benchmark's rule), so each run adds an even count and the parity holds.
void BM_FloorCrossCore_RoundTrip(benchmark::State& state) {
  alignas(64) static std::atomic<uint64_t> turn{0};
  const uint64_t parity = static_cast<uint64_t>(state.thread_index() & 1);
  for (auto _ : state) {
    uint64_t t;
    int spins = 0;
    while (((t = turn.load(std::memory_order_acquire)) & 1) != parity) {
      if (++spins < 4096) {
        __builtin_ia32_pause();
      } else {
        std::this_thread::yield();  // the other thread was descheduled (2 shared cores)
        spins = 0;
      }
    }
    turn.store(t + 1, std::memory_order_release);
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

void RegisterPeerBenchmarks() {
  benchmark::RegisterBenchmark("BM_FloorCrossCore_RoundTrip", BM_FloorCrossCore_RoundTrip)
      ->Threads(2)
      ->UseRealTime();
  auto* glibc = benchmark::RegisterBenchmark("BM_GlibcGaiStartCancel_Pair",
                                             BM_GlibcGaiStartCancel_Pair);
  // Each canceled request leaks ~145 bytes in glibc: a shorter run keeps the suite's leak to
  // a few hundred megabytes.
  if (!GetFlags().smoke) glibc->MinTime(0.2);
  for (auto* b : {glibc,
                  benchmark::RegisterBenchmark("BM_LibuvGetaddrinfoCancel_Pair",
                                               BM_LibuvGetaddrinfoCancel_Pair),
                  benchmark::RegisterBenchmark("BM_BaselineMutexMap_Pair", BM_BaselineMutexMap_Pair),
                  benchmark::RegisterBenchmark("BM_FloorLockfreeSlot_Pair",
                                               BM_FloorLockfreeSlot_Pair),
                  benchmark::RegisterBenchmark("BM_FloorRingHandoff_Pair",
                                               BM_FloorRingHandoff_Pair)}) {
    b->ArgName("batch")->Arg(1)->Arg(64)->Arg(1024)->UseRealTime();
  }
}

}  // namespace wsaf_bench
