// What a run (or a campaign of runs) exercised, measured against what SPEC.md allows.
//
// Overview
//   Coverage counts three tables: which API call met which model condition and answered with
//   which outcome (the Checker counts a call once its outcome matched an allowed one), which
//   lifecycle transitions requests took (the model counts them in log order), and which error
//   codes the completion messages carried, per request kind.
//   The denominator is not the product of the axes: AllowedCells() asks the reference model
//   itself. It runs AllowedOutcomes() over every context a call can meet (sessions, handle
//   views, windows, hooks), walks every order in which a request's facts can be logged
//   through the model's view rules, and lists the message errors SPEC.md names per kind.
//   Cells the model accepts only because it cannot tell which instant a call saw (a start
//   that overlapped a final cleanup, a blocking call's hidden request) are tolerances, not
//   rules, and stay out of the denominator. Cells SPEC.md allows that no scenario can reach
//   by design carry their reason (one table, coverage_space.cc). Summarize() turns counts
//   into hit / allowed per table and overall and lists every allowed cell never hit as an
//   untested rule with its SPEC.md section; the campaign report, its JSON and `wsafault sim`
//   print that.
//
// Thread safety: Coverage is a plain value; merge copies from several threads under the
//   caller's lock. AllowedCells() builds its table once (thread-safe static initialisation)
//   and returns it read-only.
// Memory: Coverage is fixed arrays (about 50 KB), no allocation until List()/ToText().
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
// RequestKind values 0..5 (table/task_table.h).
inline constexpr int kRequestKinds = 6;
const char* KindName(int kind);  // "GetHostByName", ...

struct CoverageEntry {
  std::string category;  // "call", "transition" or "message-error"
  std::string a;         // call name / from state / error name
  std::string b;         // condition / to state / request kind
  std::string c;         // outcome / "" / ""
  uint64_t count = 0;
};

// The call cells of a Coverage: [call][condition][outcome slot], 12,000 of them. A run reaches
// a few dozen, and every run's coverage is built, copied and merged (thousands a second, and
// under ASan every fresh 48 KiB array is page faults and shadow poisoning): so the cells are a
// short list of (cell, count) in the order first reached, until more than kSparseMax are
// reached; then they move to a dense array on the heap for good.
// invariant: dense_ is empty or holds kCells counters; when empty, the first n_ entries of
// cell_/count_ are the nonzero cells, each once.
class CallCells {
 public:
  static constexpr int kCells = kApiCalls * kConditions * kOutcomeSlots;
  static constexpr int kSparseMax = 128;
  static_assert(kCells <= 65536, "a sparse entry holds its cell index in 16 bits");

  uint32_t operator[](int cell) const;
  // Adds `by` to a cell, saturating at UINT32_MAX.
  void Add(int cell, uint64_t by);
  void Merge(const CallCells& other);
  // f(cell, count) for each nonzero cell: in the order first reached while sparse, else by index.
  template <typename F>
  void ForEachNonZero(F f) const {
    if (dense_.empty()) {
      for (int i = 0; i < n_; ++i) f(static_cast<int>(cell_[i]), count_[i]);
      return;
    }
    for (int i = 0; i < kCells; ++i) {
      if (dense_[i] != 0) f(i, dense_[i]);
    }
  }
  int NonZero() const;
  bool dense() const { return !dense_.empty(); }

 private:
  void MakeDense();

  std::array<uint16_t, kSparseMax> cell_{};
  std::array<uint32_t, kSparseMax> count_{};
  int n_ = 0;
  std::vector<uint32_t> dense_;
};

struct Coverage {
  // invariant: counters saturate at UINT32_MAX rather than wrap.
  CallCells calls;
  std::array<uint32_t, kModelStates * kModelStates> transitions{};
  std::array<uint32_t, kRequestKinds * kOutcomeSlots> message_errors{};  // [kind][slot]
  uint64_t events = 0;         // events checked
  uint64_t calls_checked = 0;  // API calls judged against the model
  uint64_t messages = 0;       // completion messages checked
  // Some run counted here had every atomic as a scheduling point (RunSettings::atomic_points).
  bool atomic_points = false;

