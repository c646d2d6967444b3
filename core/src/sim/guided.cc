// Coverage-guided simulation: greybox fuzzing of decision tapes, in process.
//
// Overview
//   The strategy keeps a corpus of tapes that reached a feature no earlier run had (feedback.h:
//   model call cells, lifecycle transitions, message errors, order pairs of two threads on one
//   slot, window or session, and preemption pairs of atomics), after the greybox fuzzer of
//   Wolff et al., "Greybox Fuzzing for Concurrency Testing" (ASPLOS 2024), whose feedback is
//   the reads-from pairs a run exercised. Each run either starts fresh (a random walk, one run
//   in eight, and every run until the corpus has an entry) or takes an entry and mutates it:
//   byte flips, nudges by one, insertion and deletion of decisions, splicing with another
//   entry's tail, truncation. The mutated bytes answer the run's decisions in order (the tape
//   encoding, strategy.h: any byte string is a tape) and, once they run out, a random walk
//   answers the rest, so a mutation near the start re-explores everything after it.
//   What the scheduler records is what the run did, so every run, mutated or not, replays from
//   its own tape and shrinks like any other (the corpus keeps those records, not the inputs).
//   Everything follows from the seed and the run index: the same stage repeats exactly.
//
// Thread safety: one strategy per scheduler, on one OS thread.
// Memory: the corpus is bounded (kMaxEntries tapes; past it a new entry replaces a random one).
#include <algorithm>

#include "sim/feedback.h"
#include "sim/runner.h"
#include "sim/strategy.h"

namespace wsaf::sim {

namespace {

constexpr std::size_t kMaxEntries = 4096;
constexpr uint32_t kFreshEvery = 8;      // one run in eight is a fresh random walk
constexpr std::size_t kRecentEntries = 32;

class GuidedStrategy : public Strategy, public RunObserver {
 public:
  explicit GuidedStrategy(uint64_t seed) : seed_(seed), prng_(seed) {}
  std::string name() const override { return "guided"; }

  void NewExecution(uint64_t run) override {
    prng_.Seed(seed_ * 0x2545F4914F6CDD1Dull + run);
    input_.clear();
    pos_ = 0;
    if (!corpus_.empty() && prng_.Below(kFreshEvery) != 0) Mutate();
    ObserveNextRun(this);
  }
  uint32_t NextThread(const std::vector<int>& runnable, bool) override {
    return Next(static_cast<uint32_t>(runnable.size()));
  }
  uint32_t NextValue(uint32_t n, DecisionKind) override { return Next(n); }

  void Observe(const RunResult& r) override {
    scratch_.clear();
    CollectFeatures(r, &scratch_);
    if (seen_.Add(scratch_) == 0) return;
    if (corpus_.size() < kMaxEntries) {
      corpus_.push_back(r.tape);
    } else {
      corpus_[prng_.Below(static_cast<uint32_t>(corpus_.size()))] = r.tape;
    }
  }

 private:
  uint32_t Next(uint32_t n) {
    if (pos_ < input_.size()) return Tape::Read(input_, &pos_, n);
    return prng_.Below(n);
  }

  const std::vector<uint8_t>& Pick() {
    uint32_t size = static_cast<uint32_t>(corpus_.size());
    if (size > kRecentEntries && prng_.Below(2) == 0) {
      return corpus_[size - kRecentEntries + prng_.Below(kRecentEntries)];
    }
    return corpus_[prng_.Below(size)];
  }

  void Mutate() {
    input_ = Pick();
    int rounds = 1 + static_cast<int>(prng_.Below(3));
    for (int i = 0; i < rounds; ++i) MutateOnce();
  }

  void MutateOnce() {
    uint32_t size = static_cast<uint32_t>(input_.size());
    uint32_t at = prng_.Below(size + 1);
    switch (prng_.Below(6)) {
      case 0:  // flip: a few decisions to any value
        for (uint32_t k = 1 + prng_.Below(4); k > 0 && size > 0; --k) {
          input_[prng_.Below(size)] = static_cast<uint8_t>(prng_.Next());
        }
        break;
      case 1:  // nudge one decision to a neighbouring option
        if (size > 0) input_[prng_.Below(size)] += prng_.Below(2) == 0 ? 1 : 255;
        break;
      case 2: {  // insert decisions
        uint32_t k = 1 + prng_.Below(8);
        std::vector<uint8_t> bytes(k);
        for (uint8_t& b : bytes) b = static_cast<uint8_t>(prng_.Below(4) == 0 ? prng_.Next() : prng_.Below(3));
        input_.insert(input_.begin() + at, bytes.begin(), bytes.end());
        break;
      }
      case 3: {  // delete decisions
        uint32_t k = std::min(size - std::min(at, size), 1 + prng_.Below(16));
        input_.erase(input_.begin() + at, input_.begin() + at + k);
        break;
      }
      case 4: {  // splice: this prefix, another entry's tail
        const std::vector<uint8_t>& other = Pick();
        uint32_t from = prng_.Below(static_cast<uint32_t>(other.size()) + 1);
        input_.resize(at);
        input_.insert(input_.end(), other.begin() + from, other.end());
        break;
      }
      default:  // cut: a random walk from here on
        input_.resize(at);
        break;
    }
  }

  uint64_t seed_;
  Prng prng_;
  std::vector<std::vector<uint8_t>> corpus_;
  FeatureSet seen_;
  std::vector<uint64_t> scratch_;
  std::vector<uint8_t> input_;  // this run's mutated tape
  std::size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<Strategy> MakeGuidedStrategy(uint64_t seed) { return std::make_unique<GuidedStrategy>(seed); }

}  // namespace wsaf::sim
