// The two in-process baselines every pair benchmark stands beside.
//
// MutexMapTable: the handle table a careful engineer writes first: one std::mutex, one
//   std::unordered_map from handle to request. Start copies what our start copies (window,
//   message, buffer, the name) and hands out a never-repeating handle; Cancel answers "canceled"
//   only while the request is pending and forgets it. No resolver sits behind it, so every
//   cancel wins: it prices the bookkeeping alone.
// FloorSlots: the floor: one atomic word a request, a CAS FREE -> PENDING to start, a CAS
//   PENDING -> CANCELED and a store back to FREE to cancel. Nothing can be cheaper and still
//   decide the cancel/commit race.
//
// Thread safety: MutexMapTable is thread-safe (its mutex). FloorSlots is thread-safe per slot.
// Neither allocates in Cancel; MutexMapTable allocates a map node in Start.
#ifndef WSAFAULT_BENCH_BASELINES_H_
#define WSAFAULT_BENCH_BASELINES_H_

#include <wsafault/winsock_async.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace wsaf_bench {

class MutexMapTable {
 public:
  enum class Cancel { kCanceled, kInvalid };

  uint64_t Start(HWND hwnd, UINT msg, const char* name, char* buf, int buflen) {
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t handle = ++next_handle_;
    map_.emplace(handle, Entry{hwnd, msg, buf, buflen, name, true});
    return handle;
  }

  Cancel CancelRequest(uint64_t handle) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(handle);
    if (it == map_.end() || !it->second.pending) return Cancel::kInvalid;
    map_.erase(it);
    return Cancel::kCanceled;
  }

 private:
  struct Entry {
    HWND hwnd;
    UINT msg;
    char* buf;
    int buflen;
    std::string name;
    bool pending;
  };
  std::mutex mu_;
  uint64_t next_handle_ = 0;  // guarded by mu_
  std::unordered_map<uint64_t, Entry> map_;  // guarded by mu_
};

class FloorSlots {
 public:
  explicit FloorSlots(std::size_t n) : words_(new std::atomic<uint64_t>[n]) {
    for (std::size_t i = 0; i < n; ++i) words_[i].store(0, std::memory_order_relaxed);
  }
  // invariant of a word: (generation << 2) | state, state 0 FREE, 1 PENDING, 2 CANCELED.
  uint64_t Start(std::size_t i) {
    uint64_t w = words_[i].load(std::memory_order_relaxed);
    uint64_t next = ((w >> 2) + 1) << 2 | 1;
    if (!words_[i].compare_exchange_strong(w, next, std::memory_order_acq_rel)) return 0;
    return next;
  }
  bool CancelSlot(std::size_t i, uint64_t handle) {
    uint64_t w = handle;
    if (!words_[i].compare_exchange_strong(w, (handle & ~uint64_t{3}) | 2,
                                           std::memory_order_acq_rel)) {
      return false;
    }
    words_[i].store(handle & ~uint64_t{3}, std::memory_order_release);  // reclaimed: FREE
    return true;
  }

 private:
  std::unique_ptr<std::atomic<uint64_t>[]> words_;
};


// FloorRing: the floor of handing each request to a second thread (the resolver's place), the
// cheapest hand-off known to us: FloorSlots' words, plus a ring of submissions, eight to a cache
// line, that the consumer thread reads in order. A cancel that wins before the consumer reads a
// request's entry turns the entry into a tombstone (a CAS on the entry) and frees the slot
// itself: the consumer skips tombstones without touching the slot. A start that reuses a slot
// whose tombstone the consumer has not reached yet turns it back into a live entry instead of
// adding one (so a slot has at most one unread entry, and a ring of 2^16 entries never fills
// for up to 65,536 slots). The consumer sleeps on an eventfd when it finds no entry, with the
// same Dekker hand-shake (a flag and a re-check) as our resolver; a start that adds an entry
// while it sleeps writes the eventfd. A live entry is "served": the consumer takes the slot
// PENDING -> FREE (a completion without a message), or reclaims it when a cancel got there
// first (CANCELED -> FREE); the cancel then answers "too late".
//
// Not a table: no free list (slot i is the i-th request of a batch), no fields, no session.
// It prices the hand-off alone. Thread safety: Start and Cancel from one thread; the consumer
// is the class's own thread.
class FloorRing {
 public:
  enum class Cancel { kCanceled, kTooLate };

  explicit FloorRing(std::size_t n) : slots_(n) {
    for (auto& e : ring_) e.store(0, std::memory_order_relaxed);
    event_fd_ = eventfd(0, EFD_CLOEXEC);
    consumer_ = std::thread([this] { Consume(); });
  }
  ~FloorRing() {
    stop_.store(true, std::memory_order_seq_cst);
    uint64_t one = 1;
    ssize_t rc = write(event_fd_, &one, sizeof(one));
    (void)rc;
    consumer_.join();
    close(event_fd_);
  }
  FloorRing(const FloorRing&) = delete;
  FloorRing& operator=(const FloorRing&) = delete;

