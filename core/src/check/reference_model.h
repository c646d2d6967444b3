// The reference model: SPEC.md as a small sequential state machine, read off the event log of
// one simulated run (sim/events.h).
//
// Overview
//   Observe() ingests the log in order. The model keeps, per handle, the log index of each
//   lifecycle fact (started, resolver began, resolver returned, a cancel returned 0, message
//   seen by PM_NOREMOVE, message removed), per window its creation and destruction, and the
//   session (refcount, epoch = final cleanups so far, negotiated version, network). A request's
//   state is a function of which facts have happened:
//
//     UNISSUED --start--> OUTSTANDING --resolver begins--> RESOLVING --resolver returns--> QUEUED
//                             |                                |                            |
//                             +-------- cancel returns 0 ------+--> CANCELED     PM_NOREMOVE peek
//                                                                                           v
//                                                  DELIVERED <--message removed-- SEEN-QUEUED
//
//   QUEUED means the resolver returned having committed: its message is queued, or waits in
//   the window's overflow until a pump makes room (the final cleanup or the window's
//   destruction may then drop it silently). SEEN-QUEUED is known to sit in the queue.
//   Three overlays: SWALLOWED (its session's final cleanup returned before the resolver
//   began: no message, no buffer write, ever), STALE (its session ended otherwise: cancel
//   answers WSAEINVAL), ORPHANED (its window was destroyed, or it had none: it completes
//   silently). AllowedOutcomes() says, for a call made in a given state, which results
//   SPEC.md permits, in SPEC's order (not initialised, network down, in progress, ...).
//
// Calls overlap: an event is logged when its call returns, and the call took effect somewhere
//   between the thread's previous event and this one (IntervalStart()). The model itself is
//   sequential; the Checker decides which instants a call may have seen and asks the model
//   about each (checker.h).
//
// Thread safety: none needed; one run is checked on the thread that runs it.
#ifndef WSAFAULT_CHECK_REFERENCE_MODEL_H_
#define WSAFAULT_CHECK_REFERENCE_MODEL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/events.h"
#include "wsafault/winsock_async.h"

namespace wsaf::check {

// The scenario's message numbers: completions, and the application's own messages.
inline constexpr UINT kCompletionMsg = WM_USER + 1;
inline constexpr UINT kApplicationMsg = WM_USER + 2;
inline constexpr std::size_t kNever = static_cast<std::size_t>(-1);

// --- Outcomes -------------------------------------------------------------------------------
// What a call reported, as one int: 0 success (a handle, TRUE, 0), a Winsock error code, or:
inline constexpr int kOutcomeFalse = -1;  // FALSE / NULL / 0 handle with no error to tell
inline constexpr int kOutcomeOdd = -2;    // a return value the API never gives (e.g. cancel 7)
// "OK", "FALSE", "odd return", or the error's name.
std::string OutcomeName(int outcome);

// A small set of outcomes (never more than a dozen are allowed at once).
class OutcomeSet {
 public:
  OutcomeSet() = default;
  OutcomeSet(std::initializer_list<int> outcomes);
  void Add(int outcome);
  void Merge(const OutcomeSet& other);
  bool Contains(int outcome) const;
  bool empty() const { return size_ == 0; }
  int size() const { return size_; }
  int at(int i) const { return items_[i]; }
  std::string ToString() const;  // "OK | WSAEALREADY"

