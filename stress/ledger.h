// The ledger: one record per request handle with every event the driver saw for it (start,
// cancels and their answers, the message, orphaning, the final cleanup), and what SPEC.md lets
// happen next. The checker (checker.h) judges each event against the record as it arrives;
// the ledger keeps the history so that a violation prints the handle's whole story.
//
// Layout: records live in 64 shards by handle hash, each a map under its own mutex, so two
// threads touch the same shard only when they touch nearby handles; almost every record is
// touched by one thread (its owner) and the locks stay uncontended. Settled records move to
// the shard's retired map (bounded FIFO), so late events (a message after a won cancel, a
// stale handle) still find their history.
//
// Thread safety: every method is thread-safe. A Record's mutable fields are guarded by its
// shard's mutex (With() holds it); `settled` may also be read without it (acquire).
// Lock order: shard mutex before the Reporter's mutex; nothing is called under the Reporter's.
// Lifetime: the ledger owns records. A live record stays valid until Retire(); a retired one
// until it falls out of its shard's retired FIFO, so only the owner keeps Record pointers.
#ifndef WSAFAULT_STRESS_LEDGER_H_
#define WSAFAULT_STRESS_LEDGER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "buffers.h"
#include "wsafault/winsock_async.h"

namespace wsaf::stress {

// When a cancel was made (the event's detail).
enum class CancelMoment : uint8_t {
  kImmediate,      // right after the start returned
  kAfterYield,     // after a yield
  kAfterSpin,      // after a busy wait of 0-40 us: about when the resolver commits
  kDelayed,        // a few milliseconds later
  kWhenQueued,     // after PeekMessage PM_NOREMOVE showed the message
  kAfterDispatch,  // after the message was removed
  kTwice,          // the second of two cancels in a row
  kStale,          // a handle settled a while ago
  kZero,           // handle 0
  kNeverIssued,    // a handle no start returned
  kCrossThread,    // another thread's live handle
  kOrphan,         // right after the request's window was destroyed
  kRace,           // while the final cleanup runs on another thread
  kProbe,          // while the session is down or the network is down
  kCount
};
const char* MomentName(CancelMoment m);

// How a message was removed (the event's detail).
enum class Via : uint8_t { kPeek, kPeekAfterLook, kGet, kHelper, kDrain, kFlood, kCount };
const char* ViaName(Via v);

// The buffer a request was given (the start event's detail).
enum class BufMode : uint8_t { kLarge, kMaxGetHost, kTiny, kExact, kShort, kSizeQuery, kCount };
const char* BufModeName(BufMode m);

enum class EventType : uint8_t {
  kStart,       // a = buffer length given, b = buffer mode
  kCancel,      // a = answer (0 or the error), detail = CancelMoment
  kSeenQueued,  // PeekMessage PM_NOREMOVE showed the message
  kMessage,     // a = error, b = buflen, detail = pump path
  kOrphaned,    // the window was destroyed
  kSwallowed,   // no message by the final cleanup: it canceled the request
  kChecked,     // the quarantined buffer passed its late check
  kRetired,
};

struct Event {
  uint64_t seq;
  int64_t t_us;
  uint16_t thread;
  EventType type;
  uint8_t detail;
  int32_t a;
  int32_t b;
};

enum class Settled : uint8_t { kLive, kDelivered, kCanceled };

struct Record {
  // Fixed at the start.
  uint64_t handle = 0;
  uint16_t owner = 0;
  uint16_t query = 0;
  uint8_t buf_mode = 0;
  HWND hwnd = nullptr;
  UINT msg = 0;
  Buffer buffer;
  uint32_t session = 0;      // the driver's session number
  uint64_t fault_seq = 0;    // the DNS fault switch count (odd while switching)
  bool fault_free = false;   // the fault mode was "none" at the start
  uint64_t netdown_seq = 0;  // network down/up switches (odd while down)
  int64_t start_us = 0;

