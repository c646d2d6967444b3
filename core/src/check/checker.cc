// The Checker's driver: arrival-time fact checks, the horizon that decides when a call's
// result can be judged, and the judging of calls against the reference model.
#include "check/checker.h"

#include <algorithm>
#include <climits>

#include "check/buffer_inspect.h"
#include "check/event_format.h"
#include "check/names.h"

namespace wsaf::check {

using sim::Event;
using sim::EventType;

const std::vector<std::string>& InvariantNames() {
  static const std::vector<std::string> names = {
      kInvApiResult,          kInvHandleZero,           kInvHandleReused,
      kInvStaleHandle,        kInvDoubleDelivery,       kInvDeliveryAfterCancel,
      kInvDeliveryAfterCleanup, kInvDeliveryAfterDestroy, kInvLostDelivery,
      kInvBufferWriteAfterCancel, kInvBufferWriteAfterCleanup, kInvBufferOverrun,
      kInvMessageContent,     kInvMessageUnknown,
  };
  return names;
}

Checker::Checker(sim::Run* run, CheckerOptions options)
    : run_(run), options_(options), model_(run) {}

Coverage Checker::coverage() const {
  Coverage c = coverage_;
  c.transitions = model_.transitions();
  return c;
}

bool Checker::Fail(const char* invariant, std::size_t index, uint64_t handle, std::string detail) {
  if (failed_) return false;
  failed_ = true;
  violation_.invariant = invariant;
  violation_.event_index = index;
  violation_.handle = handle;
  violation_.detail = std::move(detail);
  return false;
}

std::string Checker::Where(std::size_t index) const {
  const Event& e = run_->events[index];
  return ThreadLabel(*run_, e.thread) + " " + DescribeCall(e) + " at #" + std::to_string(index);
}

bool Checker::OnEvent(std::size_t index) {
  while (!failed_ && model_.observed() <= index && model_.observed() < run_->events.size()) {
    std::size_t i = model_.observed();
    model_.Observe(i);
    ++coverage_.events;
    NoteThread(i);
    CheckOnArrival(i);
    const Event& e = run_->events[i];
    if (ApiCallOf(e) != ApiCall::kCount || HasCompletionMessage(e) ||
        e.type == EventType::kResolverEnd) {
      pending_.push_back(i);
    }
  }
  RunDeferred(Horizon());
  return !failed_;
}

bool Checker::AtEnd() {
  if (!run_->events.empty()) OnEvent(run_->events.size() - 1);
  RunDeferred(LLONG_MAX);
  for (const Request& r : model_.requests()) {
    if (failed_) break;
    CheckBuffersOf(kNever, r);
  }
  if (!failed_) CheckLostDeliveries();
  return !failed_;
}

void Checker::NoteThread(std::size_t index) {
  const Event& e = run_->events[index];
  if (e.thread < 0 || e.thread >= run_->app_threads) return;
  if (last_event_.size() <= static_cast<std::size_t>(e.thread)) {
    last_event_.resize(e.thread + 1, -1);
    ended_.resize(e.thread + 1, false);
  }
  last_event_[e.thread] = static_cast<long long>(index);
  // A thread may call again after its script ended (the liveness phase): it counts again.
  ended_[e.thread] = e.type == EventType::kThreadEnd;
}

// --- Arrival-time checks -------------------------------------------------------------------

void Checker::CheckOnArrival(std::size_t index) {
  const Event& e = run_->events[index];
  switch (e.type) {
    case EventType::kStart:
      if (e.handle != 0) CheckStartHandle(index);
      break;
    case EventType::kCancel:
    case EventType::kHookCall:
      if (ApiCallOf(e) != ApiCall::kCancel && ApiCallOf(e) != ApiCall::kHookAsyncCancel) break;
      if (e.result == 0 && e.handle != 0) CheckCanceledFacts(index);
      break;
    case EventType::kPeek:
    case EventType::kGet:
      if (HasCompletionMessage(e) && e.msg_wparam != 0) CheckMessageFacts(index);
      break;
    case EventType::kResolverEnd: CheckResolverEndFacts(index); break;
    case EventType::kCleanup: {
      uint32_t epoch = model_.GlobalBefore(index).epoch;
      if (model_.EpochEnd(epoch) == index) SnapshotAtCleanup(index, epoch);
      break;
    }
    default: break;
  }
}

void Checker::CheckStartHandle(std::size_t index) {
  const Event& e = run_->events[index];
  const Request* r = model_.Find(e.handle);
  if (r == nullptr) return;
  if (r->start != index) {
    Fail(kInvHandleReused, index, e.handle,
         Where(index) + " returned " + HandleString(e.handle) + ", which " + Where(r->start) +
             " already returned; that request is " + DescribeView(model_.ViewAt(*r, index)));
  } else if (r->first_fact < model_.IntervalStart(index)) {
    Fail(kInvHandleReused, index, e.handle,
         Where(index) + " returned " + HandleString(e.handle) + ", but the log named that handle at #" +
             std::to_string(r->first_fact) + " (" + DescribeCall(run_->events[r->first_fact]) +
             "), before this start began (#" + std::to_string(model_.IntervalStart(index)) + ")");
  }
}

void Checker::CheckCanceledFacts(std::size_t index) {
  const Event& e = run_->events[index];
  const Request* r = model_.Find(e.handle);
  if (r == nullptr) return;  // never issued: the deferred check reports it
  if (r->removed != kNever && r->removed < model_.IntervalStart(index)) {
    Fail(kInvStaleHandle, index, e.handle,
         Where(index) + " returned 0, but request " + DescribeRequest(*run_, *r) +
             " was delivered at #" + std::to_string(r->removed) + " before this cancel began");
  } else if (r->seen != kNever || r->removed != kNever) {
    std::size_t at = std::min(r->seen, r->removed);
    Fail(kInvDeliveryAfterCancel, index, e.handle,
         Where(index) + " returned 0, but the message of " + DescribeRequest(*run_, *r) +
             " was already observed at #" + std::to_string(at) + " (" +
             ThreadLabel(*run_, run_->events[at].thread) + ")");
  } else if (r->cancels_ok > 1) {
    Fail(kInvApiResult, index, e.handle,
         Where(index) + " returned 0 a second time for " + DescribeRequest(*run_, *r) +
             "; the first cancel returned 0 at #" + std::to_string(r->cancel_ok) +
             ", so SPEC allows only WSAEINVAL");
  } else if (const sim::GuardedBuffer* b = ExclusiveBuffer(*r)) {
    std::size_t off = FirstTouched(*b, 0);
    if (off != kNoChange) {
      Fail(kInvBufferWriteAfterCancel, index, e.handle,
           Where(index) + " returned 0, but the buffer of " + DescribeRequest(*run_, *r) +
               " was already written (" + DescribeOffset(*b, off) + ")");
    }
  }
}

void Checker::CheckMessageFacts(std::size_t index) {
  const Event& e = run_->events[index];
  const Request* r = model_.Find(e.msg_wparam);
  if (r == nullptr) return;
  bool removes = RemovesMessage(e);
  // Built only for a report: this runs for every message seen.
  auto what = [&] {
    return Where(index) + " " + (removes ? "removed" : "saw") + " the message of " +
           DescribeRequest(*run_, *r);
  };
  if (r->cancel_ok != kNever) {
    Fail(kInvDeliveryAfterCancel, index, r->handle,
         what() + ", but " + Where(r->cancel_ok) + " returned 0 for it");
  } else if (removes && r->removals > 1) {
    Fail(kInvDoubleDelivery, index, r->handle,
         what() + " a second time; it was first removed at #" + std::to_string(r->removed));
  } else if (!removes && r->removed != kNever && r->removed < model_.IntervalStart(index)) {
    Fail(kInvDoubleDelivery, index, r->handle,
         what() + " still queued after it was removed at #" + std::to_string(r->removed));
  } else {
    CheckGuards(index, *r);
  }
}

void Checker::CheckResolverEndFacts(std::size_t index) {
  const Event& e = run_->events[index];
  const Request* r = model_.Find(e.handle);
  if (r == nullptr || !r->app || !CheckGuards(index, *r) || r->cancel_ok == kNever) return;
  const sim::GuardedBuffer* b = ExclusiveBuffer(*r);
  std::size_t off = b != nullptr ? FirstTouched(*b, 0) : kNoChange;
  if (off != kNoChange) {
    Fail(kInvBufferWriteAfterCancel, index, r->handle,
         "the resolver's delivery of " + DescribeRequest(*run_, *r) + " (#" + std::to_string(r->begin) +
             "..#" + std::to_string(index) + ") wrote its buffer (" + DescribeOffset(*b, off) +
             "), but " + Where(r->cancel_ok) + " returned 0");
  }
}

void Checker::SnapshotAtCleanup(std::size_t index, uint32_t epoch) {
  (void)index;
  if (!options_.strict_cleanup_writes) return;
  for (Request& r : model_.requests()) {
    if (!r.app || r.epoch != epoch || r.cancel_ok != kNever || r.removed != kNever) continue;
    if (const sim::GuardedBuffer* b = ExclusiveBuffer(r)) {
      r.cleanup_snapshot = b->bytes;
      r.has_snapshot = true;
    }
  }
}

// --- Deferred call checks ------------------------------------------------------------------

long long Checker::Horizon() const {
  if (run_->app_threads <= 0) return LLONG_MAX;
  long long h = LLONG_MAX;
  for (int t = 0; t < run_->app_threads; ++t) {
    if (static_cast<std::size_t>(t) >= last_event_.size()) return -1;  // not heard from yet
    if (ended_[t]) continue;
    h = std::min(h, last_event_[t]);
  }
  return h;
}

void Checker::RunDeferred(long long horizon) {
  while (!failed_ && !pending_.empty() && static_cast<long long>(pending_.front()) <= horizon) {
    std::size_t index = pending_.front();
    pending_.pop_front();
    CheckDeferred(index);
  }
}

void Checker::CheckDeferred(std::size_t index) {
  const Event& e = run_->events[index];
  ApiCall call = ApiCallOf(e);
  // A pump is a call (its result against its window and filter) and, with a completion
  // message, a delivery.
  if (call != ApiCall::kCount) CheckCall(index, call);
  if (failed_) return;
  if (HasCompletionMessage(e)) {
    CheckMessage(index);
  } else if (e.type == EventType::kResolverEnd) {
    if (const Request* r = model_.Find(e.handle)) CheckBuffersOf(index, *r);
  }
}

void Checker::CheckCall(std::size_t index, ApiCall call) {
  const Event& e = run_->events[index];
  bool is_cancel = call == ApiCall::kCancel || call == ApiCall::kHookAsyncCancel;
  bool is_pump = call == ApiCall::kPeekMessage || call == ApiCall::kPeekNoRemove || call == ApiCall::kGetMessage;
  bool is_window = call == ApiCall::kDestroyWindow || call == ApiCall::kPostMessage || is_pump;
  // A pump names the window it asked for in `target` (`window` is the message's).
  int window = !is_window ? -1 : is_pump ? e.target : e.window;
  const Request* r = is_cancel && e.handle != 0 ? model_.Find(e.handle) : nullptr;
  std::size_t from = call == ApiCall::kBlockingCall ? BlockingCallStart(index) : model_.IntervalStart(index);
  const std::vector<Instant>& instants = Instants(index, from, r, window, !is_pump);
  CallContext ctx;
  if (call == ApiCall::kLastError) ctx.other_thread_failed = OtherThreadFailedDuring(index, from);
  if (call == ApiCall::kBlockingCall) BlockingContext(index, from, &ctx);
  if (is_cancel && e.handle != 0 && (r == nullptr || (!r->app && r->begin == kNever))) {
    ctx.hidden_request_possible = BlockingCallDuring(index, from);
  }
  int outcome = OutcomeOf(call, e);
  OutcomeSet allowed;
  bool matched = false;
  Condition condition = Condition::kReady;
  auto consider = [&](const CallContext& c) {
    Allowed a = AllowedOutcomes(call, e, c);
    allowed.Merge(a.outcomes);
    if (!matched && a.outcomes.Contains(outcome)) {
      matched = true;
      condition = a.condition;
    }
  };
  bool session_passed = false;
  for (const Instant& in : instants) {
    ctx.global = in.global;
    ctx.request = r;
    if (r != nullptr) ctx.view = model_.ViewOf(*r, in.mask);
    ctx.window_alive = is_window && window >= 0 && (in.mask & kFactStarted) && !(in.mask & kFactWindowGone);
    consider(ctx);
    if (call != ApiCall::kCancel) continue;
    // WSACancelAsyncRequest checks the session on entry and decides in the table later: the
    // session may have passed at an earlier instant than the one the table saw.
    bool passes = in.global.refs > 0 && !in.global.network_down;
    if (session_passed && !passes) {
      CallContext late = ctx;
      late.global.refs = 1;
      late.global.network_down = false;
      consider(late);
    }
    session_passed |= passes;
  }
  if (!matched) {
    ReportCall(index, call, outcome, allowed, instants, from, r);
    return;
  }
  coverage_.CountCall(call, condition, outcome);
  if (call == ApiCall::kAsyncStart && e.handle != 0) SettleEpoch(index, instants);
}

const std::vector<Checker::Instant>& Checker::Instants(std::size_t index, std::size_t from,
                                                       const Request* r, int window, bool globals) {
  const Event& call = run_->events[index];
  // May an effect logged at `at` (kNever: not yet), begun at `begun`, precede this call's?
  auto overlaps = [&](std::size_t at, std::size_t begun) {
    if (at == index || begun == kNever || begun > index) return false;
    return at == kNever || run_->events[at].thread != call.thread;
  };
  uint16_t base = 0;
  std::vector<Change>& changes = changes_scratch_;  // reused: this runs for every call
  changes.clear();
  uint16_t early_start_bit = 0;  // the start's publish, ordered first but free to come later
  auto add_fact = [&](uint16_t bit, std::size_t at, std::size_t begun, bool early) {
    if (at != kNever && at < from) {
      base |= bit;
    } else if (overlaps(at, begun)) {
      changes.push_back({at, bit, false, early ? begun : at, changes.size()});
      if (early) early_start_bit = bit;
    }
  };
  if (r != nullptr) {
    FactTime facts[8];
    int n = model_.FactsOf(*r, facts);
    // A start takes effect when it publishes its slot, anywhere in its interval: order it at
    // the interval's start, ahead of the other threads' effects logged meanwhile (a final
    // cleanup, say), so that a cancel naming the handle early is judged against it.
    for (int i = 0; i < n; ++i) {
      add_fact(facts[i].bit, facts[i].index, facts[i].from, facts[i].bit == kFactStarted);
    }
  }
  if (window >= 0) {  // kFactStarted: the window exists; kFactWindowGone: destroyed
    std::size_t created = model_.WindowCreated(window);
    if (created == 0) base |= kFactStarted;
    else add_fact(kFactStarted, created, model_.IntervalStart(created), false);
    std::size_t gone = model_.WindowDestroyed(window);
    if (gone != kNever) add_fact(kFactWindowGone, gone, model_.IntervalStart(gone), false);
  }
  const std::vector<std::size_t>& global_events = model_.global_events();
  auto first = globals ? std::lower_bound(global_events.begin(), global_events.end(), from) : global_events.end();
  for (auto it = first; it != global_events.end(); ++it) {
    if (overlaps(*it, model_.IntervalStart(*it))) changes.push_back({*it, 0, true, *it, changes.size()});
  }
  // Stable by key (ties keep their order of addition) without stable_sort's temporary buffer.
  std::sort(changes.begin(), changes.end(), [](const Change& a, const Change& b) {
    return a.key != b.key ? a.key < b.key : a.seq < b.seq;
  });
  std::vector<Instant>& out = instants_scratch_;
  out.clear();
  Instant now{model_.GlobalBefore(from), base, from == 0 ? kNever : from - 1};
  out.push_back(now);
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const Change& c = changes[i];
    bool ended = false;
    if (c.global) now.global = ReferenceModel::ApplyGlobal(now.global, run_->events[c.index], &ended);
    now.mask |= c.bits;
    now.after = c.index;
    // One instant per log position: a fact and a global event may share an index.
    if (i + 1 < changes.size() && changes[i + 1].key == c.key && c.key != kNever) continue;
    out.push_back(now);
  }
  // The start's own publish was ordered first, but it may come after any of the other threads'
  // effects logged during its interval (a preemption inside the start, before its publish,
  // lets a cancel see the network come back up and still find the slot unpublished): until
  // another fact of the request, each instant may also be one without the start.
  if (early_start_bit != 0) {
    std::vector<Instant> both;  // each copy right after its instant: the order stays a timeline
    both.reserve(out.size() * 2);
    for (const Instant& in : out) {
      both.push_back(in);
      if ((in.mask & early_start_bit) == 0 || (in.mask & ~(base | early_start_bit)) != 0) continue;
      Instant without = in;
      without.mask &= static_cast<uint16_t>(~early_start_bit);
      both.push_back(without);
    }
    out.swap(both);
  }
  return out;
}

