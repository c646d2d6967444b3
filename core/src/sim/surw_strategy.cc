// SURW: selectively uniform random walk (Zhao, Wolff, Mathur and Roychoudhury, "Selectively
// Uniform Concurrency Testing", ASPLOS 2025; shuttle ships it as its URW scheduler).
//
// A uniform random walk over runnable threads (random_strategy.cc) is far from uniform over
// interleavings: a thread with few steps left is as likely to run next as one with many, so
// schedules where the long thread runs late are rare. URW picks each thread with probability
// proportional to the events it has left, which samples interleavings uniformly when the counts
// are exact; SURW counts only the "interesting" events, so the walk is uniform over the
// interleavings of those. Counts are estimated from earlier runs: here the first run of the
// strategy is a plain random walk, and every later run estimates each thread's events as the
// count of its previous run (threads keep their ids from run to run within a scenario).
// Selection: the strategy sees thread ids, not the objects their next steps touch, so an
// interesting event is a contended choice (two or more threads runnable); steps where one
// thread alone can run are not interleavings and are not counted. Data and fault decisions are
// uniform, as in the random walk.
#include <algorithm>

#include "sim/strategy.h"

namespace wsaf::sim {

namespace {

class SurwStrategy : public Strategy {
 public:
  explicit SurwStrategy(uint64_t seed) : seed_(seed), prng_(seed) {}
  std::string name() const override { return "surw"; }
  void NewExecution(uint64_t run) override {
    prng_.Seed(seed_ * 0xD1B54A32D192ED03ull + run);
    if (!executed_.empty()) {
      estimate_ = executed_;  // what the last run did is the estimate for this one
      estimated_ = true;
    }
    std::fill(executed_.begin(), executed_.end(), 0);
  }
  uint32_t NextThread(const std::vector<int>& runnable, bool) override {
    uint32_t n = static_cast<uint32_t>(runnable.size());
    if (n <= 1) return 0;
    uint32_t pick = 0;
    if (!estimated_) {
      pick = prng_.Below(n);
    } else {
      uint64_t total = 0;
      weights_.resize(n);
      for (uint32_t i = 0; i < n; ++i) total += weights_[i] = Remaining(runnable[i]);
      uint64_t r = prng_.Next() % total;
      while (r >= weights_[pick]) r -= weights_[pick++];
    }
    int t = runnable[pick];
    if (static_cast<std::size_t>(t) >= executed_.size()) executed_.resize(t + 1, 0);
    ++executed_[t];
    return pick;
  }
  uint32_t NextValue(uint32_t n, DecisionKind) override { return prng_.Below(n); }

 private:
  // At least 1: a thread past its estimate is still runnable, so it has an event left.
  uint64_t Remaining(int thread) const {
    uint64_t est = static_cast<std::size_t>(thread) < estimate_.size() ? estimate_[thread] : 0;
    uint64_t done = static_cast<std::size_t>(thread) < executed_.size() ? executed_[thread] : 0;
    return est > done ? est - done : 1;
  }

  uint64_t seed_;
  Prng prng_;
  bool estimated_ = false;
  std::vector<uint64_t> estimate_;  // per thread: contended choices it won in the last run
  std::vector<uint64_t> executed_;  // per thread: contended choices it won in this run
  std::vector<uint64_t> weights_;
};

}  // namespace

std::unique_ptr<Strategy> MakeSurwStrategy(uint64_t seed) { return std::make_unique<SurwStrategy>(seed); }

}  // namespace wsaf::sim