  // Guarded by the shard mutex.
  int deliveries = 0;
  bool canceled = false;     // a WSACancelAsyncRequest answered 0
  uint16_t canceled_by = 0;  // that cancel's thread
  bool seen_queued = false;
  bool orphaned = false;
  bool swallowed = false;
  bool retired = false;
  uint64_t first_already_seq = 0;      // the first WSAEALREADY answer
  uint64_t unexplained_inval_seq = 0;  // the owner heard WSAEINVAL for a live request
  std::vector<Event> events;

  std::atomic<Settled> settled{Settled::kLive};
};

class Ledger {
 public:
  static constexpr int kShards = 64;
  static constexpr std::size_t kRetiredPerShard = 512;

  Ledger();
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Takes ownership of `r` (with its start event). False when the handle is already in the
  // ledger (live or recently retired): a repeated handle; `r` is then deleted.
  bool Add(Record* r, const Event& start);
  // Calls f(Record* or nullptr) with the handle's shard locked; live records first, then
  // retired ones.
  template <typename F>
  auto With(uint64_t handle, F&& f) {
    Shard& s = shards_[ShardOf(handle)];
    std::lock_guard<std::mutex> lock(s.mu);
    return f(FindLocked(s, handle));
  }
  // Appends an event; the caller holds the record's shard (inside With()).
  void AppendLocked(Record& r, Event e);
  uint64_t NextSeq() { return seq_.fetch_add(1, std::memory_order_relaxed) + 1; }
  // Moves a settled record to its shard's retired FIFO.
  void Retire(Record* r);
  std::string History(uint64_t handle);
  static std::string HistoryLocked(const Record& r);
  // Deletes every record. Only when no other thread uses the ledger.
  void Clear();
  std::size_t LiveCount();

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<uint64_t, Record*> live;
    std::unordered_map<uint64_t, Record*> retired;
    std::deque<Record*> retired_order;
  };
  static int ShardOf(uint64_t handle) {
    return static_cast<int>((handle * 0x9e3779b97f4a7c15ull) >> 58);
  }
  static Record* FindLocked(Shard& s, uint64_t handle);

  std::atomic<uint64_t> seq_{0};
  Shard shards_[kShards];
};

// Handles must be nonzero and never repeat (SPEC, "Decision"). Checking that exactly would
// mean remembering every handle of a 10-million-operation soak, so this uses the documented
// encoding (core/src/table/task_table.h: generation << 22 | index + 1; the generation only
// moves forward): per index it keeps the highest generation seen and a 64-wide window of
// the generations just below it. A generation seen twice, or one far below the highest (a
// wrap), is a repeat.
class HandleBook {
 public:
  HandleBook();
  ~HandleBook();
  // Null when fine, else why the handle is not a fresh one.
  const char* Note(uint64_t handle);
  // The highest generation any slot reached: how far the run got toward a 16-bit wrap.
  uint64_t max_generation() const { return max_generation_.load(std::memory_order_relaxed); }

 private:
  struct Entry;
  struct Chunk;
  Entry& EntryOf(uint32_t index);
  std::atomic<Chunk*>* chunks_;
  std::atomic<uint64_t> max_generation_{0};
};

// Prints violations. The first `max` are printed in full; each bumps the count.
class Reporter {
 public:
  // exit_at_limit: the process ends (status 0) right after the max-th report. For
  // --expect-violation runs: a planted bug may go on to corrupt the heap, and the report is
  // all the test wants.
  void Configure(uint64_t seed, std::string rerun, std::string mutant, int max, bool exit_at_limit);
  void Report(const std::string& what, const std::string& history);
  int count() const { return count_.load(std::memory_order_acquire); }
  bool limit_reached() const { return count() >= max_; }

 private:
  std::mutex mu_;
  std::atomic<int> count_{0};
  uint64_t seed_ = 0;
  std::string rerun_;
  std::string mutant_;
  int max_ = 1;
  bool exit_at_limit_ = false;
};

}  // namespace wsaf::stress

#endif  // WSAFAULT_STRESS_LEDGER_H_
