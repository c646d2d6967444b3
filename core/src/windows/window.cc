#include "windows/window.h"

#include <algorithm>

#include "table/mutants.h"

namespace wsaf {

namespace {
bool Matches(const MSG& m, UINT min, UINT max) {
  if (min == 0 && max == 0) return true;
  return m.message >= min && m.message <= max;
}
}  // namespace

bool Window::Post(const MSG& msg) {
  seam::Point(seam::Site::kPost);
  seam::MutexLock lock(mu_);
  if (destroyed_ || queue_.size() >= queue_limit_) return false;
  queue_.push_back({msg, 0});
  not_empty_.NotifyAll();
  return true;
}

Window::PostResult Window::PostCompletion(const MSG& msg, uint64_t task) {
  seam::Point(seam::Site::kPost);
  seam::MutexLock lock(mu_);
  if (destroyed_ && !WSAF_MUTANT(kPostToDestroyed)) return PostResult::kGone;
  if (!sink_->StillWanted(task)) return PostResult::kAborted;
  if (queue_.size() >= queue_limit_ || !overflow_.empty()) {
    overflow_.push_back({msg, task});
    return PostResult::kDeferred;
  }
  sink_->Queued(task);
  queue_.push_back({msg, task});
  if (!WSAF_MUTANT(kLostWakeup)) not_empty_.NotifyAll();
  return PostResult::kPosted;
}

void Window::PromoteLocked() {
  bool promoted = false;
  while (!overflow_.empty() && queue_.size() < queue_limit_) {
    QueuedMessage m = overflow_.front();
    overflow_.pop_front();
    if (!sink_->StillWanted(m.task)) {
      sink_->Dropped(m.task);
      continue;
    }
    sink_->Queued(m.task);
    queue_.push_back(m);
    if (WSAF_MUTANT(kDoubleDelivery)) queue_.push_back({m.msg, 0});  // the planted bug
    promoted = true;
  }
  if (promoted) not_empty_.NotifyAll();
}

bool Window::TakeLocked(UINT min, UINT max, bool remove, QueuedMessage* out) {
  for (auto it = queue_.begin(); it != queue_.end(); ++it) {
    if (!Matches(it->msg, min, max)) continue;
    *out = *it;
    if (remove) {
      queue_.erase(it);
      PromoteLocked();
    }
    return true;
  }
  return false;
}

bool Window::Peek(UINT min, UINT max, bool remove, QueuedMessage* out) {
  seam::MutexLock lock(mu_);
  return TakeLocked(min, max, remove, out);
}

bool Window::WaitAndRemove(UINT min, UINT max, QueuedMessage* out, int64_t timeout_ms) {
  seam::MutexLock lock(mu_);
  int64_t deadline = timeout_ms >= 0 ? seam::NowMs() + timeout_ms : 0;
  for (;;) {
    if (destroyed_) return false;
    if (TakeLocked(min, max, true, out)) return true;
    if (timeout_ms < 0) {
      not_empty_.Wait(mu_);
      continue;
    }
    int64_t left = deadline - seam::NowMs();
    if (left <= 0) return false;
    not_empty_.WaitFor(mu_, left);
  }
}

std::deque<QueuedMessage> Window::Destroy() {
  seam::MutexLock lock(mu_);
  destroyed_ = true;
  std::deque<QueuedMessage> left;
  left.swap(queue_);
  for (const QueuedMessage& m : overflow_) sink_->Dropped(m.task);
  overflow_.clear();
  not_empty_.NotifyAll();
  return left;
}

void Window::DropUnwanted() {
  seam::MutexLock lock(mu_);
  for (auto it = overflow_.begin(); it != overflow_.end();) {
    if (sink_->StillWanted(it->task)) {
      ++it;
      continue;
    }
    sink_->Dropped(it->task);
    it = overflow_.erase(it);
  }
}

HWND WindowRegistry::Create(bool internal) {
  seam::MutexLock lock(mu_);
  uintptr_t id = next_id_++;
  HWND hwnd = reinterpret_cast<HWND>(id);
  windows_.emplace(id, std::make_shared<Window>(hwnd, queue_limit_, internal, sink_));
  return hwnd;
}

std::shared_ptr<Window> WindowRegistry::Remove(HWND hwnd) {
  seam::MutexLock lock(mu_);
  auto it = windows_.find(reinterpret_cast<uintptr_t>(hwnd));
  if (it == windows_.end()) return nullptr;
  std::shared_ptr<Window> w = std::move(it->second);
  windows_.erase(it);
  return w;
}

std::shared_ptr<Window> WindowRegistry::Find(HWND hwnd) {
  seam::MutexLock lock(mu_);
  auto it = windows_.find(reinterpret_cast<uintptr_t>(hwnd));
  return it == windows_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<Window>> WindowRegistry::All() {
  std::vector<std::shared_ptr<Window>> all = AllIncludingInternal();
  all.erase(std::remove_if(all.begin(), all.end(), [](const auto& w) { return w->internal(); }),
            all.end());
  return all;
}

std::vector<std::shared_ptr<Window>> WindowRegistry::AllIncludingInternal() {
  seam::MutexLock lock(mu_);
  std::vector<std::shared_ptr<Window>> all;
  all.reserve(windows_.size());
  for (auto& [id, w] : windows_) all.push_back(w);
  // Oldest first, so that a NULL-hwnd pump is deterministic.
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return reinterpret_cast<uintptr_t>(a->hwnd()) < reinterpret_cast<uintptr_t>(b->hwnd());
  });
  return all;
}

}  // namespace wsaf
