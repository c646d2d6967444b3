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

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

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

}  // namespace wsaf_bench

#endif  // WSAFAULT_BENCH_BASELINES_H_
