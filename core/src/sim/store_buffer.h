// The store buffer of one simulated thread under --memory tso (x86-TSO: Sewell et al., "x86-TSO:
// A Rigorous and Usable Programmer's Model for x86 Multiprocessors", CACM 2010).
//
// A relaxed or release store of a seam::Atomic waits here, oldest first, instead of reaching
// memory; the thread's own later loads of the same object read its newest entry, loads of other
// objects read memory (the one reordering x86 allows: a store, then a load of another location).
// Entries reach memory in FIFO order when the scheduler drains them: by a tape decision at a
// scheduling point, or because the thread runs a seq_cst store, an RMW, a seq_cst fence, a seam
// mutex, a wait or a wake (locked instructions and system calls drain the buffer), or ends.
//
// Plain (non-atomic) memory is not buffered: it is visible at once. That only adds behaviours to
// programs with data races on plain memory, which are TSan's to report.
//
// Thread safety: owned by one simulated thread's record in the scheduler (one OS thread).
// Lifetime: an entry points at its atomic; the object must outlive the drain (the scheduler
// drains a thread's buffer when it ends and every buffer when a run ends).
#ifndef WSAFAULT_SIM_STORE_BUFFER_H_
#define WSAFAULT_SIM_STORE_BUFFER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "seams/atomic.h"

namespace wsaf::sim {

class StoreBuffer {
 public:
  struct Entry {
    void* object;        // the seam::Atomic, for apply
    const void* key;     // its std::atomic (Access::object): what loads look up
    uint64_t bits;
    std::memory_order order;
    seam::ApplyStore apply;
  };

  bool empty() const { return head_ == entries_.size(); }
  std::size_t size() const { return entries_.size() - head_; }
  void Push(const Entry& e) { entries_.push_back(e); }

  // The newest buffered value stored to `key`: a thread reads its own stores.
  bool Newest(const void* key, uint64_t* bits) const {
    for (std::size_t i = entries_.size(); i-- > head_;) {
      if (entries_[i].key == key) {
        *bits = entries_[i].bits;
        return true;
      }
    }
    return false;
  }

  // Writes the `n` oldest entries to memory, in program order.
  void DrainOldest(std::size_t n) {
    for (; n > 0 && head_ < entries_.size(); --n, ++head_) {
      const Entry& e = entries_[head_];
      e.apply(e.object, e.bits, e.order);
    }
    if (head_ == entries_.size()) {
      entries_.clear();
      head_ = 0;
    }
  }
  void DrainAll() { DrainOldest(size()); }
  void Clear() {
    entries_.clear();
    head_ = 0;
  }

 private:
  std::vector<Entry> entries_;
  std::size_t head_ = 0;  // entries before it have drained
};

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_STORE_BUFFER_H_