// A blocking call checked the session before its hook ran: its interval begins before the
// hook's events.
std::size_t Checker::BlockingCallStart(std::size_t index) const {
  std::size_t j = index;
  for (;;) {
    std::size_t from = model_.IntervalStart(j);
    if (from == 0) return 0;
    EventType prev = run_->events[from - 1].type;
    if (prev != EventType::kHookCall && prev != EventType::kHookCancel) return from;
    j = from - 1;
  }
}

void Checker::BlockingContext(std::size_t index, std::size_t from, CallContext* ctx) const {
  std::size_t cancel = kNever;
  for (std::size_t j = index; model_.IntervalStart(j) > from;) {
    j = model_.IntervalStart(j) - 1;  // the thread's previous event: one of its hook's
    const Event& e = run_->events[j];
    if (e.type == EventType::kHookCancel && e.result == 0) cancel = j;
  }
  ctx->blocking_canceled = cancel != kNever;
  if (cancel == kNever) return;
  // Its answer may still have come first if a delivery of a request no start returned (the
  // blocking call's own) was under way once the hook that canceled began.
  std::size_t hook_began = model_.IntervalStart(cancel);
  ctx->completion_possible = false;
  for (const Request& r : model_.requests()) {
    if (!r.app && r.begin != kNever && r.begin < index && (r.end == kNever || r.end >= hook_began)) {
      ctx->completion_possible = true;
    }
  }
}

