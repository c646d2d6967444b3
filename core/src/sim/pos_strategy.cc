// POS: partial order sampling (Yuan, Yang and Gu, "Partial Order Aware Concurrency Sampling",
// CAV 2018). Every pending event (here: the operation a runnable thread is stopped before) gets
// a random priority when it becomes pending; at each choice the pending event of highest
// priority runs, and the thread that ran gets a fresh priority for its next event. Unlike a
// random walk, a thread with a low priority stays stopped across many choices, so long
// preemptions (a pop stopped between its load and its CAS while others run whole calls) are as
// likely as short ones; unlike PCT there is no depth to choose. This is POS without the
// paper's race-directed reassignment (the strategy sees thread ids, not the objects their next
// operations touch): every other event keeps its priority until it runs.
#include "sim/strategy.h"

namespace wsaf::sim {

namespace {

class PosStrategy : public Strategy {
 public:
  explicit PosStrategy(uint64_t seed) : seed_(seed), prng_(seed) {}
  std::string name() const override { return "pos"; }
  void NewExecution(uint64_t run) override {
    prng_.Seed(seed_ * 0x9E3779B97F4A7C15ull + run);
    priority_.clear();
  }
  uint32_t NextThread(const std::vector<int>& runnable, bool) override {
    uint32_t best = 0;
    uint64_t best_priority = 0;
    for (uint32_t i = 0; i < runnable.size(); ++i) {
      uint64_t p = PriorityOf(runnable[i]);
      if (i == 0 || p > best_priority) {
        best = i;
        best_priority = p;
      }
    }
    priority_[runnable[best]] = 0;  // its next event is new: drawn when next asked
    return best;
  }
  uint32_t NextValue(uint32_t n, DecisionKind) override { return prng_.Below(n); }

 private:
  uint64_t PriorityOf(int thread) {
    if (static_cast<std::size_t>(thread) >= priority_.size()) priority_.resize(thread + 1, 0);
    if (priority_[thread] == 0) priority_[thread] = prng_.Next() | 1;  // 0 means "not drawn"
    return priority_[thread];
  }

  uint64_t seed_;
  Prng prng_;
  std::vector<uint64_t> priority_;
};

}  // namespace

std::unique_ptr<Strategy> MakePosStrategy(uint64_t seed) { return std::make_unique<PosStrategy>(seed); }

}  // namespace wsaf::sim
