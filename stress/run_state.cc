#include "run_state.h"

namespace wsaf::stress {

void PhaseBoard::Post(Phase s) {
  std::lock_guard<std::mutex> lock(mu_);
  step_ = s;
  arrived_ = 0;
  gen_.fetch_add(1, std::memory_order_acq_rel);
  cv_.notify_all();
}

bool PhaseBoard::Await(uint64_t* seen, Phase* step, int64_t timeout_ms) {
  int64_t deadline = NowUs() + timeout_ms * 1000;
  std::unique_lock<std::mutex> lock(mu_);
  while (gen_.load(std::memory_order_relaxed) == *seen) {
    if (NowUs() >= deadline) return false;
    cv_.wait_for(lock, std::chrono::milliseconds(20));
  }
  *seen = gen_.load(std::memory_order_relaxed);
  *step = step_;
  return true;
}

void PhaseBoard::Arrive(uint64_t gen) {
  std::lock_guard<std::mutex> lock(mu_);
  if (gen_.load(std::memory_order_relaxed) != gen) return;  // a newer step began: not this one's
  ++arrived_;
  cv_.notify_all();
}

}  // namespace wsaf::stress