// Whether another thread's wsaf_gethostbyname was under way at some point of [from, index]:
// one of its hook events or its own event comes at or after `from`, and it began by `index`.
bool Checker::BlockingCallDuring(std::size_t index, std::size_t from) const {
  int thread = run_->events[index].thread;
  for (std::size_t k = from; k < model_.observed(); ++k) {
    const Event& e = run_->events[k];
    bool blocking = e.type == EventType::kBlockingCall || e.type == EventType::kHookCall ||
                    e.type == EventType::kHookCancel;
    if (blocking && e.thread != thread && BlockingCallStart(k) <= index) return true;
  }
  return false;
}

// Whether an event of another application thread in [from, index) reports a failed call: the
// last-error check waited across it.
bool Checker::OtherThreadFailedDuring(std::size_t index, std::size_t from) const {
  int thread = run_->events[index].thread;
  for (std::size_t k = from; k < index; ++k) {
    const Event& e = run_->events[k];
    if (e.thread != thread && e.thread < run_->app_threads && e.error != 0) return true;
  }
  return false;
}

void Checker::SettleEpoch(std::size_t index, const std::vector<Instant>& instants) {
  Request* r = model_.Find(run_->events[index].handle);
  if (r == nullptr || r->start != index) return;
  uint32_t lo = UINT32_MAX, hi = 0;
  for (const Instant& in : instants) {
    if (in.global.refs == 0) continue;
    lo = std::min(lo, in.global.epoch);
    hi = std::max(hi, in.global.epoch);
  }
  if (lo > hi) return;
  r->epoch_certain = lo == hi;
  if (lo == hi) r->epoch = lo;
}

