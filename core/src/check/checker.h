// Invariant checkers for one simulated run: the event log (sim/events.h) against the reference
// model of SPEC.md (check/reference_model.h), plus whole-run checks at quiescence.
//
// Overview
//   The scenario appends an event after each call returns and calls OnEvent(index) at once;
//   after the liveness phase (faults off, every message pumped) it calls AtEnd(). The first
//   broken rule becomes violation(); nothing is checked after it. Invariants, by name:
//     api-result            a return value / last error SPEC.md does not allow in the model state
//     handle-zero           a start returned NULL without an error, cancel(0) did not answer
//                           WSAEINVAL, or a completion message carries a NULL handle
//     handle-reused         a start returned a handle already issued (or known before it began)
//     stale-handle          a cancel of a finished, old or never-issued handle returned 0, or
//                           one that returned 0 for an unknown handle left a newer request lost
//     double-delivery       a request's message removed twice (or seen again after removal)
//     delivery-after-cancel a message for a request a cancel returned 0 for (in either order)
//     delivery-after-cleanup a message for a request the resolver began after the final
//                           WSACleanup of its session returned
//     delivery-after-destroy a message for a request whose window was gone (or NULL)
//     lost-delivery         at the end: a request neither canceled nor orphaned whose
//                           message was never removed (after a final cleanup: only one whose
//                           message had been seen queued before it)
//     buffer-write-after-cancel  the buffer of a request canceled with 0, or swallowed by the
//                           final cleanup, is not untouched
//     buffer-write-after-cleanup the buffer of a request of an ended session changed after the
//                           final WSACleanup returned (CheckerOptions::strict_cleanup_writes)
//     buffer-overrun        a guard byte of a request's buffer changed
//     message-content       wrong error or length for what the resolver answered, an
//                           undecodable result, bytes past the result written, a buffer written
//                           for WSAENOBUFS, or two observations of one message that differ
//     message-unknown       a completion message for a handle nobody issued or answered
//
// When checks run
//   Facts that hold in every interleaving (a handle returned twice, a message removed twice, a
//   canceled request's message, a changed guard byte) are checked as the event arrives. A call's
//   result depends on the state at the instant it took effect, somewhere between its thread's
//   previous event and its own; calls of other threads under way then may be logged later. So
//   these checks wait until every application thread has logged an event at or after this one
//   (or ended), and then accept the result if SPEC.md allows it at any instant the call may have
//   seen: the state when it began, then each overlapping event of another thread applied in log
//   order. OnEvent may therefore report an earlier event; Violation::event_index names it.
//
// Live memory
//   Buffer rules read Run::buffers when the event arrives. Call OnEvent before any other logical
//   thread runs (World::Log does), or those checks see later bytes.
//
// Thread safety: one Checker per run, used on the thread running it. Not copyable.
#ifndef WSAFAULT_CHECK_CHECKER_H_
#define WSAFAULT_CHECK_CHECKER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "check/coverage.h"
#include "check/reference_model.h"
#include "sim/events.h"

namespace wsaf::check {

inline constexpr char kInvApiResult[] = "api-result";
inline constexpr char kInvHandleZero[] = "handle-zero";
inline constexpr char kInvHandleReused[] = "handle-reused";
inline constexpr char kInvStaleHandle[] = "stale-handle";
inline constexpr char kInvDoubleDelivery[] = "double-delivery";
inline constexpr char kInvDeliveryAfterCancel[] = "delivery-after-cancel";
inline constexpr char kInvDeliveryAfterCleanup[] = "delivery-after-cleanup";
inline constexpr char kInvDeliveryAfterDestroy[] = "delivery-after-destroy";
inline constexpr char kInvLostDelivery[] = "lost-delivery";
inline constexpr char kInvBufferWriteAfterCancel[] = "buffer-write-after-cancel";
inline constexpr char kInvBufferWriteAfterCleanup[] = "buffer-write-after-cleanup";
inline constexpr char kInvBufferOverrun[] = "buffer-overrun";
inline constexpr char kInvMessageContent[] = "message-content";
inline constexpr char kInvMessageUnknown[] = "message-unknown";
// Every invariant name above, in that order.
const std::vector<std::string>& InvariantNames();

struct CheckerOptions {
  // SPEC.md: after the final WSACleanup returns, no byte of an outstanding request's buffer is
  // written, including a request the resolver was delivering while the cleanup ran. (Requests
  // the resolver had not begun are checked regardless, as buffer-write-after-cancel.)
  bool strict_cleanup_writes = true;
};

class Checker {
 public:
  explicit Checker(sim::Run* run, CheckerOptions options = CheckerOptions());
  Checker(const Checker&) = delete;
  Checker& operator=(const Checker&) = delete;