 private:
  std::array<int, 16> items_{};
  int size_ = 0;
};

// --- States, calls, conditions ----------------------------------------------------------------
enum class ModelState : uint8_t {
  kUnissued,
  kOutstanding,
  kResolving,
  kQueued,
  kSeenQueued,
  kDelivered,
  kCanceled,
  kSwallowed,
  kOrphaned,
  kStale,
  kCount
};
const char* ModelStateName(ModelState s);
inline constexpr int kModelStates = static_cast<int>(ModelState::kCount);

// The calls the model judges (an event type, refined by HookOp for kHookCall).
enum class ApiCall : uint8_t {
  kStartup,
  kCleanup,
  kAsyncStart,
  kCancel,
  kDestroyWindow,
  kPostMessage,
  kBlockingCall,
  kCancelBlockingCall,  // from the hook (kHookCancel)
  kHookAsyncStart,
  kHookAsyncCancel,
  kHookStartup,
  kHookCleanup,
  kHookIsBlocking,
  kHookSetHook,
  kHookUnhook,
  kHookBlockingCall,
  // Outside any blocking call (EventType::kBlockingApi):
  kSetBlockingHook,
  kUnhookBlockingHook,
  kIsBlocking,
  kCancelBlockingCallIdle,  // WSACancelBlockingCall with no blocking call under way
  kPeekMessage,             // PM_REMOVE
  kPeekNoRemove,            // PM_NOREMOVE
  kGetMessage,
  kLastError,               // WSASetLastError, other threads run, WSAGetLastError
  kCount  // not a call the model judges
};
const char* ApiCallName(ApiCall c);
inline constexpr int kApiCalls = static_cast<int>(ApiCall::kCount);
ApiCall ApiCallOf(const sim::Event& e);
// The outcome `e` reports for `call` (see kOutcome*).
int OutcomeOf(ApiCall call, const sim::Event& e);

// What decided a call's answer: the coverage matrix's middle axis.
enum class Condition : uint8_t {
  kNotInitialised,   // refcount 0 (or: first startup)
  kNetworkDown,
  kInHook,           // the call came from a blocking hook
  kBadArguments,
  kReady,            // a start or nested startup/cleanup that may succeed
  kLastReference,    // the final cleanup
  kSession2x,        // a 1.1-only call in a 2.x session
  kWindowAlive,
  kWindowGone,
  kZeroHandle,
  kNeverIssued,
  kInternal,         // unused: a blocking call's own handle is judged as never issued
  kOutstanding,
  kResolving,
  kQueued,
  kSeenQueued,
  kDelivered,
  kCanceled,
  kSwallowed,
  kOrphaned,
  kStale,
  kBlockingCanceled, // the blocking call whose hook called WSACancelBlockingCall
  kFiltered,         // PeekMessage / GetMessage on a live window with a message filter
  kAnyWindow,        // PeekMessage with a NULL hwnd: every window
  kOtherThreadFailed, // last error: another thread's call failed while this one waited
  kCount
};
const char* ConditionName(Condition c);
inline constexpr int kConditions = static_cast<int>(Condition::kCount);
Condition ConditionOf(ModelState s);

struct Allowed {
  OutcomeSet outcomes;
  Condition condition = Condition::kReady;
  // The SPEC.md section the rule comes from ("WSACancelAsyncRequest(h)", ...), for reports.
  const char* section = "";
};

// --- Session ----------------------------------------------------------------------------
struct GlobalState {
  uint32_t refs = 0;   // WSAStartup minus WSACleanup
  uint32_t epoch = 0;  // final cleanups so far; a request belongs to the epoch it started in
  bool v11 = false;    // the session negotiated 1.1: blocking hooks work
  bool network_down = false;
};
std::string DescribeGlobal(const GlobalState& g);  // "refs 1, epoch 0, 2.2, network up"

// --- Requests ----------------------------------------------------------------------------
// Fact bits: which lifecycle facts of a request a view takes as happened.
enum FactBit : uint16_t {
  kFactStarted = 1 << 0,
  kFactBegun = 1 << 1,
  kFactResolved = 1 << 2,
  kFactCanceled = 1 << 3,
  kFactSeen = 1 << 4,
  kFactRemoved = 1 << 5,
  kFactWindowGone = 1 << 6,
  kFactSessionEnded = 1 << 7,
};

// When a fact took effect: logged at `index` (kNever: not logged yet), but possibly as early as
// `from` (the start of the call that logged it). index kNever with from set: under way.
struct FactTime {
  uint16_t bit = 0;
  std::size_t index = kNever;
  std::size_t from = kNever;
};

struct HandleView {
  ModelState lifecycle = ModelState::kUnissued;  // UNISSUED..DELIVERED, or CANCELED
  bool stale = false;        // the session it started in has ended
  bool swallowed = false;    // ... and the resolver had not begun when that cleanup returned
  bool window_gone = false;  // destroyed, never created, or NULL
  bool epoch_certain = true; // false: the start overlapped a final cleanup and a new startup
  ModelState Collapsed() const;
};
// "SEEN-QUEUED", "QUEUED, window destroyed", "DELIVERED, session ended", ...
std::string DescribeView(const HandleView& v);

struct Request {
  uint64_t handle = 0;
  // invariant: app == (a kStart returned this handle); otherwise only the resolver or a pump saw
  // it (a blocking call's own request, a start refused after publishing, or a bogus message).
  bool app = false;
  std::size_t start = kNever;      // the kStart event
  std::size_t first_fact = kNever; // the first start, message or resolver event naming it
  std::size_t begin = kNever;      // first kResolverBegin
  std::size_t end = kNever;        // first kResolverEnd
  std::size_t cancel_ok = kNever;  // first cancel that returned 0
  std::size_t seen = kNever;       // first PM_NOREMOVE observation of its message
  std::size_t removed = kNever;    // first removal of its message
  int resolutions = 0;
  int cancels_ok = 0;
  int removals = 0;
  int thread = -1;
  int kind = -1;
  int window = -1;
  int buffer = -1;
  int buflen = 0;
  sim::AnswerRecord answer;
  uint32_t epoch = 0;  // provisional at Observe; the Checker settles it (epoch_certain)
  bool epoch_certain = true;
  ModelState last_state = ModelState::kUnissued;  // for transition counts
  int64_t lparam = 0;  // the first observed message's lParam (the Checker fills it)
  bool has_lparam = false;
  // The buffer when the final cleanup of its session returned (SPEC: no write after that).
  std::vector<unsigned char> cleanup_snapshot;
  bool has_snapshot = false;
};
// "0x400001 (GetHostByName by T0 at #3, window 0, buffer 2 len 1024)"
std::string DescribeRequest(const sim::Run& run, const Request& r);

// What AllowedOutcomes() needs to know about the instant a call took effect.
struct CallContext {
  GlobalState global;
  const Request* request = nullptr;  // cancel: the handle's request, if any
  HandleView view;                   // cancel: its state
  bool window_alive = true;          // destroy / post
  bool blocking_canceled = false;    // blocking call: its hook's WSACancelBlockingCall returned 0
  bool completion_possible = true;   // blocking call: its answer may have arrived anyway
  // cancel: a blocking call of another thread was under way, and its own request (which no
  // event names until the resolver answers it) may be the handle.
  bool hidden_request_possible = false;
  // last error: another application thread logged a failing call while this one waited.
  bool other_thread_failed = false;
};

// The outcomes SPEC.md allows for `call` (logged as `e`) in context `c`. The coverage report
// enumerates this function over every context to learn which cells SPEC.md allows
// (check/coverage.h): a rule added here is counted there without further change.
Allowed AllowedOutcomes(ApiCall call, const sim::Event& e, const CallContext& c);

class ReferenceModel {
 public:
  explicit ReferenceModel(const sim::Run* run);
  // Room for a run of about `events` events and `requests` requests (no effect on results:
  // a fuzzer's thousands of runs a second would otherwise regrow every vector).
  void Reserve(std::size_t events, std::size_t requests);

