#include "table/task_table.h"

#include <malloc.h>
#include <sys/mman.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

#include "table/mutants.h"

namespace wsaf {

namespace {

constexpr uint64_t kIndexMask = (uint64_t{1} << TaskTable::kIndexBits) - 1;
constexpr uint64_t kGenMask = (uint64_t{1} << (64 - TaskTable::kIndexBits)) - 1;
constexpr uint32_t kMaxChunks = (TaskTable::kMaxSlots + TaskTable::kChunkSlots - 1) / TaskTable::kChunkSlots;
// Names and protocols up to this size live in the slot; longer ones take one allocation.
constexpr std::size_t kInlineText = 88;
constexpr uint32_t kInternalBit = 0x80000000u;

// The state word: (generation << 4) | kInStack | SlotState.
// kInStack: the slot is linked in the submit stack and the resolver has not claimed it yet. It is
// set by the start that pushes the slot and cleared only by the resolver (Claim), in the
// same word as the state, so that "unclaimed" and the state change together: a cancel that wins
// against an unclaimed request frees the slot at once (the resolver later finds it FREE and skips
// it), and a start that reuses a slot still in the stack does not push it again (the resolver
// serves whatever the slot holds when it takes it).
constexpr uint64_t kStateMask = 7;
constexpr uint64_t kInStack = 8;
uint64_t MakeWord(uint64_t gen, SlotState s) { return (gen << 4) | static_cast<uint64_t>(s); }
uint64_t GenOfWord(uint64_t w) { return w >> 4; }
SlotState StateOfWord(uint64_t w) { return static_cast<SlotState>(w & kStateMask); }
// The same generation and stack bit, another state.
uint64_t WithState(uint64_t w, SlotState s) { return (w & ~kStateMask) | static_cast<uint64_t>(s); }

}  // namespace

struct alignas(64) TaskTable::Slot {
  seam::Atomic<uint64_t> word{0};       // invariant: (generation << 4) | kInStack | SlotState
  // The session epoch the request was started in, | kInternalBit for an internal request.
  seam::Atomic<uint32_t> epoch{0};
  seam::Atomic<uint32_t> next_free{0};  // free-list link: index + 1, 0 ends the list
  seam::Atomic<uint32_t> next_submit{0};
  Request req{};
  char* heap_text = nullptr;  // owned; set when the strings did not fit in inline_text
  char inline_text[kInlineText];
};

// A chunk holds kChunkSlots slots, except the last one of a table whose capacity limit ends
// inside it (small simulated tables stay small and cheap to make). A whole chunk's slots are
// pages of their own (mmap), so that Trim can give it back to the system (madvise) and keep its
// address: a stale handle still reads a slot there (all zero: generation 0, FREE). A partial
// chunk comes from the heap (a mapping per simulated run cost the simulation 15 % of its runs)
// and is never given back.
struct TaskTable::Chunk {
  explicit Chunk(uint32_t n) : size(n) {
    void* p = nullptr;
    if (Mapped()) {
      p = mmap(nullptr, Bytes(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return;
    } else {
      p = ::operator new(Bytes(), std::align_val_t(alignof(Slot)), std::nothrow);
      if (p == nullptr) return;
    }
    slots = static_cast<Slot*>(p);
    for (uint32_t i = 0; i < n; ++i) new (&slots[i]) Slot();
  }
  ~Chunk() {
    if (slots == nullptr) return;
    for (uint32_t i = 0; i < size; ++i) slots[i].~Slot();
    if (Mapped()) {
      munmap(slots, Bytes());
    } else {
      ::operator delete(slots, std::align_val_t(alignof(Slot)));
    }
  }
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;
  std::size_t Bytes() const { return std::size_t{size} * sizeof(Slot); }
  bool Mapped() const { return size == kChunkSlots; }  // only a whole chunk can be given back
  Slot* slots = nullptr;  // null: the allocation failed
  const uint32_t size;    // kChunkSlots, or less for a small table's last chunk: it never grows
  // Written under grow_mu_: the pages are given back (Trim; read without the lock by its first
  // look), and every generation its slots ever had is at most gen_floor (guarded: a revived
  // slot starts there, so handles never repeat).
  seam::Atomic<bool> released{false};
  uint64_t gen_floor = 0;
};

const char* RequestKindName(RequestKind k) {
  switch (k) {
    case RequestKind::kHostByName: return "GetHostByName";
    case RequestKind::kHostByAddr: return "GetHostByAddr";
    case RequestKind::kProtoByName: return "GetProtoByName";
    case RequestKind::kProtoByNumber: return "GetProtoByNumber";
    case RequestKind::kServByName: return "GetServByName";
    case RequestKind::kServByPort: return "GetServByPort";
  }
  return "?";
}

const char* SlotStateName(SlotState s) {
  switch (s) {
    case SlotState::kFree: return "FREE";
    case SlotState::kPending: return "PENDING";
    case SlotState::kCanceled: return "CANCELED";
    case SlotState::kCompleting: return "COMPLETING";
    case SlotState::kQueued: return "QUEUED";
    case SlotState::kDone: return "DONE";
  }
  return "?";
}

// Value-initialised: every chunk pointer starts null (one zero fill, no per-pointer loop).
TaskTable::TaskTable() : chunks_(new seam::Atomic<Chunk*>[kMaxChunks]()) {}

TaskTable::~TaskTable() {
  uint32_t cap = capacity();
  for (uint32_t i = 0; i < cap; ++i) std::free(SlotAt(i).heap_text);
  // Chunks are made in order (Grow), so the first null ends them.
  for (uint32_t i = 0; i < kMaxChunks; ++i) {
    Chunk* c = chunks_[i].load(std::memory_order_relaxed);
    if (c == nullptr) break;
    delete c;
  }
}

// Inlined everywhere: it is on every path (GCC had left 22 out-of-line calls to it; 5 % of the
// samples of a batch-1 pair profile were in it).
__attribute__((always_inline)) inline TaskTable::Slot& TaskTable::SlotAt(uint32_t index) const {
  Chunk* c = chunks_[index / kChunkSlots].load(std::memory_order_acquire);
  return c->slots[index % kChunkSlots];
}

// Only before the first start: a partial last chunk cannot grow later.
void TaskTable::SetCapacityLimit(uint32_t max_slots) {
  capacity_limit_ = max_slots == 0 ? 1 : (max_slots > kMaxSlots ? kMaxSlots : max_slots);
}

void TaskTable::SetWaker(void (*waker)(void*), void* arg) {
  waker_ = waker;
  waker_arg_ = arg;
}

// --- Session ----------------------------------------------------------------------------

void TaskTable::AddSessionRef() { session_.fetch_add(1, std::memory_order_seq_cst); }

bool TaskTable::ReleaseSessionRef() {
  uint64_t s = session_.load(std::memory_order_seq_cst);
  if (RefsOf(s) > 1) {
    session_.fetch_sub(1, std::memory_order_seq_cst);
    return false;
  }
  // Last reference: refcount 0 and a new epoch in one store, then the walk.
  session_.store((uint64_t{EpochOf(s) + 1u} << 32), std::memory_order_seq_cst);
  if (!WSAF_MUTANT(kCleanupLeavesPending)) CancelAllPending();
  return true;
}

void TaskTable::CancelAllPending() {
  uint32_t cap = capacity();
  for (uint32_t i = 0; i < cap; ++i) {
    Slot& s = SlotAt(i);
    uint64_t w = s.word.load(std::memory_order_seq_cst);
    while (StateOfWord(w) == SlotState::kPending) {
      seam::Point(seam::Site::kCleanupWalk);
      if (s.word.compare_exchange_weak(w, WithState(w, SlotState::kCanceled),
                                       std::memory_order_seq_cst)) {
        break;
      }
    }
  }
}

// --- Free list (Treiber stack with a tag against ABA) -------------------------------------

bool TaskTable::PopFree(uint32_t* index) {
  for (;;) {
    uint64_t head = free_head_.load(std::memory_order_acquire);
    while (static_cast<uint32_t>(head) != 0) {
      uint32_t idx = static_cast<uint32_t>(head) - 1;
      uint32_t next = SlotAt(idx).next_free.load(std::memory_order_relaxed);
      uint64_t tag = WSAF_MUTANT(kFreeListNoTag) ? 0 : ((head >> 32) + 1);
      uint64_t new_head = (tag << 32) | next;
      if (free_head_.compare_exchange_weak(head, new_head, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
        if (idx >= max_requests_.load(std::memory_order_acquire)) {
          Retire(idx);  // above the application's limit: set aside, try the next one
          head = free_head_.load(std::memory_order_acquire);
          continue;
        }
        *index = idx;
        return true;
      }
    }
    if (!Grow()) return false;
  }
}

void TaskTable::PushFree(uint32_t index) {
  Slot& s = SlotAt(index);
  const std::memory_order order =
      WSAF_MUTANT(kPushFreeRelaxed) ? std::memory_order_relaxed : std::memory_order_release;
  uint64_t head = free_head_.load(std::memory_order_relaxed);
  uint64_t tag;
  do {
    s.next_free.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
    tag = WSAF_MUTANT(kFreeListNoTag) ? 0 : ((head >> 32) + 1);
  } while (!free_head_.compare_exchange_weak(head, (tag << 32) | (index + 1), order,
                                             std::memory_order_relaxed));
}

bool TaskTable::Grow() {
  WaitForReclaim();
  seam::MutexLock lock(grow_mu_);
  if (static_cast<uint32_t>(free_head_.load(std::memory_order_acquire)) != 0) return true;
  if (ReviveChunk()) return true;
  uint32_t cap = capacity();
  const uint32_t max_requests = max_requests_.load(std::memory_order_acquire);
  if (cap >= capacity_limit_ || cap >= max_requests) return false;
  uint32_t chunk_index = cap / kChunkSlots;
  Chunk* chunk = chunks_[chunk_index].load(std::memory_order_acquire);
  if (chunk == nullptr) {
    uint32_t room = capacity_limit_ - chunk_index * kChunkSlots;
    chunk = new (std::nothrow) Chunk(room < kChunkSlots ? room : kChunkSlots);
    if (chunk == nullptr) return false;
    if (chunk->slots == nullptr) {
      delete chunk;
      return false;
    }
    chunks_[chunk_index].store(chunk, std::memory_order_release);
  }
  uint32_t chunk_end = chunk_index * kChunkSlots + chunk->size;
  uint32_t new_cap = chunk_end < capacity_limit_ ? chunk_end : capacity_limit_;
  if (new_cap > max_requests) new_cap = max_requests;  // the chunk stays whole: the limit may rise
  if (new_cap <= cap) return false;  // a partial chunk is full (its limit was raised later)
  capacity_.store(new_cap, std::memory_order_release);
  // Push in reverse so that the lowest index is handed out first (deterministic order).
  for (uint32_t i = new_cap; i-- > cap;) PushFree(i);
  return true;
}

// --- Giving memory back ------------------------------------------------------------------
//
// Trim takes the whole free list (a new tag: a pop under way fails its CAS and finds the list
// empty, then waits in Grow for grow_mu_, which Trim holds), gives back the pages of every
// chunk but the first whose slots are all on it, and pushes the rest back. A slot still in the
// submit stack keeps its chunk (the resolver will read its word and link). A slot of a given-
// back chunk reads as all zero (generation 0: every handle of it is forgotten, WSAEINVAL); the
// chunk's highest generation is kept, and ReviveChunk starts its slots above it.

uint32_t TaskTable::Trim() {
  if (capacity() <= kChunkSlots) return 0;
  // Taking the list stalls every start until it is back (a walk of the whole free list, a
  // million slots in tens of milliseconds): first look, without taking anything, whether some
  // chunk looks wholly free, and stop at the first slot in use of each.
  if (!SomeChunkLooksFree()) return 0;
  seam::MutexLock lock(grow_mu_);
  uint64_t head = free_head_.load(std::memory_order_acquire);
  while (!free_head_.compare_exchange_weak(head, ((head >> 32) + 1) << 32, std::memory_order_acq_rel,
                                           std::memory_order_acquire)) {
  }
  const uint32_t chunks = (capacity() + kChunkSlots - 1) / kChunkSlots;
  std::vector<uint32_t> on_list;
  std::vector<uint32_t> present(chunks, 0);
  std::vector<bool> keep(chunks, false);
  for (uint32_t link = static_cast<uint32_t>(head); link != 0;) {
    uint32_t index = link - 1;
    Slot& s = SlotAt(index);
    on_list.push_back(index);
    ++present[index / kChunkSlots];
    if ((s.word.load(std::memory_order_relaxed) & kInStack) != 0) keep[index / kChunkSlots] = true;
    link = s.next_free.load(std::memory_order_relaxed);
  }
  uint32_t given_back = 0;
  for (uint32_t c = 1; c < chunks; ++c) {
    Chunk* chunk = chunks_[c].load(std::memory_order_acquire);
    if (keep[c] || !chunk->Mapped() || chunk->released.load(std::memory_order_relaxed) ||
        present[c] != chunk->size) {
      continue;
    }
    uint64_t floor = chunk->gen_floor;
    for (uint32_t i = 0; i < chunk->size; ++i) {
      Slot& s = chunk->slots[i];
      uint64_t gen = GenOfWord(s.word.load(std::memory_order_relaxed));
      if (gen > floor) floor = gen;
      FreeText(s);
    }
    chunk->gen_floor = floor;
    chunk->released.store(true, std::memory_order_relaxed);
    ReleasePages(chunk);
    given_back += chunk->size;
  }
  // The rest goes back in its order, in front of whatever was freed meanwhile.
  uint32_t first = 0, last = 0;
  for (uint32_t index : on_list) {
    if (chunks_[index / kChunkSlots].load(std::memory_order_relaxed)->released.load(std::memory_order_relaxed)) continue;
    if (first == 0) first = index + 1;
    else SlotAt(last - 1).next_free.store(index + 1, std::memory_order_relaxed);
    last = index + 1;
  }
  if (first != 0) {
    Slot& tail = SlotAt(last - 1);
    uint64_t now = free_head_.load(std::memory_order_relaxed);
    do {
      tail.next_free.store(static_cast<uint32_t>(now), std::memory_order_relaxed);
    } while (!free_head_.compare_exchange_weak(now, (((now >> 32) + 1) << 32) | first,
                                               std::memory_order_release, std::memory_order_relaxed));
  }
  if (given_back > 0) given_back_.store(given_back_.load(std::memory_order_relaxed) + given_back, std::memory_order_relaxed);
  // What was freed with those requests (their window queues, long names) sits in the
  // allocator's free lists: glibc gives whole free pages back only when asked.
  if (given_back > 0) malloc_trim(0);
  return given_back;
}

bool TaskTable::SomeChunkLooksFree() const {
  const uint32_t cap = capacity();
  for (uint32_t c = 1; (c + 1) * kChunkSlots <= cap; ++c) {
    const Chunk* chunk = chunks_[c].load(std::memory_order_acquire);
    if (!chunk->Mapped()) break;
    if (chunk->released.load(std::memory_order_relaxed)) continue;  // given back already
    uint32_t i = 0;
    for (; i < kChunkSlots; ++i) {
      uint64_t w = chunk->slots[i].word.load(std::memory_order_relaxed);
      SlotState st = StateOfWord(w);
      if ((st != SlotState::kFree && st != SlotState::kDone) || (w & kInStack) != 0) break;
    }
    if (i == kChunkSlots) return true;
  }
  return false;
}

// The pages of a chunk go back to the system; what reads them later reads zeros, the state a
// slot is made in.
void TaskTable::ReleasePages(Chunk* chunk) { madvise(chunk->slots, chunk->Bytes(), MADV_DONTNEED); }

// Grow's first resort, under grow_mu_: the lowest given-back chunk comes back, its slots one
// generation above any they had.
bool TaskTable::ReviveChunk() {
  const uint32_t chunks = (capacity() + kChunkSlots - 1) / kChunkSlots;
  for (uint32_t c = 1; c < chunks; ++c) {
    Chunk* chunk = chunks_[c].load(std::memory_order_acquire);
    if (!chunk->released.load(std::memory_order_relaxed)) continue;
    chunk->released.store(false, std::memory_order_relaxed);
    given_back_.store(given_back_.load(std::memory_order_relaxed) - chunk->size, std::memory_order_relaxed);
    for (uint32_t i = 0; i < chunk->size; ++i) {
      chunk->slots[i].word.store(MakeWord(chunk->gen_floor, SlotState::kFree), std::memory_order_relaxed);
    }
    for (uint32_t i = chunk->size; i-- > 0;) PushFree(c * kChunkSlots + i);
    return true;
  }
  return false;
}

void TaskTable::Retire(uint32_t index) {
  seam::MutexLock lock(retired_mu_);
  // Re-read under the lock: a SetMaxRequests that raised the limit has drained the list
  // already, or will after this.
  if (index < max_requests_.load(std::memory_order_acquire)) {
    PushFree(index);
  } else {
    retired_.push_back(index);
  }
}

void TaskTable::SetMaxRequests(uint32_t n) {
  if (n == 0) n = 1;
  if (n > kMaxSlots) n = kMaxSlots;
  max_requests_.store(n, std::memory_order_release);
  seam::MutexLock lock(retired_mu_);
  std::size_t kept = 0;
  for (uint32_t index : retired_) {
    if (index < n) PushFree(index);
    else retired_[kept++] = index;
  }
  retired_.resize(kept);
}

// Backpressure: when starts outrun the resolver's reclaiming of canceled slots, a start that
// finds no free slot first gives the resolver a moment (it is woken, and this thread yields)
// instead of growing the table, which never shrinks. It waits while requests sit in the submit
// stack, and for a few more yields after the resolver took them (it reclaims the canceled ones
// of the batch it took only then), at most about a millisecond in all: a table that must grow
// because its requests are all outstanding pays that once per chunk of 4,096 slots. Production
// only: the simulation's scheduler decides who runs.
void TaskTable::WaitForReclaim() {
  if (seam::Simulated()) return;
  constexpr int kYieldsAfterTaken = 64;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
  int idle = 0;
  for (;;) {
    if (static_cast<uint32_t>(free_head_.load(std::memory_order_acquire)) != 0) return;
    if (HasSubmitted()) {
      idle = 0;
      if (consumer_sleeping_.load(std::memory_order_seq_cst) &&
          consumer_sleeping_.exchange(false, std::memory_order_seq_cst) && waker_ != nullptr) {
        waker_(waker_arg_);
      }
    } else if (++idle > kYieldsAfterTaken) {
      return;  // taken and served: what was canceled is back, the rest is outstanding
    }
    if (std::chrono::steady_clock::now() > deadline) return;
    std::this_thread::yield();
  }
}

// --- Handles ----------------------------------------------------------------------------

uint64_t TaskTable::HandleOf(uint32_t index) const {
  uint64_t gen = GenOfWord(SlotAt(index).word.load(std::memory_order_acquire));
  if (WSAF_MUTANT(kNoGeneration)) gen = 0;
  return (gen << kIndexBits) | (index + 1);
}

bool TaskTable::Decode(uint64_t handle, uint32_t* index, uint64_t* gen) const {
  uint64_t low = handle & kIndexMask;
  bool take_current_gen = WSAF_MUTANT(kNoGeneration);
  if (low == 0) {
    if (!WSAF_MUTANT(kZeroHandleValid) || capacity() == 0) return false;
    low = 1;  // the planted bug: 0 falls through to slot 0
    take_current_gen = true;
  }
  if (low - 1 >= capacity() && !WSAF_MUTANT(kDecodeUnchecked)) return false;
  *index = static_cast<uint32_t>(low - 1);
  *gen = (handle >> kIndexBits) & kGenMask;
  if (take_current_gen) *gen = GenOfWord(SlotAt(*index).word.load(std::memory_order_acquire));
  return true;
}

const Request& TaskTable::RequestOf(uint32_t index) const { return SlotAt(index).req; }

uint32_t TaskTable::EpochOfSlot(uint32_t index) const {
  return SlotAt(index).epoch.load(std::memory_order_relaxed) & ~kInternalBit;
}

SlotState TaskTable::StateOfSlot(uint32_t index) const {
  return StateOfWord(SlotAt(index).word.load(std::memory_order_acquire));
}

// --- Start ------------------------------------------------------------------------------

namespace {

// Copies the request's strings into the slot (or one heap block). False on allocation failure.
bool CopyText(const RequestArgs& a, char* inline_text, char** heap_text, Request* req) {
  const char* name = a.name != nullptr ? a.name : "";
  std::size_t name_len = std::strlen(name);
  std::size_t proto_len = a.proto != nullptr ? std::strlen(a.proto) : 0;
  std::size_t need = name_len + 1 + (a.proto != nullptr ? proto_len + 1 : 0);
  char* text = inline_text;
  if (need > kInlineText) {
    text = static_cast<char*>(std::malloc(need));
    if (text == nullptr) return false;
    *heap_text = text;
  }
  std::memcpy(text, name, name_len + 1);
  req->name = text;
  req->proto = nullptr;
  if (a.proto != nullptr) {
    std::memcpy(text + name_len + 1, a.proto, proto_len + 1);
    req->proto = text + name_len + 1;
  }
  return true;
}

}  // namespace

StartStatus TaskTable::Start(const RequestArgs& a, uint64_t session, uint64_t* handle) {
  if (seam::Fault(seam::FaultSite::kSlotAllocFail)) return StartStatus::kNoSlot;
  uint32_t idx;
  if (!PopFree(&idx)) return StartStatus::kNoSlot;
  Slot& s = SlotAt(idx);
  // The slot is ours (FREE or DONE). Its word changes under us only if it is still in the
  // submit stack: then the resolver may clear kInStack at any moment (once), nobody else.
  uint64_t w = s.word.load(std::memory_order_relaxed);
  uint64_t gen = (GenOfWord(w) + 1) & kGenMask;
  if (WSAF_MUTANT(kSixteenBitHandles)) gen &= 0xffff;
  const uint32_t epoch = EpochOf(session);
  const uint32_t epoch_word = epoch | (a.internal ? kInternalBit : 0);
  // A new epoch word must not be read with the old generation: a cancel of the old (DONE)
  // handle would answer from the new request's session. So before writing it, claim the slot
  // for the next generation: from then on the old handle is forgotten (WSAEINVAL), and a cancel
  // that reads the new epoch sees the claim too (the fences pair with the ones in Decide). In
  // the common case (same session, same kind of caller) the epoch stays, and the old handle is
  // remembered until the publish below reuses the slot.
  const bool claim = s.epoch.load(std::memory_order_relaxed) != epoch_word;
  if (claim) {
    w = ReplaceWord(s, w, MakeWord(gen, SlotState::kFree));
    seam::Fence(std::memory_order_release);
  }
  Request& r = s.req;
  if (!CopyText(a, s.inline_text, &s.heap_text, &r)) {
    PushFree(idx);
    return StartStatus::kNoSlot;
  }
  r.kind = a.kind;
  r.family = a.family;
  r.number = a.number;
  r.addr_len = a.addr_len;
  r.hwnd = a.hwnd;
  r.msg = a.msg;
  r.buf = a.buf;
  r.buflen = a.buflen;
  if (a.addr != nullptr && a.addr_len > 0 && a.addr_len <= 16) std::memcpy(r.addr, a.addr, a.addr_len);
  if (claim) s.epoch.store(epoch_word, std::memory_order_relaxed);
  seam::Point(seam::Site::kStartPublish);
  // PENDING, in the submit stack. A slot still in the stack (a cancel freed it before the
  // resolver claimed it) is not pushed again: the resolver serves it as it finds it.
  const uint64_t pending = MakeWord(gen, SlotState::kPending) | kInStack;
  const std::memory_order publish_order =
      WSAF_MUTANT(kPublishRelease) ? std::memory_order_release : std::memory_order_seq_cst;
  bool push = true;
  if ((w & kInStack) == 0) {  // nobody else writes this word
    s.word.store(pending, publish_order);
  } else {
    while (!s.word.compare_exchange_weak(w, pending, publish_order, std::memory_order_relaxed)) {
    }
    push = (w & kInStack) == 0;  // the resolver claimed it meanwhile: push it again
  }
  StartStatus status = StartStatus::kOk;
  if (!WSAF_MUTANT(kSessionCheckThenAct) && EpochOf(Session()) != epoch) {
    // A final cleanup slipped in after the caller's check: refuse, and let the resolver
    // reclaim the slot like any canceled one. Unless someone saw the request PENDING first (a
    // cancel that won, or the cleanup's walk): then the start took effect before the cleanup
    // and answers with its handle, canceled (refusing it made that cancel's 0 name a request
    // never issued; found by wsafault sim preempting inside Start). The resolver may have
    // claimed it meanwhile (kInStack cleared): it is still ours to cancel while PENDING.
    uint64_t cur = pending;
    while (GenOfWord(cur) == gen && StateOfWord(cur) == SlotState::kPending) {
      if (s.word.compare_exchange_strong(cur, WithState(cur, SlotState::kCanceled))) {
        status = StartStatus::kNotInitialised;
        break;
      }
      if ((cur | kInStack) != pending) break;  // not only the resolver's take: someone saw it
    }
  }
  seam::Point(seam::Site::kStartSubmit);
  if (push) PushSubmit(idx);
  *handle = WSAF_MUTANT(kNoGeneration) ? (idx + 1) : ((gen << kIndexBits) | (idx + 1));
  return status;
}

// Replaces the word of a slot we hold (FREE or DONE) by `desired` | the current kInStack,
// which only the resolver changes meanwhile (it clears it, once). Returns the word written.
uint64_t TaskTable::ReplaceWord(Slot& s, uint64_t w, uint64_t desired) {
  if ((w & kInStack) == 0) {  // not in the stack: nobody else writes this word
    s.word.store(desired, std::memory_order_relaxed);
    return desired;
  }
  while (!s.word.compare_exchange_weak(w, desired | (w & kInStack), std::memory_order_relaxed,
                                       std::memory_order_relaxed)) {
  }
  return desired | (w & kInStack);
}

void TaskTable::PushSubmit(uint32_t index) {
  Slot& s = SlotAt(index);
  uint32_t head = submit_head_.load(std::memory_order_relaxed);
  do {
    s.next_submit.store(head, std::memory_order_relaxed);
  } while (!submit_head_.compare_exchange_weak(head, index + 1, std::memory_order_seq_cst,
                                               std::memory_order_relaxed));
  // Dekker with PrepareToSleep: the push above and the load below are seq_cst, as are the
  // consumer's store of the flag and its re-check of the stack.
  if (consumer_sleeping_.load(std::memory_order_seq_cst) &&
      consumer_sleeping_.exchange(false, std::memory_order_seq_cst) && waker_ != nullptr) {
    waker_(waker_arg_);
  }
}

bool TaskTable::PrepareToSleep() {
  consumer_sleeping_.store(true, WSAF_MUTANT(kSleepFlagRelease) ? std::memory_order_release
                                                                : std::memory_order_seq_cst);
  if (submit_head_.load(std::memory_order_seq_cst) != 0) {
    consumer_sleeping_.store(false, std::memory_order_seq_cst);
    return false;
  }
  return true;
}

void TaskTable::TakeSubmitted(std::vector<uint32_t>* out) {
  uint32_t head = submit_head_.exchange(0, std::memory_order_acquire);
  std::size_t first = out->size();
  // Every link first: a slot stays in the stack (its link unchanged) until Claim clears its bit.
  while (head != 0) {
    out->push_back(head - 1);
    head = SlotAt(head - 1).next_submit.load(std::memory_order_relaxed);
  }
  // The stack gives newest first; the resolver serves oldest first.
  for (std::size_t i = first, j = out->size(); i + 1 < j; ++i, --j) std::swap((*out)[i], (*out)[j - 1]);
}

SlotState TaskTable::Claim(uint32_t index) {
  Slot& s = SlotAt(index);
  uint64_t w = s.word.load(std::memory_order_relaxed);
  while (!s.word.compare_exchange_weak(w, w & ~kInStack, std::memory_order_acq_rel,
                                       std::memory_order_relaxed)) {
  }
  return StateOfWord(w);
}

// --- Cancel: where cancel decides ---------------------------------------------------------

CancelStatus TaskTable::Cancel(uint64_t handle, uint64_t session, bool owner) {
  CancelStatus status = Decide(handle, EpochOf(session), owner);
  if (status == CancelStatus::kInvalid && EpochOf(Session()) != EpochOf(session)) {
    // A final cleanup intervened and we may have seen its walk: order the cancel after it.
    return RefsOf(Session()) == 0 ? CancelStatus::kNotInitialised : CancelStatus::kInvalid;
  }
  return status;
}

CancelStatus TaskTable::Decide(uint64_t handle, uint32_t epoch, bool owner) {
  uint32_t idx;
  uint64_t gen;
  if (!Decode(handle, &idx, &gen)) return CancelStatus::kInvalid;
  Slot& s = SlotAt(idx);
  seam::Point(seam::Site::kCancelDecide);
  uint64_t w = s.word.load(std::memory_order_acquire);
  for (;;) {
    if (GenOfWord(w) != gen) return CancelStatus::kInvalid;
    uint32_t slot_epoch = s.epoch.load(std::memory_order_relaxed);
    bool this_session = (slot_epoch & ~kInternalBit) == epoch;
    // The epoch belongs to generation `gen` only if the word did not move meanwhile (a start
    // claims the slot before it writes a new epoch).
    seam::Fence(std::memory_order_acquire);
    uint64_t again = s.word.load(std::memory_order_relaxed);
    if (again != w) {
      w = again;
      continue;
    }
    if ((slot_epoch & kInternalBit) != 0 && !owner) return CancelStatus::kInvalid;
    switch (StateOfWord(w)) {
      case SlotState::kFree:
      case SlotState::kCanceled:
        return CancelStatus::kInvalid;
      case SlotState::kPending:
        if (!this_session) return CancelStatus::kInvalid;  // from an ended session
        if (WSAF_MUTANT(kCancelCheckThenAct)) {
          seam::Point(seam::Site::kCancelDecide);
          s.word.store(WithState(w, SlotState::kCanceled), std::memory_order_release);
          return CancelStatus::kCanceled;
        }
        if ((w & kInStack) != 0) {
          // The resolver has not claimed it: nobody else reads the request, so the slot goes
          // back to the free list now (FREE of this generation: the handle is forgotten); the
          // resolver skips it when it takes the stack.
          if (s.word.compare_exchange_strong(w, WithState(w, SlotState::kFree),
                                             std::memory_order_acq_rel)) {
            FreeText(s);
            PushFree(idx);
            return CancelStatus::kCanceled;
          }
          continue;  // claimed, or canceled by someone else: look again
        }
        if (s.word.compare_exchange_strong(w, WithState(w, SlotState::kCanceled),
                                           std::memory_order_acq_rel)) {
          return CancelStatus::kCanceled;
        }
        continue;  // the resolver committed first: look again
      case SlotState::kQueued:
        if (WSAF_MUTANT(kCancelAfterPost)) return CancelStatus::kCanceled;
        [[fallthrough]];
      case SlotState::kCompleting:
      case SlotState::kDone:
        if (!this_session || WSAF_MUTANT(kNeverAlready)) return CancelStatus::kInvalid;
        return CancelStatus::kAlready;
    }
    return CancelStatus::kInvalid;
  }
}

// --- Resolver and pump transitions --------------------------------------------------------

bool TaskTable::TryBeginCommit(uint64_t handle) {
  uint32_t idx;
  uint64_t gen;
  if (!Decode(handle, &idx, &gen)) return false;
  seam::Point(seam::Site::kCommitDecide);
  uint64_t w = MakeWord(gen, SlotState::kPending);
  return SlotAt(idx).word.compare_exchange_strong(w, MakeWord(gen, SlotState::kCompleting),
                                                  std::memory_order_acq_rel);
}

void TaskTable::MarkQueued(uint64_t handle) {
  uint32_t idx;
  uint64_t gen;
  if (!Decode(handle, &idx, &gen)) return;
  uint64_t w = MakeWord(gen, SlotState::kCompleting);
  SlotAt(idx).word.compare_exchange_strong(w, MakeWord(gen, SlotState::kQueued),
                                           std::memory_order_acq_rel);
}

// Most names fit in the slot: no call into the allocator for them (free(nullptr) is a call).
void TaskTable::FreeText(Slot& s) {
  if (s.heap_text == nullptr) return;
  std::free(s.heap_text);
  s.heap_text = nullptr;
}

// The resolver or the pump frees a slot it owns (claimed: kInStack is clear).
void TaskTable::ReleaseSlot(uint32_t index, SlotState final_state, uint64_t gen) {
  Slot& s = SlotAt(index);
  FreeText(s);
  s.word.store(MakeWord(gen, final_state), std::memory_order_release);
  PushFree(index);
}

void TaskTable::FinishDone(uint64_t handle) {
  uint32_t idx;
  uint64_t gen;
  if (!Decode(handle, &idx, &gen)) return;
  uint64_t w = SlotAt(idx).word.load(std::memory_order_acquire);
  if (w != MakeWord(gen, SlotState::kCompleting)) return;
  ReleaseSlot(idx, SlotState::kDone, gen);
}

void TaskTable::ReclaimCanceled(uint32_t index) {
  uint64_t w = SlotAt(index).word.load(std::memory_order_acquire);
  // Still in the stack (canceled by a start or the cleanup before the resolver claimed it): it
  // is reclaimed once claimed.
  if (StateOfWord(w) != SlotState::kCanceled || (w & kInStack) != 0) return;
  ReleaseSlot(index, SlotState::kFree, GenOfWord(w));
}

void TaskTable::OnDispatched(uint64_t handle) {
  uint32_t idx;
  uint64_t gen;
  if (!Decode(handle, &idx, &gen)) return;
  seam::Point(seam::Site::kDispatch);
  uint64_t w = MakeWord(gen, SlotState::kQueued);
  if (SlotAt(idx).word.compare_exchange_strong(w, MakeWord(gen, SlotState::kDone),
                                               std::memory_order_acq_rel)) {
    ReleaseSlot(idx, SlotState::kDone, gen);
  }
}

void TaskTable::CountStates(uint32_t counts[6]) const {
  for (int i = 0; i < 6; ++i) counts[i] = 0;
  uint32_t cap = capacity();
  for (uint32_t i = 0; i < cap; ++i) ++counts[static_cast<int>(StateOfSlot(i))];
}

}  // namespace wsaf
