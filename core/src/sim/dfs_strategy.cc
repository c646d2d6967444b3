// Bounded exhaustive search with preemption bounding (Musuvathi and Qadeer, "Iterative Context
// Bounding for Systematic Testing of Multithreaded Programs", PLDI 2007).
//
// The decision tree is walked depth first: each run replays the previous run's decisions up to
// the deepest one that still has an unexplored option, takes that option, and answers 0 (the
// quiet choice) to every decision after it. A preemption is a scheduling decision that switches
// away from a thread that could have continued; runs with more than `bound` preemptions are not
// explored. Data and fault decisions explore at most kDataWidth options each, which keeps tiny
// scenarios exhaustive and larger ones merely systematic.
#include <algorithm>

#include "sim/strategy.h"

namespace wsaf::sim {

namespace {

constexpr uint32_t kDataWidth = 3;

class DfsStrategy : public Strategy {
 public:
  explicit DfsStrategy(int bound) : bound_(bound) {}
  std::string name() const override { return "dfs:" + std::to_string(bound_); }
  void NewExecution(uint64_t) override { pos_ = 0; }

  uint32_t NextThread(const std::vector<int>& runnable, bool current_runnable) override {
    return Choose(static_cast<uint32_t>(runnable.size()), current_runnable);
  }
  uint32_t NextValue(uint32_t n, DecisionKind) override {
    return Choose(std::min(n, kDataWidth), false);
  }

  void EndExecution(uint64_t) override {
    stack_.resize(std::min(stack_.size(), pos_));
    while (!stack_.empty()) {
      Node& top = stack_.back();
      bool adds_preemption = top.preemptive && top.value == 0;
      if (top.value + 1 < top.n && (!adds_preemption || PrefixPreemptions() + 1 <= bound_)) {
        ++top.value;
        return;
      }
      stack_.pop_back();
    }
    exhausted_ = true;
  }

  bool Exhausted() const override { return exhausted_; }

 private:
  struct Node {
    uint32_t value;
    uint32_t n;
    bool preemptive;  // a scheduling decision where the current thread could continue
  };

  uint32_t Choose(uint32_t n, bool preemptive) {
    if (pos_ < stack_.size()) {
      Node& node = stack_[pos_++];
      return node.n == n ? node.value : node.value % n;  // n differs only if a run diverged
    }
    stack_.push_back({0, n, preemptive});
    ++pos_;
    return 0;
  }

  // Preemptions taken by the decisions below the top of the stack.
  int PrefixPreemptions() const {
    int count = 0;
    for (std::size_t i = 0; i + 1 < stack_.size(); ++i) {
      if (stack_[i].preemptive && stack_[i].value != 0) ++count;
    }
    return count;
  }

  int bound_;
  std::vector<Node> stack_;
  std::size_t pos_ = 0;
  bool exhausted_ = false;
};

}  // namespace

std::unique_ptr<Strategy> MakeDfsStrategy(int preemption_bound) {
  return std::make_unique<DfsStrategy>(preemption_bound);
}

}  // namespace wsaf::sim