  // Ingests run->events[index]; call once per event, in log order.
  void Observe(std::size_t index);
  std::size_t observed() const { return globals_.size(); }

  // The first log position at which event `index` may have taken effect.
  std::size_t IntervalStart(std::size_t index) const { return interval_start_[index]; }
  // The session after events [0, index) / [0, index].
  GlobalState GlobalBefore(std::size_t index) const;
  const GlobalState& GlobalAfter(std::size_t index) const { return globals_[index]; }
  // Startup, cleanup and network events, in log order.
  const std::vector<std::size_t>& global_events() const { return global_events_; }
  // `g` after `e`; *ended_epoch is set when `e` was the final cleanup.
  static GlobalState ApplyGlobal(GlobalState g, const sim::Event& e, bool* ended_epoch);

  Request* Find(uint64_t handle);
  const Request* Find(uint64_t handle) const;
  std::vector<Request>& requests() { return requests_; }
  const std::vector<Request>& requests() const { return requests_; }

  std::size_t WindowCreated(int window) const;    // kNever: never created
  std::size_t WindowDestroyed(int window) const;  // kNever: alive (or never created)
  std::size_t EpochEnd(uint32_t epoch) const;     // the final cleanup that ended it, or kNever
  // True when more than one successful start used buffer `buffer` (then its bytes belong to
  // whichever wrote last, and the per-request buffer rules cannot be checked).
  bool BufferShared(int buffer) const;

  // The request's facts with their times (kFactWindowGone and kFactSessionEnded included).
  int FactsOf(const Request& r, FactTime out[8]) const;
  // Which facts were logged at or before `index`.
  uint16_t MaskAt(const Request& r, std::size_t index) const;
  HandleView ViewOf(const Request& r, uint16_t mask) const;
  // The view rules alone: `mask` of facts, and whether the resolver began before the final
  // cleanup of the request's session (a stale request is swallowed otherwise). The coverage
  // report walks these to learn which transitions the model can take.
  static HandleView ViewFromFacts(uint16_t mask, bool app, bool begun_before_end);
  HandleView ViewAt(const Request& r, std::size_t index) const { return ViewOf(r, MaskAt(r, index)); }

  // Lifecycle transitions seen in log order: [from * kModelStates + to].
  const std::array<uint32_t, kModelStates * kModelStates>& transitions() const {
    return transitions_;
  }

 private:
  struct WindowFacts {
    std::size_t created = kNever;
    std::size_t destroyed = kNever;
  };

  Request& FindOrAdd(uint64_t handle);
  // As FindOrAdd, noting `index` as the first event that named the handle (a cancel does not).
  Request& FindOrAddSeen(uint64_t handle, std::size_t index);
  void ObserveStart(std::size_t index, const sim::Event& e);
  void ObserveMessage(std::size_t index, const sim::Event& e);
  void ObserveResolver(std::size_t index, const sim::Event& e);
  void CountTransition(Request& r, std::size_t index);
  void CountTransitionsAll(std::size_t index);

  const sim::Run* run_;
  std::vector<GlobalState> globals_;          // invariant: globals_[i] = session after event i
  std::vector<std::size_t> interval_start_;   // invariant: same length as globals_
  std::vector<std::size_t> global_events_;
  std::vector<long long> last_event_;         // per logical thread, -1 before its first
  std::size_t open_begin_ = kNever;           // the resolver's delivery under way
  std::vector<Request> requests_;
  std::unordered_map<uint64_t, std::size_t> by_handle_;
  std::vector<WindowFacts> windows_;
  std::vector<std::size_t> epoch_end_;
  std::vector<int> buffer_owners_;
  std::array<uint32_t, kModelStates * kModelStates> transitions_{};
};

}  // namespace wsaf::check

#endif  // WSAFAULT_CHECK_REFERENCE_MODEL_H_
