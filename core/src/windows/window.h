// Message-only windows and their queues, with Win32's meaning.
//
// A Window is a FIFO of at most kQueueLimit messages. Application code posts with PostMessage
// (fails when full); a completion posts with PostCompletion, which waits for room instead
// (SPEC.md: a completion is never dropped while its window lives) and gives up when the window
// is destroyed or the session that started the request ended. Each queued completion carries
// its task handle so that removing it moves the request to DISPATCHED.
//
// HWND values are registry ids (1, 2, ...) that are never reused, so a destroyed window's HWND
// never names a newer window.
//
// Thread safety: all methods are thread-safe. Lock order: WindowRegistry::mu_ before
// Window::mu_ (only ForEach nests them); the table's atomics may be touched under Window::mu_.
// Lifetime: windows are shared_ptr-owned by the registry and by callers holding a Find()
// result, so a window being destroyed stays valid memory for whoever still uses it.
#ifndef WSAFAULT_WINDOWS_WINDOW_H_
#define WSAFAULT_WINDOWS_WINDOW_H_

#include <cstdint>
#include <deque>
#include <functional>
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

class Window {
 public:
  static constexpr std::size_t kQueueLimit = 10000;

  Window(HWND hwnd, std::size_t queue_limit) : hwnd_(hwnd), queue_limit_(queue_limit) {}

  HWND hwnd() const { return hwnd_; }
  // False when destroyed or full.
  bool Post(const MSG& msg);

  enum class PostResult { kPosted, kGone, kAborted };
  // Waits for room. `still_wanted` is checked under the lock before each attempt (false: the
  // session ended: kAborted); `on_queued` runs under the lock just before the message becomes
  // visible to pumps. `waited` is set when the queue was full at least once.
  PostResult PostCompletion(const MSG& msg, uint64_t task, const std::function<bool()>& still_wanted,
                            const std::function<void()>& on_queued, bool* waited);

  // Removes (remove = true) or copies the first message within [min, max] (0, 0: any).
  bool Peek(UINT min, UINT max, bool remove, QueuedMessage* out);
  // Blocks until a message within [min, max] is removed (true), the window is destroyed, or
  // (timeout_ms >= 0) that much time passed.
  bool WaitAndRemove(UINT min, UINT max, QueuedMessage* out, int64_t timeout_ms = -1);

  // Marks the window destroyed, wakes every waiter, and returns the queued messages.
  std::deque<QueuedMessage> Destroy();
  // Wakes completions waiting for room so that they re-check whether they are still wanted.
  void WakeWriters();
  std::size_t size();

 private:
  bool TakeLocked(UINT min, UINT max, bool remove, QueuedMessage* out) REQUIRES(mu_);

  const HWND hwnd_;
  const std::size_t queue_limit_;
  seam::Mutex mu_;
  seam::CondVar not_empty_;
  seam::CondVar not_full_;
  std::deque<QueuedMessage> queue_ GUARDED_BY(mu_);
  bool destroyed_ GUARDED_BY(mu_) = false;
};

class WindowRegistry {
 public:
  // Windows created afterwards hold at most `limit` messages (the simulation uses tiny queues).
  void SetQueueLimit(std::size_t limit) { queue_limit_ = limit; }
  HWND Create();
  // Removes the window; returns it (null when there was none) so the caller can settle the
  // queued completions.
  std::shared_ptr<Window> Remove(HWND hwnd);
  std::shared_ptr<Window> Find(HWND hwnd);
  std::vector<std::shared_ptr<Window>> All();

 private:
  seam::Mutex mu_;
  std::size_t queue_limit_ = Window::kQueueLimit;
  uint64_t next_id_ GUARDED_BY(mu_) = 1;
  std::unordered_map<uintptr_t, std::shared_ptr<Window>> windows_ GUARDED_BY(mu_);
};

}  // namespace wsaf

#endif  // WSAFAULT_WINDOWS_WINDOW_H_
