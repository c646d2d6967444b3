// The task table: request slots, handles, and the one race between cancel and completion.
//
// Lifecycle of one request (SPEC.md), as the state word of its slot:
//
//   FREE --Start--> PENDING --TryBeginCommit--> COMPLETING --MarkQueued--> QUEUED --OnDispatched--> DONE
//                      |                             |
//                      +--Cancel / CancelAllPending--+--> CANCELED --ReclaimCanceled--> FREE
//                                                    +--FinishDone (window gone, cleanup)--> DONE
//
// - "Cancel wins" and "the resolver commits" are the two CASes out of PENDING; exactly one
//   succeeds. Cancel answers: PENDING -> 0 (it won); CANCELED, FREE, a different generation, or
//   a request of an earlier session -> WSAEINVAL; COMPLETING, QUEUED, DONE -> WSAEALREADY.
// - DONE and FREE slots sit on the free list; a DONE slot still answers WSAEALREADY for its
//   handle until the slot is reused (the generation then moves on): "while the table remembers".
// - Ownership: a PENDING slot the resolver has not claimed yet (still in the submit stack) is
//   freed by the cancel that wins against it, at once, on the canceling thread: the resolver
//   finds it FREE when it claims it and skips it. A PENDING slot the resolver claimed, and
//   every CANCELED or COMPLETING slot, belongs to the resolver: only the resolver frees it. A
//   QUEUED slot belongs to its window queue: only the pump (OnDispatched) or window destruction
//   frees it. A slot freed while in the stack stays linked there until the resolver takes it; a
//   start that reuses it meanwhile does not push it again.
//
// Handles: (generation << kIndexBits) | (index + 1). The generation is 42 bits wide and moves
// on at every allocation of the slot, so handles never repeat in the life of the process;
// index + 1 keeps every handle nonzero.
//
// Session word: (epoch << 32) | refcount. The final cleanup bumps the epoch; a request whose
// slot carries an older epoch is from before the last full cleanup (WSAEINVAL).
//
// Thread safety: Start, Cancel, OnDispatched and the session readers are lock-free and may be
// called from any thread. TakeSubmitted and the commit/reclaim calls are the resolver's (one
// consumer at a time). Growth of the slot array takes grow_mu_ (rare: the free list was empty).
//
// Memory ordering: a start writes the request fields, then publishes PENDING (seq_cst), then
// pushes the slot on the submit stack (release); the resolver takes the stack (acquire), then
// claims each slot (Claim: an acq_rel CAS clearing its in-stack bit, which reads the latest
// publish, also that of a start that reused a slot still in the stack and did not push it)
// before reading the fields. The seq_cst publish + session re-check in Start pairs with the
// seq_cst epoch bump + walk in CancelAllPending, so a start racing the final cleanup is either
// refused or canceled by the walk.
#ifndef WSAFAULT_TABLE_TASK_TABLE_H_
#define WSAFAULT_TABLE_TASK_TABLE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "seams/seams.h"
#include "wsafault/winsock_async.h"

namespace wsaf {

enum class RequestKind : uint8_t {
  kHostByName,
  kHostByAddr,
  kProtoByName,
  kProtoByNumber,
  kServByName,
  kServByPort,
};
const char* RequestKindName(RequestKind k);

enum class SlotState : uint8_t { kFree, kPending, kCanceled, kCompleting, kQueued, kDone };
const char* SlotStateName(SlotState s);

// What a start asks for. Strings and the address are copied into the slot. The fields are
// ordered widest first, so that the struct is one cache line with no holes: every start fills
// a fresh one, and at 104 bytes GCC zeroed it with `rep stos` (about 8 ns a start on the AMD
// EPYC of docs/bench/analysis.md, by its share of the samples), at 64 with vector stores.
struct RequestArgs {
  HWND hwnd = nullptr;
  char* buf = nullptr;
  const char* name = nullptr;   // host, protocol or service name
  const char* proto = nullptr;  // service protocol, may be null
  const char* addr = nullptr;
  UINT msg = 0;
  int buflen = 0;
  int number = 0;               // protocol number or port (network order)
  int addr_len = 0;
  int family = 0;
  RequestKind kind = RequestKind::kHostByName;
  // A request the library made for itself (wsaf_gethostbyname's): its handle was never given
  // to the application, so WSACancelAsyncRequest answers WSAEINVAL for it.
  bool internal = false;
};
static_assert(sizeof(RequestArgs) <= 64, "RequestArgs grew past a cache line");

// A request as the resolver reads it. Stable while the resolver owns the slot.
struct Request {
  RequestKind kind;
  int family;
  int number;
  int addr_len;
  HWND hwnd;
  UINT msg;
  char* buf;
  int buflen;
  const char* name;   // never null ("" when absent)
  const char* proto;  // null when absent
  unsigned char addr[16];
};

enum class StartStatus { kOk, kNotInitialised, kNoSlot };
enum class CancelStatus { kCanceled, kInvalid, kAlready, kNotInitialised };

class TaskTable {
 public:
  static constexpr int kIndexBits = 22;
  // index + 1 must fit in the index bits (found by the benchmarks: the last slot's handle
  // overflowed into the generation).
  static constexpr uint32_t kMaxSlots = (1u << kIndexBits) - 1;
  static constexpr uint32_t kChunkSlots = 4096;

