#include "ledger.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "catalog.h"
#include "stress_common.h"

namespace wsaf::stress {

const char* MomentName(CancelMoment m) {
  static const char* const kNames[] = {"immediate",   "after-yield",    "after-spin",   "delayed",
                                       "when-queued", "after-dispatch", "twice",        "stale",
                                       "zero",        "never-issued",   "cross-thread", "orphan",
                                       "race",        "probe"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<int>(CancelMoment::kCount));
  auto i = static_cast<int>(m);
  return i < static_cast<int>(CancelMoment::kCount) ? kNames[i] : "?";
}

const char* ViaName(Via v) {
  static const char* const kNames[] = {"peek",   "peek-after-look", "get",
                                       "helper", "drain",           "flood"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<int>(Via::kCount));
  auto i = static_cast<int>(v);
  return i < static_cast<int>(Via::kCount) ? kNames[i] : "?";
}

const char* BufModeName(BufMode m) {
  static const char* const kNames[] = {"large", "maxgethost", "tiny",
                                       "exact", "short",      "size-query"};
  static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<int>(BufMode::kCount));
  auto i = static_cast<int>(m);
  return i < static_cast<int>(BufMode::kCount) ? kNames[i] : "?";
}

// --- Ledger -------------------------------------------------------------------------------

Ledger::Ledger() = default;

Ledger::~Ledger() { Clear(); }

Record* Ledger::FindLocked(Shard& s, uint64_t handle) {
  if (auto it = s.live.find(handle); it != s.live.end()) return it->second;
  if (auto it = s.retired.find(handle); it != s.retired.end()) return it->second;
  return nullptr;
}

bool Ledger::Add(Record* r, const Event& start) {
  Shard& s = shards_[ShardOf(r->handle)];
  std::lock_guard<std::mutex> lock(s.mu);
  if (FindLocked(s, r->handle) != nullptr) {
    delete r;
    return false;
  }
  r->events.reserve(4);
  AppendLocked(*r, start);
  s.live.emplace(r->handle, r);
  return true;
}

void Ledger::AppendLocked(Record& r, Event e) {
  if (e.seq == 0) e.seq = NextSeq();
  // A record's history is short; a pathological one keeps its first 63 events and its latest.
  if (r.events.size() >= 64) r.events.pop_back();
  r.events.push_back(e);
}

void Ledger::Retire(Record* r) {
  Shard& s = shards_[ShardOf(r->handle)];
  std::lock_guard<std::mutex> lock(s.mu);
  if (r->retired) return;
  r->retired = true;
  AppendLocked(*r, Event{0, NowUs(), r->owner, EventType::kRetired, 0, 0, 0});
  s.live.erase(r->handle);
  s.retired.emplace(r->handle, r);
  s.retired_order.push_back(r);
  if (s.retired_order.size() > kRetiredPerShard) {
    Record* old = s.retired_order.front();
    s.retired_order.pop_front();
    s.retired.erase(old->handle);
    delete old;
  }
}

std::string Ledger::History(uint64_t handle) {
  return With(handle, [&](Record* r) {
    if (r == nullptr) {
      char line[128];
      std::snprintf(
          line, sizeof(line),
          "  handle %#" PRIx64 ": not in the ledger (never issued, or settled long ago)\n", handle);
      return std::string(line);
    }
    return HistoryLocked(*r);
  });
}

namespace {

std::string FormatEvent(const Event& e) {
  char line[256];
  int n = std::snprintf(line, sizeof(line), "    %+11.6fs  t%-3u #%-9" PRIu64 " ",
                        static_cast<double>(e.t_us) / 1e6, e.thread, e.seq);
  switch (e.type) {
    case EventType::kStart:
      std::snprintf(line + n, sizeof(line) - n, "start, buffer %s of %d bytes",
                    BufModeName(static_cast<BufMode>(e.detail)), e.a);
      break;
    case EventType::kCancel:
      std::snprintf(line + n, sizeof(line) - n, "WSACancelAsyncRequest (%s) -> %s",
                    MomentName(static_cast<CancelMoment>(e.detail)), ErrorName(e.a));
      break;
    case EventType::kSeenQueued:
      std::snprintf(line + n, sizeof(line) - n, "PeekMessage PM_NOREMOVE: message queued");
      break;
    case EventType::kMessage:
      std::snprintf(line + n, sizeof(line) - n, "message removed (%s): error %s, buflen %d",
                    ViaName(static_cast<Via>(e.detail)), ErrorName(e.a), e.b);
      break;
    case EventType::kOrphaned:
      std::snprintf(line + n, sizeof(line) - n, "window destroyed");
      break;
    case EventType::kSwallowed:
      std::snprintf(line + n, sizeof(line) - n, "final WSACleanup returned without a message");
      break;
    case EventType::kChecked:
      std::snprintf(line + n, sizeof(line) - n, "late buffer check passed");
      break;
    case EventType::kRetired:
      std::snprintf(line + n, sizeof(line) - n, "settled");
      break;
  }
  return std::string(line) + "\n";
}

}  // namespace

