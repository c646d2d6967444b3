// PCT: probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte,
// "A Randomized Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010).
//
// Each thread gets a random priority above d when first seen; d-1 change points are drawn
// uniformly from [1, k] (k: the longest run seen so far). The highest-priority runnable thread
// always runs; at the i-th change point the running thread drops to priority i, below every
// initial one. A bug of depth d among n threads and k steps is then found with probability at
// least 1/(n * k^(d-1)) per run. Data and fault decisions come from a PRNG.
#include <algorithm>

#include "sim/strategy.h"

namespace wsaf::sim {

namespace {

class PctStrategy : public Strategy {
 public:
  PctStrategy(uint64_t seed, int depth) : seed_(seed), depth_(depth), prng_(seed) {}
  std::string name() const override { return "pct:" + std::to_string(depth_); }

  void NewExecution(uint64_t run) override {
    prng_.Seed(seed_ * 0x100000001B3ull + run);
    priorities_.clear();
    change_points_.clear();
    for (int i = 1; i < depth_; ++i) change_points_.push_back(1 + prng_.Below(max_steps_));
    std::sort(change_points_.begin(), change_points_.end());
    step_ = 0;
    last_ = -1;
  }

  uint32_t NextThread(const std::vector<int>& runnable, bool current_runnable) override {
    ++step_;
    for (std::size_t i = 0; i < change_points_.size(); ++i) {
      if (change_points_[i] == step_ && last_ >= 0) Priority(last_) = static_cast<int64_t>(i) + 1;
    }
    (void)current_runnable;
    uint32_t best = 0;
    for (uint32_t i = 1; i < runnable.size(); ++i) {
      if (Priority(runnable[i]) > Priority(runnable[best])) best = i;
    }
    last_ = runnable[best];
    return best;
  }

  uint32_t NextValue(uint32_t n, DecisionKind) override { return prng_.Below(n); }

  void EndExecution(uint64_t steps) override {
    if (steps > max_steps_) max_steps_ = static_cast<uint32_t>(std::min<uint64_t>(steps, 1u << 30));
  }

 private:
  int64_t& Priority(int thread) {
    if (static_cast<std::size_t>(thread) >= priorities_.size()) priorities_.resize(thread + 1, -1);
    int64_t& p = priorities_[thread];
    // Initial priorities lie above every change-point priority (1..d-1).
    if (p < 0) p = depth_ + static_cast<int64_t>(prng_.Below(1u << 30));
    return p;
  }

  uint64_t seed_;
  int depth_;
  Prng prng_;
  std::vector<int64_t> priorities_;  // by thread id; -1: not seen yet this run
  std::vector<uint32_t> change_points_;
  uint32_t max_steps_ = 64;  // k, grown to the longest run seen
  uint32_t step_ = 0;
  int last_ = -1;  // the thread chosen at the previous step
};

}  // namespace

std::unique_ptr<Strategy> MakePctStrategy(uint64_t seed, int depth) {
  return std::make_unique<PctStrategy>(seed, depth);
}

}  // namespace wsaf::sim