  TaskTable();
  ~TaskTable();
  TaskTable(const TaskTable&) = delete;
  TaskTable& operator=(const TaskTable&) = delete;

  // The slot index a handle names (meaningful only for a handle this table issued).
  static uint32_t IndexOf(uint64_t handle) {
    return static_cast<uint32_t>((handle & ((uint64_t{1} << kIndexBits) - 1)) - 1);
  }

  // --- Session -------------------------------------------------------------------------
  static uint32_t RefsOf(uint64_t session) { return static_cast<uint32_t>(session); }
  static uint32_t EpochOf(uint64_t session) { return static_cast<uint32_t>(session >> 32); }
  uint64_t Session() const { return session_.load(std::memory_order_seq_cst); }
  // Callers serialise these two (the API's session mutex).
  void AddSessionRef();
  // Returns true when this was the last reference: the epoch moved on and every pending
  // request is now canceled.
  bool ReleaseSessionRef();

  // --- Application side ------------------------------------------------------------------
  // `session` is the word the caller checked (refcount > 0).
  StartStatus Start(const RequestArgs& args, uint64_t session, uint64_t* handle);
  // `session` is the word the caller checked (refcount > 0). A final cleanup that runs during
  // the call is answered as if it came first (kNotInitialised) whenever the cancel saw any of
  // its effects, so that every answer matches one order of the two calls.
  // `owner`: the library canceling its own internal request.
  CancelStatus Cancel(uint64_t handle, uint64_t session, bool owner = false);
  // The pump removed a completion message. Frees the slot (it stays remembered as DONE).
  void OnDispatched(uint64_t handle);

  // --- Resolver side ---------------------------------------------------------------------
  // Appends the slots submitted since the last call, oldest first. Each must then be claimed
  // (Claim), in order, each just before it is served: until its claim a cancel that wins frees
  // the slot at once, and a start may reuse it.
  void TakeSubmitted(std::vector<uint32_t>* out);
  // Takes a slot TakeSubmitted returned from the submit stack and says what it holds then:
  // PENDING (serve it: the resolver owns it now), CANCELED (reclaim it), or FREE / DONE (a
  // cancel freed it meanwhile, and it may already be another start's: skip it; that start
  // pushes it again if this claim came first, else this claim found it PENDING).
  SlotState Claim(uint32_t index);
  bool HasSubmitted() const { return submit_head_.load(std::memory_order_seq_cst) != 0; }
  // For the simulation's own bookkeeping: no scheduling point (seam::Atomic::Peek).
  bool PeekSubmitted() const { return submit_head_.Peek() != 0; }
  uint64_t HandleOf(uint32_t index) const;
  const Request& RequestOf(uint32_t index) const;
  uint32_t EpochOfSlot(uint32_t index) const;
  SlotState StateOfSlot(uint32_t index) const;
  // PENDING -> COMPLETING for this exact handle. False when cancel won (or the handle is
  // stale); a CANCELED slot must then be given back with ReclaimCanceled.
  bool TryBeginCommit(uint64_t handle);
  // COMPLETING -> QUEUED; the caller holds the window lock, before the message is visible.
  void MarkQueued(uint64_t handle);
  // COMPLETING -> DONE without a message (window gone, final cleanup): frees the slot.
  void FinishDone(uint64_t handle);
  // CANCELED -> FREE: frees the slot. No-op for any other state.
  void ReclaimCanceled(uint32_t index);