std::string Ledger::HistoryLocked(const Record& r) {
  const Query& q = Catalog()[r.query];
  char head[320];
  std::snprintf(head, sizeof(head),
                "  handle %#" PRIx64
                ": %s %s, owner t%u, hwnd %p, msg %#x, buffer %p len %d "
                "(canary %#x), session %u, DNS fault %s at start (switch #%" PRIu64 ")%s\n",
                r.handle, KindName(q.kind), q.label, r.owner, static_cast<void*>(r.hwnd), r.msg,
                static_cast<void*>(r.buffer.buf), r.buffer.len, r.buffer.canary, r.session,
                r.fault_free ? "none" : "active", r.fault_seq / 2,
                r.netdown_seq % 2 ? ", network down at start" : "");
  std::string out = head;
  for (const Event& e : r.events) out += FormatEvent(e);
  return out;
}

void Ledger::Clear() {
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto& [h, r] : s.live) delete r;
    for (Record* r : s.retired_order) delete r;
    s.live.clear();
    s.retired.clear();
    s.retired_order.clear();
  }
}

std::size_t Ledger::LiveCount() {
  std::size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard<std::mutex> lock(s.mu);
    n += s.live.size();
  }
  return n;
}

// --- HandleBook ---------------------------------------------------------------------------

namespace {
constexpr int kIndexBits = 22;  // task_table.h: TaskTable::kIndexBits
constexpr uint32_t kChunkEntries = 4096;
constexpr uint32_t kChunks = (1u << kIndexBits) / kChunkEntries;
}  // namespace

struct HandleBook::Entry {
  std::atomic_flag busy = ATOMIC_FLAG_INIT;
  bool any = false;
  uint64_t max_gen = 0;
  uint64_t window = 0;  // bit d: generation max_gen - d was seen
};

struct HandleBook::Chunk {
  Entry entries[kChunkEntries];
};

HandleBook::HandleBook() : chunks_(new std::atomic<Chunk*>[kChunks]) {
  for (uint32_t i = 0; i < kChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

HandleBook::~HandleBook() {
  for (uint32_t i = 0; i < kChunks; ++i) delete chunks_[i].load(std::memory_order_relaxed);
  delete[] chunks_;
}

HandleBook::Entry& HandleBook::EntryOf(uint32_t index) {
  std::atomic<Chunk*>& slot = chunks_[index / kChunkEntries];
  Chunk* c = slot.load(std::memory_order_acquire);
  if (c == nullptr) {
    auto* fresh = new Chunk;
    if (slot.compare_exchange_strong(c, fresh, std::memory_order_acq_rel)) {
      c = fresh;
    } else {
      delete fresh;  // another thread installed one first; `c` holds it
    }
  }
  return c->entries[index % kChunkEntries];
}

const char* HandleBook::Note(uint64_t handle) {
  if (handle == 0) return "a start returned handle 0 as a success";
  uint64_t low = handle & ((uint64_t{1} << kIndexBits) - 1);
  if (low == 0) return nullptr;  // not the documented encoding; only nonzero is required
  uint64_t gen = handle >> kIndexBits;
  Entry& e = EntryOf(static_cast<uint32_t>(low - 1));
  while (e.busy.test_and_set(std::memory_order_acquire)) {
  }
  const char* verdict = nullptr;
  if (!e.any) {
    e.any = true;
    e.max_gen = gen;
    e.window = 1;
  } else if (gen > e.max_gen) {
    uint64_t shift = gen - e.max_gen;
    e.window = (shift >= 64 ? 0 : e.window << shift) | 1;
    e.max_gen = gen;
  } else if (e.max_gen - gen >= 64) {
    verdict = "its slot's generation went backwards (wrapped): handles repeat";
  } else if (e.window & (uint64_t{1} << (e.max_gen - gen))) {
    verdict = "the same handle was returned by an earlier start";
  } else {
    e.window |= uint64_t{1} << (e.max_gen - gen);
  }
  e.busy.clear(std::memory_order_release);
  uint64_t seen = max_generation_.load(std::memory_order_relaxed);
  while (gen > seen &&
         !max_generation_.compare_exchange_weak(seen, gen, std::memory_order_relaxed)) {
  }
  return verdict;
}

// --- Reporter -----------------------------------------------------------------------------

void Reporter::Configure(uint64_t seed, std::string rerun, std::string mutant, int max,
                         bool exit_at_limit) {
  seed_ = seed;
  rerun_ = std::move(rerun);
  mutant_ = std::move(mutant);
  max_ = max;
  exit_at_limit_ = exit_at_limit;
}

void Reporter::Report(const std::string& what, const std::string& history) {
  std::lock_guard<std::mutex> lock(mu_);
  int n = count_.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (n > max_) return;
  std::fflush(stderr);
  std::printf(
      "\n==== VIOLATION %d at %+.6fs ====\n%s\n  seed %" PRIu64 ", mutant %s\n  rerun: %s\n", n,
      static_cast<double>(NowUs()) / 1e6, what.c_str(), seed_, mutant_.c_str(), rerun_.c_str());
  if (!history.empty()) std::printf("  history:\n%s", history.c_str());
  if (exit_at_limit_ && n == max_) {
    std::printf("stress: a violation was expected and reported: exit 0 at once\n");
    std::fflush(stdout);
    std::_Exit(0);
  }
  std::fflush(stdout);
}

}  // namespace wsaf::stress
