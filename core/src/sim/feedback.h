// Feedback from a simulated run: what it reached, as a set of features a coverage-guided
// strategy (guided.h) and the strategy comparison count.
//
// Overview
//   A run's features are of five classes: the allowed-or-not call cells of the model's coverage
//   (call x condition x outcome), its lifecycle transitions (from -> to), its message errors per
//   kind, its order pairs and its preemption pairs. An order pair is the reads-from pair of
//   Wolff et al. ("Greybox Fuzzing for Concurrency Testing", ASPLOS 2024) at the granularity the
//   event log sees: when two threads touch the same object one after the other (the same
//   request slot, the same window, the session), the pair (first thread's site, second thread's
//   site), a site being the event type, the request kind and whether the resolver thread made
//   it. A preemption pair is the same question for atomics, seen from the scheduler's
//   preemption record: the operation a thread was stopped before, and the operation the thread
//   that ran instead stopped before when it was switched away in turn (its own accesses ran
//   first). The scheduler does not yet say which object an atomic touched (see the report of
//   issue 14): a preemption pair names two code locations, not one shared location.
//   Features are 64-bit keys: the class in the top byte, an index or a hash below.
//
//   Runner to strategy: RunOnce() hands every run's result to the observer a strategy
//   registered in its NewExecution (ObserveNextRun), so strategies wrapped by others (the crash
//   recorder) still get their feedback without the wrappers knowing.
//
// Thread safety: the observer slot is per OS thread (one simulation per thread); FeatureSet is
//   a plain value.
#ifndef WSAFAULT_SIM_FEEDBACK_H_
#define WSAFAULT_SIM_FEEDBACK_H_

#include <cstdint>
#include <unordered_set>
#include <vector>

namespace wsaf::sim {

struct RunResult;

enum class FeatureClass : uint8_t { kCall = 1, kTransition, kMessageError, kOrderPair, kPreemptionPair, kCount };
inline FeatureClass ClassOf(uint64_t feature) { return static_cast<FeatureClass>(feature >> 56); }

// Appends the run's features (duplicates possible).
void CollectFeatures(const RunResult& r, std::vector<uint64_t>* out);

// The features seen so far, with a count per class.
class FeatureSet {
 public:
  // Returns how many of `features` were new.
  int Add(const std::vector<uint64_t>& features);
  int count(FeatureClass c) const { return counts_[static_cast<int>(c)]; }
  std::size_t size() const { return seen_.size(); }

 private:
  std::unordered_set<uint64_t> seen_;
  int counts_[static_cast<int>(FeatureClass::kCount)] = {};
};

class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void Observe(const RunResult& result) = 0;
};
// A strategy calls this from NewExecution to see the result of the run it is about to make.
void ObserveNextRun(RunObserver* observer);
// True between ObserveNextRun and DeliverRunFeedback: the run's result will be looked at
// whole (the runner keeps its preemption record only then, or for a replay).
bool RunIsObserved();
// The runner calls this after each RunOnce; it clears the registration.
void DeliverRunFeedback(const RunResult& result);

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_FEEDBACK_H_