  // The consumer announces it is about to sleep; false if work arrived meanwhile.
  bool PrepareToSleep();
  void DoneSleeping() { consumer_sleeping_.store(false, std::memory_order_seq_cst); }
  // Called (from a starting thread) when work arrives while the consumer sleeps.
  void SetWaker(void (*waker)(void*), void* arg);

  // --- Limits and inspection ---------------------------------------------------------------
  // At most this many slots (tests and the simulation use small tables). Call it before the
  // first Start.
  void SetCapacityLimit(uint32_t max_slots);
  // Starts use only slots [0, n) (1..kMaxSlots; the public wsaf_set_max_requests, which calls
  // it between sessions, when that bounds the requests in use to n): a start that finds none
  // free fails with WSAEWOULDBLOCK. Free slots at or above the limit are set aside as they come
  // off the free list, and return when it rises again. Thread-safe.
  void SetMaxRequests(uint32_t n);
  uint32_t capacity() const { return capacity_.load(std::memory_order_acquire); }
  // Gives the memory of wholly free chunks (4,096 slots each, never the first) back to the
  // system; returns how many slots it gave back. Their requests are forgotten (a stale handle
  // answers WSAEINVAL, as for any reused slot); a later growth takes them back first, with
  // generations above any they had. Thread-safe; not a hot path (window destruction and the
  // idle resolver call it): a lock-free look at the chunks first, and only when some chunk looks
  // wholly free a walk of the free list, which starts wait for.
  uint32_t Trim();
  // Slots given back and not revived since (a statistic for tests and stats; relaxed).
  uint32_t given_back() const { return given_back_.load(std::memory_order_relaxed); }
  // Counts slots by state (a walk: for tests, stats and leak checks, not hot paths).
  void CountStates(uint32_t counts[6]) const;

 private:
  struct Slot;
  struct Chunk;

  Slot& SlotAt(uint32_t index) const;
  bool Decode(uint64_t handle, uint32_t* index, uint64_t* gen) const;
  // Where cancel decides: the state machine's answer for `handle` in session `epoch`.
  CancelStatus Decide(uint64_t handle, uint32_t epoch, bool owner);
  bool PopFree(uint32_t* index);
  void PushFree(uint32_t index);
  void Retire(uint32_t index);  // a free slot at or above max_requests_
  bool Grow();
  void WaitForReclaim();
  void PushSubmit(uint32_t index);
  void CancelAllPending();
  void ReleaseSlot(uint32_t index, SlotState final_state, uint64_t gen);
  static uint64_t ReplaceWord(Slot& s, uint64_t w, uint64_t desired);
  static void FreeText(Slot& s);  // a long name's heap block, when it has one
  void ReleasePages(Chunk* chunk);
  bool SomeChunkLooksFree() const;  // a look without the lock: Trim's cheap first step
  bool ReviveChunk();

  seam::Atomic<uint64_t> session_{0};
  seam::Atomic<uint64_t> free_head_{0};    // (tag << 32) | (index + 1)
  seam::Atomic<uint32_t> submit_head_{0};  // index + 1
  seam::Atomic<bool> consumer_sleeping_{false};
  void (*waker_)(void*) = nullptr;
  void* waker_arg_ = nullptr;
  seam::Atomic<uint32_t> capacity_{0};
  uint32_t capacity_limit_ = kMaxSlots;
  std::unique_ptr<seam::Atomic<Chunk*>[]> chunks_;
  seam::Mutex grow_mu_;
  seam::Atomic<uint32_t> given_back_{0};  // written under grow_mu_
  seam::Atomic<uint32_t> max_requests_{kMaxSlots};
  seam::Mutex retired_mu_;
  std::vector<uint32_t> retired_ GUARDED_BY(retired_mu_);  // free slots at or above max_requests_
};

}  // namespace wsaf

#endif  // WSAFAULT_TABLE_TASK_TABLE_H_
