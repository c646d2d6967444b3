#include "check/coverage.h"

#include <algorithm>
#include <limits>

#include "check/names.h"
#include "table/task_table.h"

namespace wsaf::check {

namespace {

// Slot order: what the matrix shows left to right.
constexpr std::array<int, kOutcomeSlots - 1> kSlotOutcomes = {
    0,           kOutcomeFalse,     kOutcomeOdd,   WSAEINTR,       WSAEFAULT,
    WSAEINVAL,   WSAEWOULDBLOCK,    WSAEINPROGRESS, WSAEALREADY,   WSAEOPNOTSUPP,
    WSAEAFNOSUPPORT, WSAENETDOWN,   WSAENOBUFS,    WSAVERNOTSUPPORTED, WSANOTINITIALISED,
    WSAHOST_NOT_FOUND, WSATRY_AGAIN, WSANO_RECOVERY, WSANO_DATA,
};
constexpr int kOtherSlot = kOutcomeSlots - 1;

void Bump(uint32_t* counter, uint64_t by) {
  uint64_t sum = *counter + by;
  *counter = sum > std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                        : static_cast<uint32_t>(sum);
}

int CallCell(ApiCall call, Condition condition, int outcome) {
  return (static_cast<int>(call) * kConditions + static_cast<int>(condition)) * kOutcomeSlots +
         OutcomeSlot(outcome);
}

template <std::size_t N>
int NonZero(const std::array<uint32_t, N>& a) {
  int n = 0;
  for (uint32_t v : a) n += v != 0;
  return n;
}

}  // namespace

int OutcomeSlot(int outcome) {
  for (int i = 0; i < kOtherSlot; ++i) {
    if (kSlotOutcomes[i] == outcome) return i;
  }
  return kOtherSlot;
}

const char* KindName(int kind) {
  if (kind < 0 || kind >= kRequestKinds) return "?";
  return RequestKindName(static_cast<RequestKind>(kind));
}

std::string OutcomeSlotName(int slot) {
  if (slot < 0 || slot >= kOtherSlot) return "other";
  return OutcomeName(kSlotOutcomes[slot]);
}

uint32_t CallCells::operator[](int cell) const {
  if (!dense_.empty()) return dense_[cell];
  for (int i = 0; i < n_; ++i) {
    if (cell_[i] == cell) return count_[i];
  }
  return 0;
}

void CallCells::Add(int cell, uint64_t by) {
  if (by == 0) return;
  if (dense_.empty()) {
    for (int i = 0; i < n_; ++i) {
      if (cell_[i] == cell) {
        Bump(&count_[i], by);
        return;
      }
    }
    if (n_ < kSparseMax) {
      cell_[n_] = static_cast<uint16_t>(cell);
      count_[n_] = 0;
      Bump(&count_[n_], by);
      ++n_;
      return;
    }
    MakeDense();
  }
  Bump(&dense_[cell], by);
}

void CallCells::MakeDense() {
  dense_.assign(kCells, 0);
  for (int i = 0; i < n_; ++i) dense_[cell_[i]] = count_[i];
  n_ = 0;
}

void CallCells::Merge(const CallCells& other) {
  if (other.dense_.empty()) {
    for (int i = 0; i < other.n_; ++i) Add(other.cell_[i], other.count_[i]);
    return;
  }
  if (dense_.empty()) MakeDense();
  // Two dense tables: a saturating add the compiler vectorises beats a branch per cell.
  for (int i = 0; i < kCells; ++i) {
    uint64_t sum = uint64_t{dense_[i]} + other.dense_[i];
    dense_[i] = static_cast<uint32_t>(std::min<uint64_t>(sum, std::numeric_limits<uint32_t>::max()));
  }
}

int CallCells::NonZero() const {
  int n = 0;
  ForEachNonZero([&n](int, uint32_t) { ++n; });
  return n;
}

void Coverage::CountCall(ApiCall call, Condition condition, int outcome) {
  if (call == ApiCall::kCount || condition == Condition::kCount) return;
  calls.Add(CallCell(call, condition, outcome), 1);
  ++calls_checked;
}

void Coverage::CountMessageError(int kind, int error) {
  // A request the model knows no kind of is a blocking call's own: a host lookup.
  if (kind < 0 || kind >= kRequestKinds) kind = static_cast<int>(RequestKind::kHostByName);
  Bump(&message_errors[kind * kOutcomeSlots + OutcomeSlot(error)], 1);
  ++messages;
}

uint32_t Coverage::MessageErrorCount(int kind, int error) const {
  if (kind < 0 || kind >= kRequestKinds) return 0;
  return message_errors[kind * kOutcomeSlots + OutcomeSlot(error)];
}

uint32_t Coverage::CallCount(ApiCall call, Condition condition, int outcome) const {
  return calls[CallCell(call, condition, outcome)];
}

uint32_t Coverage::TransitionCount(ModelState from, ModelState to) const {
  return transitions[static_cast<int>(from) * kModelStates + static_cast<int>(to)];
}

namespace {
template <std::size_t N>
void MergeCells(std::array<uint32_t, N>* into, const std::array<uint32_t, N>& from) {
  for (std::size_t i = 0; i < N; ++i) {
    uint64_t sum = uint64_t{(*into)[i]} + from[i];
    (*into)[i] = static_cast<uint32_t>(std::min<uint64_t>(sum, std::numeric_limits<uint32_t>::max()));
  }
}
}  // namespace

void Coverage::Merge(const Coverage& other) {
  calls.Merge(other.calls);
  MergeCells(&transitions, other.transitions);
  MergeCells(&message_errors, other.message_errors);
  events += other.events;
  calls_checked += other.calls_checked;
  messages += other.messages;
  atomic_points |= other.atomic_points;
}

std::vector<CoverageEntry> Coverage::List() const {
  std::vector<CoverageEntry> out;
  for (int call = 0; call < kApiCalls; ++call) {
    for (int cond = 0; cond < kConditions; ++cond) {
      for (int slot = 0; slot < kOutcomeSlots; ++slot) {
        uint32_t n = calls[(call * kConditions + cond) * kOutcomeSlots + slot];
        if (n == 0) continue;
        out.push_back({"call", ApiCallName(static_cast<ApiCall>(call)),
                       ConditionName(static_cast<Condition>(cond)), OutcomeSlotName(slot), n});
      }
    }
  }
  for (int from = 0; from < kModelStates; ++from) {
    for (int to = 0; to < kModelStates; ++to) {
      uint32_t n = transitions[from * kModelStates + to];
      if (n == 0) continue;
      out.push_back({"transition", ModelStateName(static_cast<ModelState>(from)),
                     ModelStateName(static_cast<ModelState>(to)), "", n});
    }
  }
  for (int kind = 0; kind < kRequestKinds; ++kind) {
    for (int slot = 0; slot < kOutcomeSlots; ++slot) {
      uint32_t n = message_errors[kind * kOutcomeSlots + slot];
      if (n != 0) out.push_back({"message-error", OutcomeSlotName(slot), KindName(kind), "", n});
    }
  }
  return out;
}

std::string Coverage::ToText() const {
  std::string s;
  for (const CoverageEntry& e : List()) {
    s += e.category + " " + e.a;
    if (!e.b.empty()) s += " " + e.b;
    if (!e.c.empty()) s += " " + e.c;
    s += " " + std::to_string(e.count) + "\n";
  }
  return s;
}

int Coverage::DistinctCalls() const { return calls.NonZero(); }
int Coverage::DistinctTransitions() const { return NonZero(transitions); }
int Coverage::DistinctMessageErrors() const { return NonZero(message_errors); }

}  // namespace wsaf::check