  // Returns the handle, (generation << 2) | PENDING. Waits while the consumer still holds the
  // slot (it served or reclaims a request of the slot's previous batch).
  uint64_t Start(std::size_t i) {
    Slot& s = slots_[i];
    uint64_t w = s.word.load(std::memory_order_relaxed);
    for (;;) {
      if ((w & 3) == kFree) {
        uint64_t next = (((w >> 2) + 1) << 2) | kPending;
        if (s.word.compare_exchange_weak(w, next, std::memory_order_acq_rel)) {
          w = next;
          break;
        }
        continue;
      }
      ++waits;
      std::this_thread::yield();
      w = s.word.load(std::memory_order_relaxed);
    }
    uint64_t tomb = Entry(s.pos, i) | kTomb;
    if (s.pos != 0 && ring_[s.pos & kMask].compare_exchange_strong(tomb, Entry(s.pos, i),
                                                                    std::memory_order_seq_cst)) {
      ++rearmed;
    } else {
      uint64_t pos = tail_.fetch_add(1, std::memory_order_relaxed) + 1;  // 0: no entry yet
      while (ring_[pos & kMask].load(std::memory_order_acquire) != 0) std::this_thread::yield();
      s.pos = pos;
      ring_[pos & kMask].store(Entry(pos, i), std::memory_order_seq_cst);
      if (sleeping_.load(std::memory_order_seq_cst) &&
          sleeping_.exchange(false, std::memory_order_seq_cst)) {
        uint64_t one = 1;
        ssize_t rc = write(event_fd_, &one, sizeof(one));
        (void)rc;
        ++wakes;
      }
    }
    return w;
  }

  Cancel CancelSlot(std::size_t i, uint64_t handle) {
    Slot& s = slots_[i];
    uint64_t live = Entry(s.pos, i);
    if (ring_[s.pos & kMask].compare_exchange_strong(live, live | kTomb,
                                                      std::memory_order_acq_rel)) {
      s.word.store(handle & ~uint64_t{3}, std::memory_order_release);  // unread: FREE at once
      return Cancel::kCanceled;
    }
    uint64_t w = handle;  // the consumer read it: it serves it unless we win the slot
    if (s.word.compare_exchange_strong(w, (handle & ~uint64_t{3}) | kCanceled,
                                       std::memory_order_acq_rel)) {
      return Cancel::kCanceled;  // the consumer reclaims it
    }
    return Cancel::kTooLate;
  }

  uint64_t waits = 0, rearmed = 0, wakes = 0;  // the starting thread's

 private:
  static constexpr uint64_t kFree = 0, kPending = 1, kCanceled = 2;
  static constexpr std::size_t kRingSize = std::size_t{1} << 16;
  static constexpr uint64_t kMask = kRingSize - 1;
  static constexpr uint64_t kTomb = uint64_t{1} << 63;
  // An entry names its position too, so a tombstone of an earlier lap is never taken for ours.
  static uint64_t Entry(uint64_t pos, std::size_t i) { return (pos << 20) | i; }
  struct alignas(64) Slot {
    std::atomic<uint64_t> word{0};
    uint64_t pos = 0;  // the slot's last entry (the starting thread's)
  };

  void Consume() {
    uint64_t head = 1;
    while (!stop_.load(std::memory_order_acquire)) {
      std::atomic<uint64_t>& e = ring_[head & kMask];
      if (e.load(std::memory_order_acquire) == 0) {
        sleeping_.store(true, std::memory_order_seq_cst);
        if (e.load(std::memory_order_seq_cst) == 0 && !stop_.load(std::memory_order_seq_cst)) {
          pollfd pfd{event_fd_, POLLIN, 0};
          poll(&pfd, 1, 100);
          uint64_t v;
          if (pfd.revents & POLLIN) {
            ssize_t rc = read(event_fd_, &v, sizeof(v));
            (void)rc;
          }
        }
        sleeping_.store(false, std::memory_order_seq_cst);
        continue;
      }
      uint64_t v = e.exchange(0, std::memory_order_acq_rel);
      ++head;
      if ((v & kTomb) != 0) continue;  // canceled before we read it: the slot is not ours
      Slot& s = slots_[v & ((uint64_t{1} << 20) - 1)];
      uint64_t w = s.word.load(std::memory_order_acquire);
      for (;;) {
        uint64_t st = w & 3;
        if (st == kFree) break;  // (not reached: a live entry's slot is PENDING or CANCELED)
        if (s.word.compare_exchange_weak(w, w & ~uint64_t{3}, std::memory_order_acq_rel)) break;
      }
    }
  }

  std::vector<Slot> slots_;
  alignas(64) std::atomic<uint64_t> tail_{0};
  alignas(64) std::atomic<bool> sleeping_{false};
  std::atomic<bool> stop_{false};
  int event_fd_ = -1;
  alignas(64) std::atomic<uint64_t> ring_[kRingSize];
  std::thread consumer_;
};

}  // namespace wsaf_bench

#endif  // WSAFAULT_BENCH_BASELINES_H_
