// The online checker: makes the calls whose answers SPEC.md constrains, records each answer
// in the ledger, and judges it against the handle's record at once.
//
// Rules enforced as events arrive (SPEC.md section in brackets):
//   - a message is delivered at most once, never after a cancel answered 0, never after the
//     final cleanup returned, never from a destroyed window, to the request's window with its
//     wMsg [Lifecycle, Completion message];
//   - its error is one of the SPEC set, and when the request lived in a fault-free window
//     it is the one the zone implies; WSAENOBUFS exactly when the buffer is smaller than the
//     size needed, which is then reported [Completion message];
//   - a success decodes, every pointer inside [buf, buf + buflen), and no byte past buflen
//     (nor any byte of a failed request's buffer) changed [Completion message];
//   - cancel answers: 0 only for a request with no message yet and no earlier answer of
//     WSAEALREADY; WSAEALREADY while the message is queued; WSAEINVAL for 0, for handles never
//     issued, already canceled or from before the last full cleanup; the session checks
//     (WSANOTINITIALISED, WSAENETDOWN) before the handle [WSACancelAsyncRequest];
//   - a won cancel leaves the buffer untouched for good (re-checked after a grace period).
// Rules judged when a request settles or the run drains: no lost delivery, no unexplained
// WSAEINVAL for a request that was still pending.
//
// Thread safety: one Checker per thread (it carries the thread's id and statistics); the
// state it touches is the ledger's, under the ledger's locks.
#ifndef WSAFAULT_STRESS_CHECKER_H_
#define WSAFAULT_STRESS_CHECKER_H_

#include <string>

#include "run_state.h"

namespace wsaf::stress {

class Checker {
 public:
  Checker(RunState& run, int thread, ThreadStats& stats)
      : run_(run), thread_(static_cast<uint16_t>(thread)), stats_(stats) {}

  // A completion message (message in [kCompletionFirst, kCompletionLast]) removed by this
  // thread from a window.
  void OnMessage(const MSG& m, Via via);
  // PeekMessage PM_NOREMOVE showed the request's message.
  void OnSeenQueued(uint64_t handle);
  // Calls WSACancelAsyncRequest and judges the answer. `strict_queued`: the caller holds the
  // window's pump lock and saw the message queued, so nothing can have removed it. Returns 0
  // or the error.
  int Cancel(uint64_t handle, CancelMoment moment, bool strict_queued = false);
  // A start returned 0: judges the error for the current context. `expected` is the error
  // its arguments call for (0: the arguments were valid).
  void OnStartFailed(int error, int expected);

  // Settling, by the owner: a record it will no longer follow. Reports an unexplained
  // WSAEINVAL (the owner heard it while the request looked pending and nothing explains it).
  void JudgeSettled(Record* r);
  // The late buffer checks: the canary after a won cancel, the digest after a final cleanup.
  void CheckCanary(Record* r, const char* when);
  void CheckDigest(Record* r, uint64_t digest);

  void Violation(const std::string& what, uint64_t handle);
  void ViolationLocked(const std::string& what, const Record& r);
  uint16_t thread() const { return thread_; }

 private:
  struct Pre {
    bool known = false;
    bool canceled = false;
    int deliveries = 0;
    bool orphaned = false;
    bool swallowed = false;
    uint32_t session = 0;
    uint16_t owner = 0;
  };
  // Judges a cancel answer in context; returns the reason it is wrong ("" when allowed).
  std::string JudgeCancel(uint64_t handle, CancelMoment moment, bool strict_queued, const Pre& pre,
                          uint64_t pre_seq, int answer, Record* r, Context ctx);
  std::string JudgeCancelNormal(uint64_t handle, CancelMoment moment, bool strict_queued,
                                const Pre& pre, int answer);
  // Judges a message's error and buffer; returns the reason it is wrong ("" when fine).
  std::string JudgeMessage(Record& r, int error, int buflen);
  std::string JudgeStrict(Record& r, int error, int buflen);

  RunState& run_;
  uint16_t thread_;
  ThreadStats& stats_;
};

}  // namespace wsaf::stress

#endif  // WSAFAULT_STRESS_CHECKER_H_
