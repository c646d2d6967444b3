// What a run (or a campaign of runs) exercised: which API call met which model condition and
// answered with which outcome, which lifecycle transitions happened, which error codes the
// completion messages carried. The campaign merges these and renders them as a matrix; a
// cell that stays at zero is a rule of SPEC.md no run has tested.
//
// Thread safety: a plain value; merge copies from several threads under the caller's lock.
// Memory: fixed arrays (about 30 KB), no allocation until List()/ToText().
#ifndef WSAFAULT_CHECK_COVERAGE_H_
#define WSAFAULT_CHECK_COVERAGE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "check/reference_model.h"

namespace wsaf::check {

// Outcomes get a slot each in the matrix (0, FALSE, odd, the Winsock errors), plus "other".
inline constexpr int kOutcomeSlots = 20;
int OutcomeSlot(int outcome);
std::string OutcomeSlotName(int slot);

struct CoverageEntry {
  std::string category;  // "call", "transition" or "message-error"
  std::string a;         // call name / from state / error name
  std::string b;         // condition / to state / ""
  std::string c;         // outcome / "" / ""
  uint64_t count = 0;
};

struct Coverage {
  // invariant: counters saturate at UINT32_MAX rather than wrap.
  std::array<uint32_t, kApiCalls * kConditions * kOutcomeSlots> calls{};
  std::array<uint32_t, kModelStates * kModelStates> transitions{};
  std::array<uint32_t, kOutcomeSlots> message_errors{};
  uint64_t events = 0;         // events checked
  uint64_t calls_checked = 0;  // API calls judged against the model
  uint64_t messages = 0;       // completion messages checked

  void CountCall(ApiCall call, Condition condition, int outcome);
  void CountMessageError(int error);
  uint32_t CallCount(ApiCall call, Condition condition, int outcome) const;
  uint32_t TransitionCount(ModelState from, ModelState to) const;
  void Merge(const Coverage& other);

  // Every nonzero cell, calls first (in enum order), then transitions, then message errors.
  std::vector<CoverageEntry> List() const;
  // One line per entry: "call WSACancelAsyncRequest SEEN-QUEUED WSAEALREADY 12".
  std::string ToText() const;
  // Distinct nonzero cells of each kind.
  int DistinctCalls() const;
  int DistinctTransitions() const;
  int DistinctMessageErrors() const;
};

}  // namespace wsaf::check

#endif  // WSAFAULT_CHECK_COVERAGE_H_
