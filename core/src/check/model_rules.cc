// The rules of the reference model: which outcomes SPEC.md allows for each call in each state,
// and the names the reports use for states, calls and conditions.
#include <string>

#include "check/names.h"
#include "check/reference_model.h"
#include "table/task_table.h"

namespace wsaf::check {

using sim::Event;
using sim::EventType;
using sim::HookOp;

// --- Outcomes ------------------------------------------------------------------------------

std::string OutcomeName(int outcome) {
  if (outcome == 0) return "OK";
  if (outcome == kOutcomeFalse) return "FALSE";
  if (outcome == kOutcomeOdd) return "odd return value";
  return WinsockErrorString(outcome);
}

OutcomeSet::OutcomeSet(std::initializer_list<int> outcomes) {
  for (int o : outcomes) Add(o);
}

void OutcomeSet::Add(int outcome) {
  if (Contains(outcome) || size_ == static_cast<int>(items_.size())) return;
  items_[size_++] = outcome;
}

void OutcomeSet::Merge(const OutcomeSet& other) {
  for (int i = 0; i < other.size_; ++i) Add(other.items_[i]);
}

bool OutcomeSet::Contains(int outcome) const {
  for (int i = 0; i < size_; ++i) {
    if (items_[i] == outcome) return true;
  }
  return false;
}

std::string OutcomeSet::ToString() const {
  if (size_ == 0) return "nothing";
  std::string s;
  for (int i = 0; i < size_; ++i) {
    if (i > 0) s += " | ";
    s += OutcomeName(items_[i]);
  }
  return s;
}

// --- Names ---------------------------------------------------------------------------------

const char* ModelStateName(ModelState s) {
  switch (s) {
    case ModelState::kUnissued: return "UNISSUED";
    case ModelState::kOutstanding: return "OUTSTANDING";
    case ModelState::kResolving: return "RESOLVING";
    case ModelState::kQueued: return "QUEUED";
    case ModelState::kSeenQueued: return "SEEN-QUEUED";
    case ModelState::kDelivered: return "DELIVERED";
    case ModelState::kCanceled: return "CANCELED";
    case ModelState::kSwallowed: return "SWALLOWED";
    case ModelState::kOrphaned: return "ORPHANED";
    case ModelState::kStale: return "STALE";
    case ModelState::kCount: break;
  }
  return "?";
}

const char* ApiCallName(ApiCall c) {
  switch (c) {
    case ApiCall::kStartup: return "WSAStartup";
    case ApiCall::kCleanup: return "WSACleanup";
    case ApiCall::kAsyncStart: return "WSAAsyncGetXByY";
    case ApiCall::kCancel: return "WSACancelAsyncRequest";
    case ApiCall::kDestroyWindow: return "DestroyWindow";
    case ApiCall::kPostMessage: return "PostMessage";
    case ApiCall::kBlockingCall: return "wsaf_gethostbyname";
    case ApiCall::kCancelBlockingCall: return "hook:WSACancelBlockingCall";
    case ApiCall::kHookAsyncStart: return "hook:WSAAsyncGetXByY";
    case ApiCall::kHookAsyncCancel: return "hook:WSACancelAsyncRequest";
    case ApiCall::kHookStartup: return "hook:WSAStartup";
    case ApiCall::kHookCleanup: return "hook:WSACleanup";
    case ApiCall::kHookIsBlocking: return "hook:WSAIsBlocking";
    case ApiCall::kHookSetHook: return "hook:WSASetBlockingHook";
    case ApiCall::kHookUnhook: return "hook:WSAUnhookBlockingHook";
    case ApiCall::kHookBlockingCall: return "hook:wsaf_gethostbyname";
    case ApiCall::kSetBlockingHook: return "WSASetBlockingHook";
    case ApiCall::kUnhookBlockingHook: return "WSAUnhookBlockingHook";
    case ApiCall::kIsBlocking: return "WSAIsBlocking";
    case ApiCall::kCancelBlockingCallIdle: return "WSACancelBlockingCall";
    case ApiCall::kPeekMessage: return "PeekMessage";
    case ApiCall::kPeekNoRemove: return "PeekMessage(PM_NOREMOVE)";
    case ApiCall::kGetMessage: return "GetMessage";
    case ApiCall::kLastError: return "WSAGetLastError";
    case ApiCall::kCount: break;
  }
  return "?";
}

const char* ConditionName(Condition c) {
  switch (c) {
    case Condition::kNotInitialised: return "not-initialised";
    case Condition::kNetworkDown: return "network-down";
    case Condition::kInHook: return "in-hook";
    case Condition::kBadArguments: return "bad-arguments";
    case Condition::kReady: return "ready";
    case Condition::kLastReference: return "last-reference";
    case Condition::kSession2x: return "session-2.x";
    case Condition::kWindowAlive: return "window-alive";
    case Condition::kWindowGone: return "window-gone";
    case Condition::kZeroHandle: return "zero-handle";
    case Condition::kNeverIssued: return "never-issued";
    case Condition::kInternal: return "internal-handle";
    case Condition::kOutstanding: return "OUTSTANDING";
    case Condition::kResolving: return "RESOLVING";
    case Condition::kQueued: return "QUEUED";
    case Condition::kSeenQueued: return "SEEN-QUEUED";
    case Condition::kDelivered: return "DELIVERED";
    case Condition::kCanceled: return "CANCELED";
    case Condition::kSwallowed: return "SWALLOWED";
    case Condition::kOrphaned: return "ORPHANED";
    case Condition::kStale: return "STALE";
    case Condition::kBlockingCanceled: return "blocking-canceled";
    case Condition::kFiltered: return "filtered";
    case Condition::kAnyWindow: return "any-window";
    case Condition::kOtherThreadFailed: return "other-thread-failed";
    case Condition::kCount: break;
  }
  return "?";
}

Condition ConditionOf(ModelState s) {
  switch (s) {
    case ModelState::kUnissued: return Condition::kNeverIssued;
    case ModelState::kOutstanding: return Condition::kOutstanding;
    case ModelState::kResolving: return Condition::kResolving;
    case ModelState::kQueued: return Condition::kQueued;
    case ModelState::kSeenQueued: return Condition::kSeenQueued;
    case ModelState::kDelivered: return Condition::kDelivered;
    case ModelState::kCanceled: return Condition::kCanceled;
    case ModelState::kSwallowed: return Condition::kSwallowed;
    case ModelState::kOrphaned: return Condition::kOrphaned;
    case ModelState::kStale: return Condition::kStale;
    case ModelState::kCount: break;
  }
  return Condition::kNeverIssued;
}

std::string DescribeGlobal(const GlobalState& g) {
  std::string s = g.refs == 0 ? "not initialised" : "refs " + std::to_string(g.refs);
  s += ", epoch " + std::to_string(g.epoch);
  if (g.refs > 0) s += g.v11 ? ", Winsock 1.1" : ", Winsock 2.2";
  s += g.network_down ? ", network down" : ", network up";
  return s;
}

ModelState HandleView::Collapsed() const {
  if (lifecycle == ModelState::kUnissued || lifecycle == ModelState::kCanceled) return lifecycle;
  if (swallowed) return ModelState::kSwallowed;
  if (stale) return ModelState::kStale;
  if (lifecycle == ModelState::kDelivered) return lifecycle;
  if (window_gone) return ModelState::kOrphaned;
  return lifecycle;
}

std::string DescribeView(const HandleView& v) {
  ModelState c = v.Collapsed();
  std::string s = ModelStateName(c);
  if (c == ModelState::kOrphaned || c == ModelState::kStale) {
    s += std::string(" (") + ModelStateName(v.lifecycle) + ")";
  }
  if (!v.epoch_certain) s += " [session of its start uncertain]";
  return s;
}

// --- Which call an event is, and what it reported -------------------------------------------

ApiCall ApiCallOf(const Event& e) {
  switch (e.type) {
    case EventType::kStartup: return ApiCall::kStartup;
    case EventType::kCleanup: return ApiCall::kCleanup;
    case EventType::kStart: return ApiCall::kAsyncStart;
    case EventType::kCancel: return ApiCall::kCancel;
    case EventType::kDestroyWindow: return ApiCall::kDestroyWindow;
    case EventType::kPostUser: return ApiCall::kPostMessage;
    case EventType::kBlockingCall: return ApiCall::kBlockingCall;
    case EventType::kHookCancel: return ApiCall::kCancelBlockingCall;
    case EventType::kPeek: return (e.arg & PM_REMOVE) ? ApiCall::kPeekMessage : ApiCall::kPeekNoRemove;
    case EventType::kGet: return ApiCall::kGetMessage;
    case EventType::kLastError: return ApiCall::kLastError;
    case EventType::kBlockingApi:
      switch (static_cast<HookOp>(e.arg)) {
        case HookOp::kSetBlockingHook: return ApiCall::kSetBlockingHook;
        case HookOp::kUnhookBlockingHook: return ApiCall::kUnhookBlockingHook;
        case HookOp::kIsBlocking: return ApiCall::kIsBlocking;
        case HookOp::kCancelBlockingCall: return ApiCall::kCancelBlockingCallIdle;
        default: return ApiCall::kCount;
      }
    case EventType::kHookCall: break;
    default: return ApiCall::kCount;
  }
  switch (static_cast<HookOp>(e.arg)) {
    case HookOp::kAsyncStart: return ApiCall::kHookAsyncStart;
    case HookOp::kAsyncCancel: return ApiCall::kHookAsyncCancel;
    case HookOp::kStartup: return ApiCall::kHookStartup;
    case HookOp::kCleanup: return ApiCall::kHookCleanup;
    case HookOp::kIsBlocking: return ApiCall::kHookIsBlocking;
    case HookOp::kSetBlockingHook: return ApiCall::kHookSetHook;
    case HookOp::kUnhookBlockingHook: return ApiCall::kHookUnhook;
    case HookOp::kBlockingCall: return ApiCall::kHookBlockingCall;
    case HookOp::kCancelBlockingCall: break;  // the hook's is logged as kHookCancel
  }
  return ApiCall::kCount;
}

namespace {

int ErrorOrFalse(const Event& e) { return e.error != 0 ? e.error : kOutcomeFalse; }

// Calls that return 0 or SOCKET_ERROR.
int ZeroOrSocketError(const Event& e) {
  if (e.result == 0) return 0;
  if (e.result == SOCKET_ERROR) return ErrorOrFalse(e);
  return kOutcomeOdd;
}

// A message returned by PeekMessage / GetMessage must be one the call asked for.
bool MessageMatches(const Event& e) {
  if (e.target >= 0 && e.window != e.target) return false;
  if (e.filter_min == 0 && e.filter_max == 0) return true;
  return e.msg_message >= e.filter_min && e.msg_message <= e.filter_max;
}

}  // namespace

int OutcomeOf(ApiCall call, const Event& e) {
  switch (call) {
    case ApiCall::kPeekMessage:
    case ApiCall::kPeekNoRemove:
      if (e.result == FALSE) return kOutcomeFalse;
      if (e.result != TRUE) return kOutcomeOdd;
      return MessageMatches(e) ? 0 : kOutcomeOdd;
    case ApiCall::kGetMessage:
      if (e.result == -1) return kOutcomeFalse;  // invalid or destroyed window
      if (e.result <= 0) return kOutcomeOdd;     // WM_QUIT: nobody posts it
      return MessageMatches(e) ? 0 : kOutcomeOdd;
    case ApiCall::kLastError: return e.result == e.arg ? 0 : kOutcomeOdd;
    case ApiCall::kAsyncStart:
    case ApiCall::kHookAsyncStart: return e.handle != 0 ? 0 : ErrorOrFalse(e);
    case ApiCall::kStartup:
    case ApiCall::kHookStartup: return static_cast<int>(e.result);  // the error, returned
    case ApiCall::kDestroyWindow:
    case ApiCall::kPostMessage:
    case ApiCall::kHookIsBlocking:
      if (e.result == TRUE) return 0;
      if (e.result == FALSE) return call == ApiCall::kHookIsBlocking ? ErrorOrFalse(e) : kOutcomeFalse;
      return kOutcomeOdd;
    case ApiCall::kBlockingCall:
    case ApiCall::kHookBlockingCall:
    case ApiCall::kHookSetHook:
    case ApiCall::kSetBlockingHook: return e.result != 0 ? 0 : ErrorOrFalse(e);
    case ApiCall::kIsBlocking:
      // The scenario clears the last error first: FALSE with no error is "not blocking".
      if (e.result == FALSE) return ErrorOrFalse(e);
      return e.result == TRUE ? 0 : kOutcomeOdd;
    default: return ZeroOrSocketError(e);
  }
}

// --- What SPEC.md allows -------------------------------------------------------------------

namespace {

// SPEC.md's section titles, as the coverage report cites them.
constexpr char kSecStart[] = "Starting a request";
constexpr char kSecCancel[] = "WSACancelAsyncRequest(h)";
constexpr char kSecSession[] = "WSAStartup / WSACleanup";
constexpr char kSecBlocking[] = "Winsock 1.1 blocking calls";
constexpr char kSecWindows[] = "Windows and queues";
constexpr char kSecThreads[] = "Threads";

Allowed One(int outcome, Condition c, const char* section) {
  return Allowed{OutcomeSet{outcome}, c, section};
}

// Not initialised, then network down, then in progress: SPEC.md's order for starts, cancels
// and blocking calls. Returns true (and fills *a) when one of them decides.
bool SessionChecks(const GlobalState& g, bool in_hook, const char* section, Allowed* a) {
  if (g.refs == 0) *a = One(WSANOTINITIALISED, Condition::kNotInitialised, section);
  else if (g.network_down) *a = One(WSAENETDOWN, Condition::kNetworkDown, section);
  else if (in_hook) *a = One(WSAEINPROGRESS, Condition::kInHook, section);
  else return false;
  return true;
}

Allowed StartAllowed(const GlobalState& g, bool in_hook, const Event& e) {
  Allowed a;
  if (SessionChecks(g, in_hook, kSecStart, &a)) return a;
  int flags = in_hook ? 0 : e.arg;
  if (flags & sim::kStartArgNullName) return One(WSAEFAULT, Condition::kBadArguments, kSecStart);
  if (flags & sim::kStartArgBadFamily) return One(WSAEAFNOSUPPORT, Condition::kBadArguments, kSecStart);
  if (flags & sim::kStartArgBadAddrLen) return One(WSAEFAULT, Condition::kBadArguments, kSecStart);
  if (e.buflen < 0 || (e.buffer < 0 && e.buflen != 0)) {
    return One(WSAEFAULT, Condition::kBadArguments, kSecStart);
  }
  // A slot may be refused (table full, allocation fault) at any time.
  return Allowed{OutcomeSet{0, WSAEWOULDBLOCK}, Condition::kReady, kSecStart};
}

// SPEC.md "WSACancelAsyncRequest(h)", rules 4-6, for a request the model knows.
OutcomeSet CancelOutcomesFor(const HandleView& v) {
  switch (v.Collapsed()) {
    case ModelState::kOutstanding: return {0};  // the resolver has not begun: cancel must win
    case ModelState::kResolving: return {0, WSAEALREADY};
    case ModelState::kQueued:
    case ModelState::kSeenQueued: return {WSAEALREADY};
    case ModelState::kDelivered: return {WSAEALREADY, WSAEINVAL};
    case ModelState::kOrphaned:
      // Its completion is silent; once the slot is freed and reused the table forgets it.
      if (v.lifecycle == ModelState::kOutstanding) return {0};
      if (v.lifecycle == ModelState::kResolving) return {0, WSAEALREADY, WSAEINVAL};
      return {WSAEALREADY, WSAEINVAL};
    default: return {WSAEINVAL};  // unissued, canceled, swallowed, stale
  }
}

Allowed CancelAllowed(const GlobalState& g, bool in_hook, uint64_t handle, const CallContext& c) {
  Allowed a;
  if (SessionChecks(g, in_hook, kSecCancel, &a)) return a;
  if (handle == 0) return One(WSAEINVAL, Condition::kZeroHandle, kSecCancel);
  const Request* r = c.request;
  if (r == nullptr || (!r->app && r->begin == kNever)) {
    // A blocking call's own request (which no event names until the resolver answers it) may
    // be the handle: 0 and WSAEALREADY are tolerated then, but the rule is still WSAEINVAL.
    if (c.hidden_request_possible) {
      return Allowed{OutcomeSet{WSAEINVAL, 0, WSAEALREADY}, Condition::kNeverIssued, kSecCancel};
    }
    return One(WSAEINVAL, Condition::kNeverIssued, kSecCancel);
  }
  // A blocking call's own request: the application was never given its handle (the rule is
  // WSAEINVAL); the model tolerates the table's other answers for it.
  if (!r->app) return Allowed{OutcomeSet{WSAEINVAL, 0, WSAEALREADY}, Condition::kNeverIssued, kSecCancel};
  a.outcomes = CancelOutcomesFor(c.view);
  a.condition = ConditionOf(c.view.Collapsed());
  a.section = kSecCancel;
  if (!c.view.epoch_certain) a.outcomes.Add(WSAEINVAL);
  return a;
}

Allowed StartupAllowed(const GlobalState& g, const Event& e) {
  int major = LOBYTE(static_cast<WORD>(e.arg));
  int minor = HIBYTE(static_cast<WORD>(e.arg));
  bool bad_version = major < 1 || (major == 1 && minor < 1);
  bool null_data = (e.arg & sim::kStartupArgNullData) != 0;
  // SPEC.md names both errors but no order between them: either answers when both apply.
  if (null_data && bad_version) {
    return Allowed{OutcomeSet{WSAEFAULT, WSAVERNOTSUPPORTED}, Condition::kBadArguments, kSecSession};
  }
  if (null_data) return One(WSAEFAULT, Condition::kBadArguments, kSecSession);
  if (bad_version) return One(WSAVERNOTSUPPORTED, Condition::kBadArguments, kSecSession);
  return One(0, g.refs == 0 ? Condition::kNotInitialised : Condition::kReady, kSecSession);
}

Allowed BlockingAllowed(const GlobalState& g, bool in_hook, const Event& e, const CallContext& c) {
  Allowed a;
  if (SessionChecks(g, in_hook, kSecBlocking, &a)) return a;
  if (e.arg & sim::kStartArgNullName) return One(WSAEFAULT, Condition::kBadArguments, kSecBlocking);
  // A lookup's own outcomes, plus a final cleanup or a slot refusal while it waits.
  OutcomeSet normal{0,           WSAHOST_NOT_FOUND, WSATRY_AGAIN,      WSANO_RECOVERY, WSANO_DATA,
                    WSAENETDOWN, WSAENOBUFS,        WSANOTINITIALISED, WSAEWOULDBLOCK};
  if (!c.blocking_canceled) return Allowed{normal, Condition::kReady, kSecBlocking};
  a = One(WSAEINTR, Condition::kBlockingCanceled, kSecBlocking);
  // The answer may have arrived while the hook ran; the call then returns it.
  if (c.completion_possible) a.outcomes.Merge(normal);
  return a;
}

// The 1.1-only calls from inside a hook: not initialised first; in progress unless the call is
// one of the two allowed inside a hook; then not supported in a 2.x session.
Allowed HookBlockingApiAllowed(const GlobalState& g, bool allowed_in_hook) {
  if (g.refs == 0) return One(WSANOTINITIALISED, Condition::kNotInitialised, kSecBlocking);
  if (!allowed_in_hook) return One(WSAEINPROGRESS, Condition::kInHook, kSecBlocking);
  if (!g.v11) return One(WSAEOPNOTSUPP, Condition::kSession2x, kSecBlocking);
  return One(0, Condition::kInHook, kSecBlocking);
}

// The same calls outside any blocking call: `idle` is what a 1.1 session answers there
// (WSAIsBlocking: FALSE; WSACancelBlockingCall: WSAEINVAL, there is nothing to cancel).
Allowed IdleBlockingApiAllowed(const GlobalState& g, int idle) {
  if (g.refs == 0) return One(WSANOTINITIALISED, Condition::kNotInitialised, kSecBlocking);
  if (!g.v11) return One(WSAEOPNOTSUPP, Condition::kSession2x, kSecBlocking);
  return One(idle, Condition::kReady, kSecBlocking);
}

// PeekMessage / GetMessage: whatever they return must be what was asked for (OutcomeOf turns
// a message from another window or outside the filter into an odd return); a live window may
// or may not hold one, a destroyed window holds none.
Allowed PumpAllowed(ApiCall call, const Event& e, const CallContext& c) {
  bool get = call == ApiCall::kGetMessage;
  // NULL hwnd: every window (GetMessage gives up with -1 once there is none).
  if (e.target < 0) return Allowed{OutcomeSet{0, kOutcomeFalse}, Condition::kAnyWindow, kSecWindows};
  if (!c.window_alive) return One(kOutcomeFalse, Condition::kWindowGone, kSecWindows);
  Condition cond = e.filter_min != 0 || e.filter_max != 0 ? Condition::kFiltered : Condition::kWindowAlive;
  // GetMessage waits for a message; the scenario calls it only when one is due.
  if (get) return One(0, cond, kSecWindows);
  return Allowed{OutcomeSet{0, kOutcomeFalse}, cond, kSecWindows};
}

}  // namespace

Allowed AllowedOutcomes(ApiCall call, const Event& e, const CallContext& c) {
  const GlobalState& g = c.global;
  switch (call) {
    case ApiCall::kStartup: return StartupAllowed(g, e);
    case ApiCall::kHookStartup: return One(WSAEINPROGRESS, Condition::kInHook, kSecBlocking);
    case ApiCall::kCleanup:
      if (g.refs == 0) return One(WSANOTINITIALISED, Condition::kNotInitialised, kSecSession);
      return One(0, g.refs == 1 ? Condition::kLastReference : Condition::kReady, kSecSession);
    case ApiCall::kHookCleanup: return One(WSAEINPROGRESS, Condition::kInHook, kSecBlocking);
    case ApiCall::kAsyncStart: return StartAllowed(g, false, e);
    case ApiCall::kHookAsyncStart: return StartAllowed(g, true, e);
    case ApiCall::kCancel: return CancelAllowed(g, false, e.handle, c);
    case ApiCall::kHookAsyncCancel: return CancelAllowed(g, true, e.handle, c);
    case ApiCall::kDestroyWindow:
      if (c.window_alive) return One(0, Condition::kWindowAlive, kSecWindows);
      return One(kOutcomeFalse, Condition::kWindowGone, kSecWindows);
    case ApiCall::kPostMessage:
      // A live window's queue may be full: the model does not count queued messages.
      if (c.window_alive) return Allowed{OutcomeSet{0, kOutcomeFalse}, Condition::kWindowAlive, kSecWindows};
      return One(kOutcomeFalse, Condition::kWindowGone, kSecWindows);
    case ApiCall::kBlockingCall: return BlockingAllowed(g, false, e, c);
    case ApiCall::kHookBlockingCall: return BlockingAllowed(g, true, e, c);
    case ApiCall::kCancelBlockingCall:
    case ApiCall::kHookIsBlocking: return HookBlockingApiAllowed(g, true);
    case ApiCall::kHookSetHook:
    case ApiCall::kHookUnhook: return HookBlockingApiAllowed(g, false);
    case ApiCall::kSetBlockingHook:
    case ApiCall::kUnhookBlockingHook: return IdleBlockingApiAllowed(g, 0);
    case ApiCall::kIsBlocking: return IdleBlockingApiAllowed(g, kOutcomeFalse);
    case ApiCall::kCancelBlockingCallIdle: return IdleBlockingApiAllowed(g, WSAEINVAL);
    case ApiCall::kPeekMessage:
    case ApiCall::kPeekNoRemove:
    case ApiCall::kGetMessage: return PumpAllowed(call, e, c);
    case ApiCall::kLastError:
      return One(0, c.other_thread_failed ? Condition::kOtherThreadFailed : Condition::kReady, kSecThreads);
    case ApiCall::kCount: break;
  }
  return Allowed{};
}

std::string DescribeRequest(const sim::Run& run, const Request& r) {
  std::string s = HandleString(r.handle);
  if (!r.app) {
    s += " (returned by no start";
    if (r.begin != kNever) s += "; the resolver answered it at #" + std::to_string(r.begin);
    return s + ")";
  }
  const char* kind = r.kind >= 0 && r.kind <= static_cast<int>(RequestKind::kServByPort)
                         ? RequestKindName(static_cast<RequestKind>(r.kind))
                         : "?";
  s += std::string(" (") + kind + " by " + ThreadLabel(run, r.thread) + " at #" + std::to_string(r.start);
  s += r.window < 0 ? ", no window" : ", window " + std::to_string(r.window);
  s += r.buffer < 0 ? ", NULL buffer" : ", buffer " + std::to_string(r.buffer);
  s += " len " + std::to_string(r.buflen) + ")";
  return s;
}

}  // namespace wsaf::check
