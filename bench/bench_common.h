// What every benchmark file shares: the environment (an embedded DNS server, a session, a
// pumped window), memory probes, the outcome mix of cancels, and the occupancy filler.
//
// Network safety: BenchEnv::Init starts an embedded wsaf::dns::Server on 127.0.0.1 and points
// wsaf_set_dns_servers at it before the first request of the process; the occupancy filler
// points it at a second embedded server in drop mode and back. No query leaves loopback.
//
// Thread safety: BenchEnv and Filler are driven by one thread at a time (Google Benchmark runs
// one benchmark at a time; multi-threaded benchmarks touch them from thread 0 only, outside
// the timed loop). The probes and Outcomes are plain values owned by their caller.
//
// Lifetime: the environment lives from main() to the end of the process. Every request a
// benchmark starts either is canceled (0 from WSACancelAsyncRequest), or its completion message
// is pumped before the benchmark returns, or the filler's Clear() ends the session over it; the
// request buffers are static, so no buffer dies while the library may still write it.
#ifndef WSAFAULT_BENCH_BENCH_COMMON_H_
#define WSAFAULT_BENCH_BENCH_COMMON_H_

#include <benchmark/benchmark.h>
#include <wsafault/winsock_async.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dnsserver/dns_server.h"
#include "table/task_table.h"

namespace wsaf_bench {

inline constexpr UINT kMsg = WM_USER + 1;
// A numeric name: c-ares answers it without a packet, so the resolver completes it fast.
inline constexpr const char* kNumericHost = "10.1.2.3";
// Where requests that are meant to stay pending go (the drop server never answers).
inline constexpr const char* kPendingHost = "pending.test";
inline constexpr const char* kZoneHost = "host1.test";

// Command-line switches of wsafault_bench (removed before Google Benchmark sees argv).
struct Flags {
  bool smoke = false;  // --wsaf_smoke: small arguments only (the ctest run)
  bool long_runs = false;  // --wsaf_long: also the 10,000,000-cancel memory run
  // --wsaf_table_limit=N: TaskTable::SetCapacityLimit(N). The default stays one slot short of
  // kMaxSlots: the last slot's handle does not fit in kIndexBits (index + 1 == 1 << 22 leaves
  // the index bits 0), so a cancel of it answers WSAEINVAL and the resolver's completion
  // computes slot index 0xffffffff and crashes. A library bug; the suite must get past it.
  uint32_t table_limit = wsaf::TaskTable::kMaxSlots - 1;
};
const Flags& GetFlags();
void ParseFlags(int* argc, char** argv);

// --- Memory -------------------------------------------------------------------------------
int64_t RssBytes();        // resident set size, from /proc/self/statm
int64_t HeapInUseBytes();  // malloc'd bytes in use (mallinfo2: arenas + mmapped blocks)

// Growth of RSS and heap over a stretch of work.
class MemoryProbe {
 public:
  void Start();
  int64_t RssDelta() const { return RssBytes() - rss0_; }
  int64_t HeapDelta() const { return HeapInUseBytes() - heap0_; }
  // Sets counters rss_B_per_cancel and heap_B_per_cancel (growth divided by `canceled`).
  void ReportPerCancel(benchmark::State& state, uint64_t canceled) const;

 private:
  int64_t rss0_ = 0;
  int64_t heap0_ = 0;
};

// --- Outcome mix of cancels ---------------------------------------------------------------
// canceled: the cancel won. too_late: the request was being processed (glibc EAI_NOTCANCELED,
// libuv UV_EBUSY, ours WSAEALREADY while the slot is COMPLETING). already_done: it had
// finished (glibc EAI_ALLDONE, ours WSAEALREADY with the message queued). invalid: anything
// else (a bug in the benchmark or the library; must stay 0).
struct Outcomes {
  uint64_t canceled = 0;
  uint64_t too_late = 0;
  uint64_t already_done = 0;
  uint64_t invalid = 0;
  // Of `canceled`: the slot was FREE right after the cancel (freed by the cancel itself, before
  // the resolver claimed the request; at most, see CancelAndCount).
  uint64_t freed_at_once = 0;
  uint64_t total() const { return canceled + too_late + already_done + invalid; }
  // Counters as fractions of the cancels attempted (`freed_at_once`: of the cancels that won);
  // `invalid` only when nonzero.
  void Report(benchmark::State& state) const;
};

// Cancels `h` through the API and classifies the answer.
void CancelAndCount(HANDLE h, Outcomes* out);

// --- Windows ------------------------------------------------------------------------------
// Removes every message of `w`; returns how many.
uint64_t PumpAll(HWND w);
// Removes messages of `w` until `n` arrived or `timeout_ms` passed; returns how many arrived.
uint64_t PumpAtLeast(HWND w, uint64_t n, int timeout_ms);

// --- The environment ----------------------------------------------------------------------
class BenchEnv {
 public:
  static BenchEnv& Get();
  // Starts the zone server, points the library at it, WSAStartup(2.2), makes the window.
  bool Init(std::string* error);
  void Shutdown();

