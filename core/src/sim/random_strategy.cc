// Uniform random walk: every decision uniform over its options, from a per-run seed.
#include "sim/strategy.h"

namespace wsaf::sim {

namespace {

class RandomStrategy : public Strategy {
 public:
  explicit RandomStrategy(uint64_t seed) : seed_(seed), prng_(seed) {}
  std::string name() const override { return "random"; }
  void NewExecution(uint64_t run) override { prng_.Seed(seed_ * 0x100000001B3ull + run); }
  uint32_t NextThread(const std::vector<int>& runnable, bool) override {
    return prng_.Below(static_cast<uint32_t>(runnable.size()));
  }
  uint32_t NextValue(uint32_t n, DecisionKind) override { return prng_.Below(n); }

 private:
  uint64_t seed_;
  Prng prng_;
};

}  // namespace

std::unique_ptr<Strategy> MakeRandomStrategy(uint64_t seed) {
  return std::make_unique<RandomStrategy>(seed);
}

}  // namespace wsaf::sim
