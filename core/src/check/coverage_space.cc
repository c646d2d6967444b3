// The denominator of the coverage report: every cell SPEC.md allows, learned from the
// reference model itself (AllowedOutcomes() over every context, the view rules over every
// order of a request's facts), and the one table of cells no scenario reaches by design.
#include <algorithm>
#include <map>
#include <tuple>

#include "check/coverage.h"
#include "table/task_table.h"

namespace wsaf::check {

using sim::Event;
using sim::EventType;

namespace {

constexpr char kSecLifecycle[] = "Lifecycle of one request";
constexpr char kSecMessage[] = "The completion message";

// --- Cells no scenario can reach by design ------------------------------------------------
// The one place that says why an allowed cell stays at zero. Each entry is a rule SPEC.md
// states (so the model allows it) that the simulated world cannot exercise; every other
// allowed cell must be hit by the default campaign (tests: sim_coverage_sweep).
struct Unreachable {
  CellTable table;
  int a, b, c;
  const char* why;
  // The reason holds only with the named sites as the scheduling points: a run that makes every
  // atomic a point (the default of wsafault sim and the campaign) can reach the cell.
  bool sites_only = false;
};

int Slot(int outcome) { return OutcomeSlot(outcome); }
constexpr int I(ApiCall c) { return static_cast<int>(c); }
constexpr int I(Condition c) { return static_cast<int>(c); }
constexpr int I(ModelState s) { return static_cast<int>(s); }

const std::vector<Unreachable>& UnreachableCells() {
  // The transitions below need a scheduling point the named sites do not have. Those marked
  // sites_only are reached once every atomic is a point (measured: POS and random under TSO hit
  // each in a few seconds of every scenario); the others stay out of reach either way. A hit on
  // an unreachable cell means its reason went stale: the report shows such hits.
  // (A start that reuses a slot still in the submit stack hands it to the resolver at its
  // publish, before its last point: the resolver may begin, answer and deliver the request
  // before the start is logged, so UNISSUED -> RESOLVING, QUEUED, SEEN-QUEUED and DELIVERED are
  // reachable with the named sites too.)
  static constexpr char kStartLast[] =
      "with only the named sites as points, a final cleanup cannot run between a start's publish "
      "and its session re-check, so a start is logged before the session of its request ends";
  static constexpr char kPostLast[] =
      "DeliverAnswer has no scheduling point after the post, so the resolver logs its end before a "
      "pump can see the message";
  static constexpr char kCancelLast[] =
      "a cancel that wins has no scheduling point after its compare-and-swap, so nothing is logged "
      "between its effect and its return";
  // Once every atomic is a point, one that frees an unclaimed slot has some (its free-list
  // push): a final cleanup may then swallow the request between the cancel's effect and its log
  // (SWALLOWED -> CANCELED, seen in a 60 s campaign: scripts/run-main --time 60). A STALE view
  // without the swallow is a request the cleanup did not find outstanding: no cancel wins it.
  static constexpr char kCancelLastSites[] =
      "with only the named sites as points, a cancel that wins has none after its compare-and-swap, "
      "so nothing is logged between its effect and its return";
  static const std::vector<Unreachable> cells = {
      {CellTable::kCall, I(ApiCall::kBlockingCall), I(Condition::kReady), Slot(WSAENOBUFS),
       "wsaf_gethostbyname answers into a 64 KiB buffer of its own, and no simulated host answer "
       "is that large"},
      {CellTable::kCall, I(ApiCall::kGetMessage), I(Condition::kAnyWindow), Slot(kOutcomeFalse),
       "GetMessage(NULL) fails only when no window exists at all; the scenarios call it only while "
       "a live window has a completion due (with none it would wait for ever)"},
      {CellTable::kTransition, I(ModelState::kUnissued), I(ModelState::kStale), 0, kStartLast, true},
      {CellTable::kTransition, I(ModelState::kResolving), I(ModelState::kSeenQueued), 0, kPostLast},
      {CellTable::kTransition, I(ModelState::kResolving), I(ModelState::kDelivered), 0, kPostLast},
      {CellTable::kTransition, I(ModelState::kResolving), I(ModelState::kStale), 0,
       "the final cleanup waits for the delivery under way to return (SimResolver::Stop), so it is "
       "logged after the resolver's end",
       true},
      {CellTable::kTransition, I(ModelState::kQueued), I(ModelState::kCanceled), 0, kCancelLast},
      {CellTable::kTransition, I(ModelState::kSwallowed), I(ModelState::kCanceled), 0, kCancelLastSites, true},
      {CellTable::kTransition, I(ModelState::kStale), I(ModelState::kCanceled), 0, kCancelLast},
  };
  return cells;
}

const Unreachable* FindUnreachable(CellTable t, int a, int b, int c) {
  for (const Unreachable& u : UnreachableCells()) {
    if (u.table == t && u.a == a && u.b == b && u.c == c) return &u;
  }
  return nullptr;
}

AllowedCell Cell(CellTable t, int a, int b, int c, const char* section) {
  const Unreachable* u = FindUnreachable(t, a, b, c);
  AllowedCell cell;
  cell.table = t;
  cell.a = a;
  cell.b = b;
  cell.c = c;
  cell.section = section;
  cell.unreachable = u != nullptr ? u->why : nullptr;
  cell.sites_only = u != nullptr && u->sites_only;
  return cell;
}

// --- Calls: AllowedOutcomes() over every context ------------------------------------------

struct CallInfo {
  const char* section = "";
  bool rule = false;  // allowed in some context without a tolerance of the model
};
using CallKey = std::tuple<int, int, int>;

std::vector<GlobalState> Sessions() {
  std::vector<GlobalState> out;
  for (uint32_t refs : {0u, 1u, 2u}) {
    for (bool down : {false, true}) {
      for (bool v11 : {false, true}) {
        if (refs == 0 && v11) continue;  // the final cleanup forgets the version
        GlobalState g;
        g.refs = refs;
        g.network_down = down;
        g.v11 = v11;
        out.push_back(g);
      }
    }
  }
  return out;
}

std::vector<Event> EventsFor(ApiCall call) {
  std::vector<Event> out;
  Event e;
  switch (call) {
    case ApiCall::kStartup:
      for (int version : {0x0202, 0x0101, 0x0001}) {
        for (int null_data : {0, sim::kStartupArgNullData}) {
          e.arg = version | null_data;
          out.push_back(e);
        }
      }
      return out;
    case ApiCall::kAsyncStart:
    case ApiCall::kHookAsyncStart:
      for (int flags : {0, sim::kStartArgNullName, sim::kStartArgBadFamily, sim::kStartArgBadAddrLen}) {
        for (auto [buffer, buflen] : {std::pair{0, 16}, {-1, 0}, {-1, 16}, {0, -1}}) {
          e.arg = flags;
          e.buffer = buffer;
          e.buflen = buflen;
          out.push_back(e);
        }
      }
      return out;
    case ApiCall::kCancel:
    case ApiCall::kHookAsyncCancel:
      for (uint64_t h : {uint64_t{0}, uint64_t{0x400001}}) {
        e.handle = h;
        out.push_back(e);
      }
      return out;
    case ApiCall::kBlockingCall:
    case ApiCall::kHookBlockingCall:
      for (int flags : {0, sim::kStartArgNullName}) {
        e.arg = flags;
        out.push_back(e);
      }
      return out;
    case ApiCall::kPeekMessage:
    case ApiCall::kPeekNoRemove:
    case ApiCall::kGetMessage:
      for (int target : {-1, 0}) {
        for (uint32_t filter : {0u, static_cast<uint32_t>(kCompletionMsg)}) {
          e.target = target;
          e.filter_min = e.filter_max = filter;
          out.push_back(e);
        }
      }
      return out;
    default: out.push_back(e); return out;
  }
}

// A context and whether it rests on a tolerance of the model rather than on a rule.
struct Context {
  CallContext ctx;
  bool tolerance = false;
};

std::vector<HandleView> Views() {
  std::vector<HandleView> out;
  for (ModelState s : {ModelState::kUnissued, ModelState::kOutstanding, ModelState::kResolving, ModelState::kQueued,
                       ModelState::kSeenQueued, ModelState::kDelivered, ModelState::kCanceled}) {
    for (int bits = 0; bits < 8; ++bits) {
      HandleView v;
      v.lifecycle = s;
      v.stale = bits & 1;
      v.swallowed = bits & 2;
      v.window_gone = bits & 4;
      if (v.swallowed && (!v.stale || s == ModelState::kCanceled)) continue;
      if (s == ModelState::kUnissued && bits != 0) continue;
      out.push_back(v);
    }
  }
  return out;
}

std::vector<Context> ContextsFor(ApiCall call) {
  // Requests the contexts point at: never issued, a blocking call's own (begun or not), the
  // application's.
  static const Request kInternalUnbegun = [] { Request r; return r; }();
  static const Request kInternalBegun = [] { Request r; r.begin = 1; return r; }();
  static const Request kApp = [] { Request r; r.app = true; return r; }();
  std::vector<Context> out;
  Context c;
  switch (call) {
    case ApiCall::kCancel:
    case ApiCall::kHookAsyncCancel:
      for (bool hidden : {false, true}) {
        c.ctx = CallContext();
        c.ctx.hidden_request_possible = hidden;
        c.tolerance = hidden;
        c.ctx.request = nullptr;
        out.push_back(c);
        c.ctx.request = &kInternalUnbegun;
        out.push_back(c);
        c.ctx.request = &kInternalBegun;
        c.tolerance = true;  // a blocking call's own handle: SPEC.md never hands it out
        out.push_back(c);
      }
      for (const HandleView& v : Views()) {
        for (bool certain : {true, false}) {
          c.ctx = CallContext();
          c.ctx.request = &kApp;
          c.ctx.view = v;
          c.ctx.view.epoch_certain = certain;
          c.tolerance = !certain;
          out.push_back(c);
        }
      }
      return out;
    case ApiCall::kBlockingCall:
    case ApiCall::kHookBlockingCall:
      for (bool canceled : {false, true}) {
        for (bool completion : {false, true}) {
          c.ctx = CallContext();
          c.ctx.blocking_canceled = canceled;
          c.ctx.completion_possible = completion;
          // The model cannot tell whether the answer came before the hook's cancel.
          c.tolerance = canceled && completion;
          out.push_back(c);
        }
      }
      return out;
    case ApiCall::kLastError:
      for (bool failed : {false, true}) {
        c.ctx = CallContext();
        c.ctx.other_thread_failed = failed;
        out.push_back(c);
      }
      return out;
    default:
      for (bool alive : {true, false}) {
        c.ctx = CallContext();
        c.ctx.window_alive = alive;
        out.push_back(c);
      }
      return out;
  }
}

void AddCallCells(std::vector<AllowedCell>* out) {
  std::map<CallKey, CallInfo> cells;
  std::vector<GlobalState> sessions = Sessions();
  for (int call = 0; call < kApiCalls; ++call) {
    ApiCall ac = static_cast<ApiCall>(call);
    std::vector<Event> events = EventsFor(ac);
    std::vector<Context> contexts = ContextsFor(ac);
    for (const GlobalState& g : sessions) {
      for (const Event& e : events) {
        for (Context c : contexts) {
          c.ctx.global = g;
          Allowed a = AllowedOutcomes(ac, e, c.ctx);
          for (int i = 0; i < a.outcomes.size(); ++i) {
            int slot = OutcomeSlot(a.outcomes.at(i));
            CallInfo& info = cells[{call, static_cast<int>(a.condition), slot}];
            info.section = a.section;
            info.rule |= !c.tolerance;
          }
        }
      }
    }
  }
  for (const auto& [key, info] : cells) {
    if (!info.rule) continue;
    auto [call, cond, slot] = key;
    out->push_back(Cell(CellTable::kCall, call, cond, slot, info.section));
  }
}

// --- Transitions: the view rules over every order of a request's facts ---------------------

constexpr uint16_t kFacts[] = {kFactStarted, kFactBegun,      kFactResolved,    kFactCanceled,
                               kFactSeen,    kFactRemoved,    kFactWindowGone,  kFactSessionEnded};

// Whether logging `fact` after the facts in `mask` can happen in a run that breaks no
// invariant (the Checker reports the others). Facts of calls that overlapped may be logged in
// either order, so most orders are possible; these are not:
bool Legal(uint16_t mask, uint16_t fact, bool begun_before_end) {
  uint16_t m = mask | fact;
  bool message = (fact & (kFactSeen | kFactRemoved)) != 0;
  if ((m & kFactCanceled) && (m & (kFactSeen | kFactRemoved))) return false;  // delivery-after-cancel
  if (message && !(mask & kFactBegun)) return false;  // a message before the resolver began
  if ((fact & kFactSeen) && (mask & kFactRemoved)) return false;  // seen again after removal
  if ((fact & kFactResolved) && !(mask & kFactBegun)) return false;  // ends before it begins
  // A message of a request the final cleanup swallowed: delivery-after-cleanup.
  if (message && (mask & kFactSessionEnded) && !begun_before_end) return false;
  return true;
}

void Walk(const std::vector<uint16_t>& order, std::array<bool, kModelStates * kModelStates>* legal) {
  uint16_t mask = 0;
  bool begun_before_end = false;
  ModelState last = ModelState::kUnissued;
  for (uint16_t fact : order) {
    if (fact & kFactSessionEnded) begun_before_end = (mask & kFactBegun) != 0;
    if (!Legal(mask, fact, begun_before_end)) return;
    mask |= fact;
    if (!(mask & kFactStarted)) continue;  // the model counts from the start's event on
    ModelState s = ReferenceModel::ViewFromFacts(mask, true, begun_before_end).Collapsed();
    if (s != last) (*legal)[I(last) * kModelStates + I(s)] = true;
    last = s;
  }
}

void AddTransitionCells(std::vector<AllowedCell>* out) {
  std::array<bool, kModelStates * kModelStates> legal{};
  for (bool null_window : {false, true}) {
    // A start with a NULL hwnd has no window from its start: the two facts are one.
    std::vector<uint16_t> facts;
    for (uint16_t f : kFacts) {
      if (null_window && f == kFactWindowGone) continue;
      facts.push_back(null_window && f == kFactStarted ? uint16_t(kFactStarted | kFactWindowGone) : f);
    }
    std::sort(facts.begin(), facts.end());
    do Walk(facts, &legal);
    while (std::next_permutation(facts.begin(), facts.end()));
  }
  for (int from = 0; from < kModelStates; ++from) {
    for (int to = 0; to < kModelStates; ++to) {
      if (!legal[from * kModelStates + to]) continue;
      out->push_back(Cell(CellTable::kTransition, from, to, 0, kSecLifecycle));
    }
  }
}

// --- Message errors: what SPEC.md names per kind -------------------------------------------

void AddMessageCells(std::vector<AllowedCell>* out) {
  // Hosts and addresses go through DNS; services and protocols come from the netbase files,
  // where the only lookup failure is "not found" (WSANO_DATA).
  const std::vector<int> host = {0, WSAENOBUFS, WSAHOST_NOT_FOUND, WSATRY_AGAIN, WSANO_RECOVERY, WSANO_DATA,
                                 WSAENETDOWN};
  const std::vector<int> netbase = {0, WSAENOBUFS, WSANO_DATA, WSAENETDOWN};
  for (int kind = 0; kind < kRequestKinds; ++kind) {
    bool dns = kind == static_cast<int>(RequestKind::kHostByName) || kind == static_cast<int>(RequestKind::kHostByAddr);
    for (int error : dns ? host : netbase) {
      int slot = OutcomeSlot(error);
      out->push_back(Cell(CellTable::kMessageError, kind, slot, 0, kSecMessage));
    }
  }
}

}  // namespace

const std::vector<AllowedCell>& AllowedCells() {
  static const std::vector<AllowedCell> cells = [] {
    std::vector<AllowedCell> out;
    AddCallCells(&out);
    AddTransitionCells(&out);
    AddMessageCells(&out);
    return out;
  }();
  return cells;
}

uint32_t CountOf(const Coverage& c, const AllowedCell& cell) {
  switch (cell.table) {
    case CellTable::kCall: return c.calls[(cell.a * kConditions + cell.b) * kOutcomeSlots + cell.c];
    case CellTable::kTransition: return c.transitions[cell.a * kModelStates + cell.b];
    case CellTable::kMessageError: return c.message_errors[cell.a * kOutcomeSlots + cell.b];
  }
  return 0;
}

std::string CellName(const AllowedCell& cell) {
  switch (cell.table) {
    case CellTable::kCall:
      return std::string(ApiCallName(static_cast<ApiCall>(cell.a))) + " / " +
             ConditionName(static_cast<Condition>(cell.b)) + " / " + OutcomeSlotName(cell.c);
    case CellTable::kTransition:
      return std::string(ModelStateName(static_cast<ModelState>(cell.a))) + " -> " +
             ModelStateName(static_cast<ModelState>(cell.b));
    case CellTable::kMessageError:
      return std::string(KindName(cell.a)) + " message " + OutcomeSlotName(cell.b);
  }
  return "?";
}

std::string TableName(const AllowedCell& cell) {
  switch (cell.table) {
    case CellTable::kCall: return ApiCallName(static_cast<ApiCall>(cell.a));
    case CellTable::kTransition: return "lifecycle transitions";
    case CellTable::kMessageError: return std::string("message errors: ") + KindName(cell.a);
  }
  return "?";
}

}  // namespace wsaf::check
