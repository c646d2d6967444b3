// Strategies: who decides each choice of a simulated run (shuttle's tiny interface).
//
// Every choice of a run — which logical thread runs next, which request the resolver answers
// and how, whether a fault fires, any random value the scenario needs — is one decision: a
// value in [0, n). The scheduler asks the strategy and records the answer on the decision tape,
// so any run, whatever strategy made it, replays from its tape (ReplayStrategy).
//
// Conventions that make tapes shrink well: value 0 is always the "quiet" choice — keep running
// the current thread (no preemption), no fault, the first option. A tape that runs out answers
// 0, so truncating a tape removes decisions from its end.
//
// Thread safety: a strategy belongs to one scheduler on one OS thread.
#ifndef WSAFAULT_SIM_STRATEGY_H_
#define WSAFAULT_SIM_STRATEGY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace wsaf::sim {

enum class DecisionKind : uint8_t { kSchedule, kData, kFault, kMemory };

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string name() const = 0;
  // Called before each run; `run` counts from 0.
  virtual void NewExecution(uint64_t run) = 0;
  // `runnable` holds thread ids, with the current thread first when it is runnable
  // (`current_runnable`). Returns an index into `runnable`.
  virtual uint32_t NextThread(const std::vector<int>& runnable, bool current_runnable) = 0;
  // A value in [0, n) for a data or fault decision (n >= 1).
  virtual uint32_t NextValue(uint32_t n, DecisionKind kind) = 0;
  // Called after each run with the number of scheduling decisions it took.
  virtual void EndExecution(uint64_t steps) { (void)steps; }
  // True when an exhaustive strategy has nothing left to explore.
  virtual bool Exhausted() const { return false; }
};

// SplitMix64: tiny, fast, and fully determined by its seed.
class Prng {
 public:
  explicit Prng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint32_t Below(uint32_t n) { return n <= 1 ? 0 : static_cast<uint32_t>(Next() % n); }
  void Seed(uint64_t s) { state_ = s; }

 private:
  uint64_t state_;
};

// Parses "random", "pos", "surw", "guided", "pct:D", "dfs:B" (B = preemption bound), "replay" is made by the runner.
// Returns null with a reason on a bad spec.
std::unique_ptr<Strategy> MakeStrategy(const std::string& spec, uint64_t seed, std::string* error);

std::unique_ptr<Strategy> MakeRandomStrategy(uint64_t seed);
std::unique_ptr<Strategy> MakePctStrategy(uint64_t seed, int depth);
std::unique_ptr<Strategy> MakeDfsStrategy(int preemption_bound);
std::unique_ptr<Strategy> MakePosStrategy(uint64_t seed);  // pos_strategy.cc
std::unique_ptr<Strategy> MakeSurwStrategy(uint64_t seed);  // surw_strategy.cc
// Coverage-guided: mutates a corpus of tapes that reached new features (guided.cc, feedback.h).
std::unique_ptr<Strategy> MakeGuidedStrategy(uint64_t seed);
// Answers from a recorded tape (see Tape), then 0 once it runs out.
std::unique_ptr<Strategy> MakeReplayStrategy(std::vector<uint8_t> tape);

// The decision tape's byte encoding: a decision with n options takes 1 byte when n <= 256,
// 2 when n <= 65536, else 4 (little endian); the value read is the stored number modulo n.
// Any byte string is a valid tape, which is what lets libFuzzer's input be one.
class Tape {
 public:
  static int Width(uint32_t n) { return n <= 256 ? 1 : (n <= 65536 ? 2 : 4); }
  // Inline for the one-byte case (nearly every decision: it runs twice per decision, for the
  // scheduler's tape and for the crash recorder's).
  static void Append(std::vector<uint8_t>* tape, uint32_t n, uint32_t value) {
    if (n <= 256) {
      tape->push_back(static_cast<uint8_t>(value));
      return;
    }
    AppendWide(tape, n, value);
  }
  static void AppendWide(std::vector<uint8_t>* tape, uint32_t n, uint32_t value);
  // Reads the next decision; 0 when the tape has run out.
  static uint32_t Read(const std::vector<uint8_t>& tape, std::size_t* pos, uint32_t n);
};

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_STRATEGY_H_