  wsaf::dns::Server& zone_server() { return *zone_server_; }
  wsaf::dns::Server& drop_server() { return *drop_server_; }
  HWND window() const { return window_; }
  wsaf::TaskTable& table();
  // The table's capacity limit of the run (GetFlags().table_limit).
  void RestoreTableLimit();
  // Ends the session (every outstanding request is canceled, the resolver stops) and starts a
  // new one with the zone server and default timeouts.
  void RestartSession();
  // Waits (bounded) until no slot is PENDING, CANCELED or COMPLETING: the resolver has caught
  // up. Returns false on timeout.
  bool WaitTableSettled(int timeout_ms);
  void UseZoneServer();  // DNS to the zone server, default timeouts
  void UseDropServer();  // DNS to the drop server, 60 s timeout, one try

 private:
  std::unique_ptr<wsaf::dns::Server> zone_server_;
  std::unique_ptr<wsaf::dns::Server> drop_server_;
  HWND window_ = nullptr;
  bool started_ = false;
};

// --- Occupancy ----------------------------------------------------------------------------
// Holds N requests outstanding in the production engine, so that costs can be measured on top.
//   kPending: host lookups sent to the drop server with a 60 s timeout: the slots stay
//     PENDING and c-ares holds a query each (the strict meaning of "outstanding"). Starting a
//     query in c-ares 1.18 costs more the more it holds, so keep this to tens of thousands.
//   kQueued: numeric lookups that completed into windows nobody pumps (10,000 a window): the
//     slots stay QUEUED. Cheap to make; the table holds them, c-ares does not.
class Filler {
 public:
  enum class Mode { kPending, kQueued };
  static Filler& Get();
  // Makes exactly `n` requests of `mode` outstanding (adds to the current fill when it is of
  // the same mode, younger than 45 s and not larger; else clears first). False on failure.
  bool FillTo(Mode mode, uint64_t n, std::string* error);
  void Clear();
  // Makes room in the handle list beforehand, so that a memory probe does not count it (its
  // pages are touched here: reserved but untouched pages would count once written).
  void Reserve(uint64_t n) {
    handles_.reserve(n);
    if (handles_.empty()) {
      handles_.resize(handles_.capacity());
      handles_.clear();
    }
  }
  uint64_t size() const { return handles_.size(); }

 private:
  bool AddPending(uint64_t n, std::string* error);
  bool AddQueued(uint64_t n, std::string* error);

  Mode mode_ = Mode::kPending;
  std::vector<HANDLE> handles_;
  std::vector<HWND> windows_;
  double started_at_s_ = 0;
};

// The bound of BM_WsafStartCancel_Bounded and of the occupancy pairs' headroom: 16 MiB of slots,
// a whole number of chunks.
inline constexpr uint32_t kBoundedSlots = 65536;

double NowSeconds();
// A buffer the library may write results into at any time; never read.
char* ScratchBuffer();
inline constexpr int kScratchSize = MAXGETHOSTSTRUCT;

// Registration, in the order the suite runs (main.cc calls them).
void RegisterPairBenchmarks();       // cancel_bench.cc: ours, single thread (bounded first)
void RegisterPeerBenchmarks();       // peers.cc: glibc, libuv, mutex map, floor
void RegisterDispatchBenchmarks();   // dns_bench.cc: window post/peek
void RegisterEndToEndBenchmarks();   // dns_bench.cc: API and raw c-ares lookups
void RegisterLoadBenchmarks();       // cancel_bench.cc: threads
void RegisterOccupancyBenchmarks();  // occupancy_bench.cc: occupancy and memory

}  // namespace wsaf_bench

#endif  // WSAFAULT_BENCH_BENCH_COMMON_H_
