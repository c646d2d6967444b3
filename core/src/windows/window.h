// Message-only windows and their queues, with Win32's meaning.
//
// A Window is a FIFO of at most its queue limit (10,000, like Windows) messages. Application
// code posts with PostMessage, which fails when the queue is full. A completion posts with
// PostCompletion, which never fails for lack of room (SPEC.md: a completion is never dropped
// while its window lives): when the queue is full the completion waits in the window's
// overflow list, in order, and moves into the queue as soon as a pump makes room. No thread
// blocks for it, so one unpumped window never stalls the resolver and the lookups of every
// other window. Each queued completion carries its task handle so that removing it moves the
// request to DISPATCHED (the CompletionSink says how).
//
// HWND values are registry ids (1, 2, ...) that are never reused, so a destroyed window's HWND
// never names a newer window.
//
// Thread safety: all methods are thread-safe. Lock order: WindowRegistry::mu_ before
// Window::mu_ is never needed (the registry hands out shared_ptrs and lets go); the sink's
// calls (table atomics only) are made under Window::mu_.
// Lifetime: windows are shared_ptr-owned by the registry and by callers holding a Find()
// result, so a window being destroyed stays valid memory for whoever still uses it.
#ifndef WSAFAULT_WINDOWS_WINDOW_H_
#define WSAFAULT_WINDOWS_WINDOW_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "seams/seams.h"
#include "wsafault/winsock_async.h"

namespace wsaf {

struct QueuedMessage {
  MSG msg;
  uint64_t task;  // the request's handle for a completion message, 0 otherwise
};

// How a window tells the table about completions it holds (implemented by the Engine).
class CompletionSink {
 public:
  virtual ~CompletionSink() = default;
  // False when the request's session ended (the final cleanup): it must not be posted.
  virtual bool StillWanted(uint64_t task) = 0;
  // The completion entered the queue (COMPLETING -> QUEUED), before any pump can see it.
  virtual void Queued(uint64_t task) = 0;
  // The completion will never be posted (window gone, session ended): COMPLETING -> DONE.
  virtual void Dropped(uint64_t task) = 0;
};

class Window {
 public:
  static constexpr std::size_t kQueueLimit = 10000;

  Window(HWND hwnd, std::size_t queue_limit, bool internal, CompletionSink* sink)
      : hwnd_(hwnd), queue_limit_(queue_limit), internal_(internal), sink_(sink) {}

  HWND hwnd() const { return hwnd_; }
  // A library-private window (a blocking call's): NULL-hwnd pumps never see it.
  bool internal() const { return internal_; }
  // False when destroyed or full.
  bool Post(const MSG& msg);

  enum class PostResult {
    kPosted,    // in the queue (the sink heard Queued)
    kDeferred,  // the queue is full: in the overflow list, posted when room appears
    kGone,      // the window was destroyed: nothing posted (the caller settles the request)
    kAborted,   // the sink no longer wants it: nothing posted (the caller settles it)
  };
  PostResult PostCompletion(const MSG& msg, uint64_t task);

  // Removes (remove = true) or copies the first message within [min, max] (0, 0: any).
  bool Peek(UINT min, UINT max, bool remove, QueuedMessage* out);
  // Blocks until a message within [min, max] is removed (true), the window is destroyed, or
  // (timeout_ms >= 0) that much time passed.
  bool WaitAndRemove(UINT min, UINT max, QueuedMessage* out, int64_t timeout_ms = -1);

  // Marks the window destroyed, wakes every pump, drops the overflow (sink: Dropped), and
  // returns the queued messages.
  std::deque<QueuedMessage> Destroy();
  // Drops overflow completions the sink no longer wants (the final cleanup calls this).
  void DropUnwanted();

 private:
  bool TakeLocked(UINT min, UINT max, bool remove, QueuedMessage* out) REQUIRES(mu_);
  // Moves overflow completions into the queue while there is room.
  void PromoteLocked() REQUIRES(mu_);

  const HWND hwnd_;
  const std::size_t queue_limit_;
  const bool internal_;
  CompletionSink* const sink_;
  seam::Mutex mu_;
  seam::CondVar not_empty_;
  std::deque<QueuedMessage> queue_ GUARDED_BY(mu_);
  // invariant: non-empty only while queue_ is full; completions only, oldest first.
  std::deque<QueuedMessage> overflow_ GUARDED_BY(mu_);
  bool destroyed_ GUARDED_BY(mu_) = false;
};

class WindowRegistry {
 public:
  // Windows created afterwards hold at most `limit` messages (the simulation uses tiny queues).
  void SetQueueLimit(std::size_t limit) { queue_limit_ = limit; }
  // Set once, before the first window.
  void SetSink(CompletionSink* sink) { sink_ = sink; }
  HWND Create(bool internal = false);
  // Removes the window; returns it (null when there was none) so the caller can settle the
  // queued completions.
  std::shared_ptr<Window> Remove(HWND hwnd);
  std::shared_ptr<Window> Find(HWND hwnd);
  // Every window but the internal ones, oldest first.
  std::vector<std::shared_ptr<Window>> All();
  // Every window, internal ones included (the final cleanup wakes them all).
  std::vector<std::shared_ptr<Window>> AllIncludingInternal();

 private:
  seam::Mutex mu_;
  std::size_t queue_limit_ = Window::kQueueLimit;
  CompletionSink* sink_ = nullptr;
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  std::unordered_map<uintptr_t, std::shared_ptr<Window>> windows_ GUARDED_BY(mu_);
};

}  // namespace wsaf

#endif  // WSAFAULT_WINDOWS_WINDOW_H_