  // Checks run->events[index] as it is appended (and any earlier event not yet seen). Returns
  // false once a violation is known (possibly of an earlier event, see above).
  bool OnEvent(std::size_t index);
  // Whole-run checks at quiescence: runs the checks still waiting, then buffers and lost
  // deliveries. Call once, after the last event. Returns false on a violation.
  bool AtEnd();
  // Capacity hints for a run of about `events` events and `requests` requests.
  void Reserve(std::size_t events, std::size_t requests) { model_.Reserve(events, requests); }

  bool ok() const { return !failed_; }
  // Meaningful once OnEvent or AtEnd returned false.
  const sim::Violation& violation() const { return violation_; }
  Coverage coverage() const;
  const ReferenceModel& model() const { return model_; }

 private:
  // One instant a call may have observed: the session and which of its request's (or window's)
  // facts had happened, after log event `after` (kNever: before the log).
  struct Instant {
    GlobalState global;
    uint16_t mask = 0;
    std::size_t after = kNever;
  };
  // A fact or global event that may have taken effect during a call (Instants).
  struct Change {
    std::size_t index;  // kNever: under way (sorts last)
    uint16_t bits;
    bool global;
    std::size_t key;  // where it sorts: its log index, or earlier for a start's own effect
    std::size_t seq;  // order of addition, for ties
  };

  // As events arrive (checker.cc).
  void NoteThread(std::size_t index);
  void CheckOnArrival(std::size_t index);
  void CheckStartHandle(std::size_t index);
  void CheckCanceledFacts(std::size_t index);
  void CheckMessageFacts(std::size_t index);
  void CheckResolverEndFacts(std::size_t index);
  void SnapshotAtCleanup(std::size_t index, uint32_t epoch);

  // Deferred call checks (checker.cc).
  long long Horizon() const;
  void RunDeferred(long long horizon);
  void CheckDeferred(std::size_t index);
  void CheckCall(std::size_t index, ApiCall call);
  // The instants a call may have seen, in order; valid until the next call (a reused buffer).
  // `globals` false: the call's rule does not read the session (a pump), skip its changes.
  const std::vector<Instant>& Instants(std::size_t index, std::size_t from, const Request* r, int window,
                                       bool globals = true);
  std::size_t BlockingCallStart(std::size_t index) const;
  void BlockingContext(std::size_t index, std::size_t from, CallContext* ctx) const;
  bool BlockingCallDuring(std::size_t index, std::size_t from) const;
  bool OtherThreadFailedDuring(std::size_t index, std::size_t from) const;
  void SettleEpoch(std::size_t index, const std::vector<Instant>& instants);
  void ReportCall(std::size_t index, ApiCall call, int outcome, const OutcomeSet& allowed,
                  const std::vector<Instant>& instants, std::size_t from, const Request* r);

  // Messages and buffers (checker_delivery.cc).
  void CheckMessage(std::size_t index);
  void CheckContent(std::size_t index, Request& r);
  void CheckResultBytes(std::size_t index, const Request& r, int error, uint32_t len);
  void NetworkDuring(std::size_t begin, std::size_t limit, bool* down, bool* up) const;
  const sim::GuardedBuffer* ExclusiveBuffer(const Request& r) const;
  bool CheckGuards(std::size_t index, const Request& r);
  void CheckBuffersOf(std::size_t index, const Request& r);
  void CheckLostDeliveries();
  // A cancel that returned 0 for a handle no start returned, early enough to have hit `r`.
  std::size_t StrayCancelDuring(const Request& r) const;

  bool Fail(const char* invariant, std::size_t index, uint64_t handle, std::string detail);
  std::string Where(std::size_t index) const;  // "T1 WSACancelAsyncRequest(0x..) at #12"

  sim::Run* run_;
  CheckerOptions options_;
  ReferenceModel model_;
  Coverage coverage_;
  std::deque<std::size_t> pending_;   // invariant: increasing event indexes awaiting the horizon
  std::vector<long long> last_event_; // per application thread; -1 before its first event
  std::vector<bool> ended_;           // per application thread: kThreadEnd logged
  bool failed_ = false;
  sim::Violation violation_;
  std::vector<Change> changes_scratch_;   // Instants' working buffers, kept between calls
  std::vector<Instant> instants_scratch_;
};

}  // namespace wsaf::check

namespace wsaf::sim {
// The simulation names these unqualified.
using check::Checker;
using check::Coverage;
}  // namespace wsaf::sim

#endif  // WSAFAULT_CHECK_CHECKER_H_