void Checker::ReportCall(std::size_t index, ApiCall call, int outcome, const OutcomeSet& allowed,
                         const std::vector<Instant>& instants, std::size_t from, const Request* r) {
  const Event& e = run_->events[index];
  bool is_cancel = call == ApiCall::kCancel || call == ApiCall::kHookAsyncCancel;
  bool is_start = call == ApiCall::kAsyncStart || call == ApiCall::kHookAsyncStart;
  // A record made only by cancels is no request: its handle was never issued.
  if (r != nullptr && !r->app && r->begin == kNever) r = nullptr;
  std::vector<std::string> states, sessions;
  bool all_finished = true;
  for (const Instant& in : instants) {
    std::string g = DescribeGlobal(in.global);
    if (std::find(sessions.begin(), sessions.end(), g) == sessions.end()) sessions.push_back(g);
    if (r == nullptr) continue;
    HandleView v = model_.ViewOf(*r, in.mask);
    ModelState c = v.Collapsed();
    all_finished &= c == ModelState::kUnissued || c == ModelState::kCanceled ||
                    c == ModelState::kDelivered || c == ModelState::kStale || c == ModelState::kSwallowed;
    std::string s = DescribeView(v);
    if (std::find(states.begin(), states.end(), s) == states.end()) states.push_back(s);
  }
  const char* invariant = kInvApiResult;
  if (is_start && e.handle == 0 && outcome == kOutcomeFalse) invariant = kInvHandleZero;
  if (is_cancel && e.handle == 0 && (outcome == 0 || outcome == WSAEALREADY)) invariant = kInvHandleZero;
  if (is_cancel && e.handle != 0 && outcome == 0 && all_finished) invariant = kInvStaleHandle;
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", then ") + x;
    return s;
  };
  std::string result = DescribeResult(e);
  std::string d = Where(index) + " returned " + (result.empty() ? OutcomeName(outcome) : result);
  if (is_cancel && e.handle != 0) {
    d += r != nullptr ? "; request " + DescribeRequest(*run_, *r) : "; that handle was never issued";
    if (!states.empty()) d += "; its model state during the call: " + join(states);
  }
  d += "; session: " + join(sessions);
  d += "; the call ran within #" + std::to_string(from) + "..#" + std::to_string(index);
  d += "; SPEC allows " + allowed.ToString();
  Fail(invariant, index, is_cancel || is_start ? e.handle : 0, std::move(d));
}

}  // namespace wsaf::check