  void CountCall(ApiCall call, Condition condition, int outcome);
  void CountMessageError(int kind, int error);
  uint32_t CallCount(ApiCall call, Condition condition, int outcome) const;
  uint32_t TransitionCount(ModelState from, ModelState to) const;
  uint32_t MessageErrorCount(int kind, int error) const;
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

// --- What SPEC.md allows ----------------------------------------------------------------------

enum class CellTable : uint8_t { kCall, kTransition, kMessageError };

// One cell SPEC.md allows. kCall: a = ApiCall, b = Condition, c = outcome slot; kTransition:
// a = from, b = to (ModelState); kMessageError: a = request kind, b = outcome slot.
struct AllowedCell {
  CellTable table = CellTable::kCall;
  int a = 0, b = 0, c = 0;
  const char* section = "";         // the SPEC.md section of the rule
  const char* unreachable = nullptr;  // why no scenario reaches it by design; nullptr: reachable
  // `unreachable` holds only when the named sites alone are scheduling points: in coverage of
  // runs with every atomic a point (Coverage::atomic_points) the cell is reachable.
  bool sites_only = false;
};
// Whether no run that `c` counts can reach the cell by design.
bool UnreachableIn(const AllowedCell& cell, const Coverage& c);
// Every allowed cell, calls (in enum order), then transitions, then message errors.
const std::vector<AllowedCell>& AllowedCells();
uint32_t CountOf(const Coverage& c, const AllowedCell& cell);
// "WSACancelAsyncRequest / QUEUED / WSAEALREADY", "OUTSTANDING -> CANCELED",
// "GetServByName message WSANO_DATA".
std::string CellName(const AllowedCell& cell);
// The table a cell is reported in: the call's name, "lifecycle transitions", or
// "message errors: <kind>".
std::string TableName(const AllowedCell& cell);

struct TableFigures {
  std::string name;
  int hit = 0;         // allowed cells with a nonzero count
  int allowed = 0;     // allowed cells, unreachable ones included
  int unreachable = 0; // of those, unreachable by design
  uint64_t calls = 0;  // total count over the table's cells
};

struct CoverageReport {
  std::vector<TableFigures> tables;  // one per call, "lifecycle transitions", one per kind
  TableFigures calls, transitions, messages, overall;
  std::vector<const AllowedCell*> untested;     // reachable, allowed, never hit
  std::vector<const AllowedCell*> unreachable;  // allowed, unreachable by design
  // Of those, the ones a run hit anyway: their reason no longer holds (a new scheduling point,
  // say) and the table in coverage_space.cc needs that entry removed.
  std::vector<const AllowedCell*> unreachable_hit;
  // Hit cells outside the allowed set: tolerances of the model (see the overview) and error
  // codes a simulated fault put in a message SPEC.md does not name for that kind.
  std::vector<CoverageEntry> outside;
  // Every reachable allowed cell was hit.
  bool complete() const { return untested.empty(); }
};
CoverageReport Summarize(const Coverage& c);

// "coverage against SPEC.md: 211 of 220 allowed cells hit (calls 150/155, transitions 31/33,
//  message errors 30/32); 3 unreachable by design, 6 untested"
std::string CoverageSummaryLine(const CoverageReport& r);
// Up to `max` untested rules, one per line: "  untested: <cell>  (SPEC.md: <section>)", then
// the unreachable cells that were hit and the hits outside the allowed set.
std::string UntestedRulesText(const CoverageReport& r, std::size_t max);
// Hit / allowed of every table, on lines of about `width` characters:
// "  WSAStartup 5/5, WSACleanup 3/3, ...".
std::string TableFiguresText(const CoverageReport& r, std::size_t width);
// The report as a JSON object: totals, per-table figures, untested and unreachable cells.
std::string CoverageReportJson(const CoverageReport& r);

}  // namespace wsaf::check

#endif  // WSAFAULT_CHECK_COVERAGE_H_
