// The reference model's bookkeeping: ingesting the log into per-handle facts, windows and
// session states, and deriving a request's state from the facts that have happened.
#include "check/reference_model.h"

namespace wsaf::check {

using sim::Event;
using sim::EventType;

ReferenceModel::ReferenceModel(const sim::Run* run) : run_(run) {}

void ReferenceModel::Reserve(std::size_t events, std::size_t requests) {
  globals_.reserve(events);
  interval_start_.reserve(events);
  global_events_.reserve(events / 4);
  requests_.reserve(requests);
  by_handle_.reserve(requests);
}

GlobalState ReferenceModel::GlobalBefore(std::size_t index) const {
  if (index == 0 || globals_.empty()) return GlobalState{};
  return globals_[(index <= globals_.size() ? index : globals_.size()) - 1];
}

GlobalState ReferenceModel::ApplyGlobal(GlobalState g, const Event& e, bool* ended_epoch) {
  *ended_epoch = false;
  switch (e.type) {
    case EventType::kStartup:
      if (e.result != 0) break;
      // The session's first startup negotiates; nested ones keep what it chose.
      if (g.refs == 0) g.v11 = LOBYTE(static_cast<WORD>(e.arg)) == 1;
      ++g.refs;
      break;
    case EventType::kCleanup:
      if (e.result != 0 || g.refs == 0) break;
      if (--g.refs == 0) {
        ++g.epoch;
        g.v11 = false;
        *ended_epoch = true;
      }
      break;
    case EventType::kNetworkDown: g.network_down = e.arg != 0; break;
    default: break;
  }
  return g;
}

void ReferenceModel::Observe(std::size_t index) {
  const Event& e = run_->events[index];
  std::size_t from = index;
  if (e.thread == run_->app_threads) {
    // The resolver logs before and after a delivery: the delivery happens in between.
    if (e.type == EventType::kResolverEnd && open_begin_ != kNever) from = open_begin_;
  } else if (e.thread >= 0) {
    if (last_event_.size() <= static_cast<std::size_t>(e.thread)) last_event_.resize(e.thread + 1, -1);
    from = static_cast<std::size_t>(last_event_[e.thread] + 1);
    last_event_[e.thread] = static_cast<long long>(index);
  }
  interval_start_.push_back(from);
  GlobalState before = GlobalBefore(index);
  bool ended = false;
  globals_.push_back(ApplyGlobal(before, e, &ended));
  if (e.type == EventType::kStartup || e.type == EventType::kCleanup ||
      e.type == EventType::kNetworkDown) {
    global_events_.push_back(index);
  }
  if (ended) {
    if (epoch_end_.size() <= before.epoch) epoch_end_.resize(before.epoch + 1, kNever);
    epoch_end_[before.epoch] = index;
  }

  switch (e.type) {
    case EventType::kCreateWindow:
      if (e.window >= 0) {
        if (windows_.size() <= static_cast<std::size_t>(e.window)) windows_.resize(e.window + 1);
        if (windows_[e.window].created == kNever) windows_[e.window].created = index;
      }
      break;
    case EventType::kDestroyWindow:
      if (e.result == TRUE && e.window >= 0) {
        if (windows_.size() <= static_cast<std::size_t>(e.window)) windows_.resize(e.window + 1);
        if (windows_[e.window].destroyed == kNever) windows_[e.window].destroyed = index;
        CountTransitionsAll(index);
      }
      break;
    case EventType::kStart: ObserveStart(index, e); break;
    case EventType::kCancel:
    case EventType::kHookCall:
      if (e.type == EventType::kHookCall && e.arg != static_cast<int>(sim::HookOp::kAsyncCancel)) break;
      if (e.result == 0 && e.handle != 0) {
        // A start still under way may own the handle (it is logged later): keep the fact.
        Request& r = FindOrAdd(e.handle);
        ++r.cancels_ok;
        if (r.cancel_ok == kNever) r.cancel_ok = index;
        CountTransition(r, index);
      }
      break;
    case EventType::kPeek:
    case EventType::kGet: ObserveMessage(index, e); break;
    case EventType::kResolverBegin:
    case EventType::kResolverEnd: ObserveResolver(index, e); break;
    default: break;
  }
  if (ended) CountTransitionsAll(index);
}

Request& ReferenceModel::FindOrAdd(uint64_t handle) {
  auto it = by_handle_.find(handle);
  if (it != by_handle_.end()) return requests_[it->second];
  by_handle_.emplace(handle, requests_.size());
  Request r;
  r.handle = handle;
  requests_.push_back(std::move(r));
  return requests_.back();
}

Request& ReferenceModel::FindOrAddSeen(uint64_t handle, std::size_t index) {
  Request& r = FindOrAdd(handle);
  if (r.first_fact == kNever) r.first_fact = index;
  return r;
}

void ReferenceModel::ObserveStart(std::size_t index, const Event& e) {
  if (e.handle == 0) return;
  if (e.buffer >= 0) {
    if (buffer_owners_.size() <= static_cast<std::size_t>(e.buffer)) buffer_owners_.resize(e.buffer + 1);
    ++buffer_owners_[e.buffer];
  }
  auto it = by_handle_.find(e.handle);
  if (it != by_handle_.end() && requests_[it->second].app) return;  // reused: keep the first
  // The resolver (or a pump) may have met the handle before the start returned: claim it.
  Request& r = FindOrAddSeen(e.handle, index);
  r.app = true;
  r.start = index;
  r.thread = e.thread;
  r.kind = e.kind;
  r.window = e.window;
  r.buffer = e.buffer;
  r.buflen = e.buflen;
  // Provisional: a start that returned after a final cleanup belongs to the ended session.
  GlobalState g = GlobalBefore(index);
  r.epoch = (g.refs > 0 || g.epoch == 0) ? g.epoch : g.epoch - 1;
  CountTransition(r, index);
}

void ReferenceModel::ObserveMessage(std::size_t index, const Event& e) {
  bool has_message = e.type == EventType::kGet ? e.result > 0 : e.result != 0;
  if (!has_message || e.msg_message != kCompletionMsg || e.msg_wparam == 0) return;
  bool removed = e.type == EventType::kGet || (e.arg & PM_REMOVE) != 0;
  Request& r = FindOrAddSeen(e.msg_wparam, index);
  if (removed) {
    ++r.removals;
    if (r.removed == kNever) r.removed = index;
  } else if (r.seen == kNever) {
    r.seen = index;
  }
  CountTransition(r, index);
}

void ReferenceModel::ObserveResolver(std::size_t index, const Event& e) {
  if (e.type == EventType::kResolverEnd) open_begin_ = kNever;
  if (e.handle == 0) return;
  Request& r = FindOrAddSeen(e.handle, index);
  if (e.type == EventType::kResolverBegin) {
    ++r.resolutions;
    if (r.begin == kNever) {
      r.begin = index;
      r.answer = e.answer;
    }
    open_begin_ = index;
  } else if (r.end == kNever) {
    r.end = index;
  }
  CountTransition(r, index);
}

Request* ReferenceModel::Find(uint64_t handle) {
  auto it = by_handle_.find(handle);
  return it == by_handle_.end() ? nullptr : &requests_[it->second];
}

const Request* ReferenceModel::Find(uint64_t handle) const {
  auto it = by_handle_.find(handle);
  return it == by_handle_.end() ? nullptr : &requests_[it->second];
}

std::size_t ReferenceModel::WindowCreated(int window) const {
  if (window < 0) return kNever;
  // A window the log never saw created existed before the log began (set-up windows).
  if (static_cast<std::size_t>(window) >= windows_.size()) return 0;
  std::size_t c = windows_[window].created;
  return c == kNever ? 0 : c;
}

std::size_t ReferenceModel::WindowDestroyed(int window) const {
  if (window < 0 || static_cast<std::size_t>(window) >= windows_.size()) return kNever;
  return windows_[window].destroyed;
}

std::size_t ReferenceModel::EpochEnd(uint32_t epoch) const {
  return epoch < epoch_end_.size() ? epoch_end_[epoch] : kNever;
}

bool ReferenceModel::BufferShared(int buffer) const {
  return buffer >= 0 && static_cast<std::size_t>(buffer) < buffer_owners_.size() &&
         buffer_owners_[buffer] > 1;
}

int ReferenceModel::FactsOf(const Request& r, FactTime out[8]) const {
  int n = 0;
  auto add = [&](uint16_t bit, std::size_t index, std::size_t from) {
    if (index == kNever && from == kNever) return;
    out[n++] = FactTime{bit, index, from};
  };
  auto from_of = [&](std::size_t i) { return i == kNever ? kNever : interval_start_[i]; };
  add(kFactStarted, r.start, from_of(r.start));
  add(kFactBegun, r.begin, r.begin);
  // A delivery under way (begun, not returned) may already have committed.
  add(kFactResolved, r.end, r.end != kNever ? from_of(r.end) : r.begin);
  add(kFactCanceled, r.cancel_ok, from_of(r.cancel_ok));
  add(kFactSeen, r.seen, from_of(r.seen));
  add(kFactRemoved, r.removed, from_of(r.removed));
  if (r.app) {
    if (r.window < 0) {
      add(kFactWindowGone, r.start, from_of(r.start));  // NULL hwnd: no window from the start
    } else {
      std::size_t d = WindowDestroyed(r.window);
      add(kFactWindowGone, d, from_of(d));
    }
    std::size_t f = EpochEnd(r.epoch);
    add(kFactSessionEnded, f, from_of(f));
  }
  return n;
}

uint16_t ReferenceModel::MaskAt(const Request& r, std::size_t index) const {
  FactTime facts[8];
  int n = FactsOf(r, facts);
  uint16_t mask = 0;
  for (int i = 0; i < n; ++i) {
    if (facts[i].index != kNever && facts[i].index <= index) mask |= facts[i].bit;
  }
  return mask;
}

HandleView ReferenceModel::ViewOf(const Request& r, uint16_t mask) const {
  bool begun_before_end = false;
  if (mask & kFactSessionEnded) {
    std::size_t f = EpochEnd(r.epoch);
    begun_before_end = r.begin != kNever && r.begin <= f;
  }
  HandleView v = ViewFromFacts(mask, r.app, begun_before_end);
  v.epoch_certain = r.epoch_certain;
  return v;
}

HandleView ReferenceModel::ViewFromFacts(uint16_t mask, bool app, bool begun_before_end) {
  HandleView v;
  bool started = app ? (mask & kFactStarted) != 0 : true;
  if (!started) return v;
  if (mask & kFactCanceled) v.lifecycle = ModelState::kCanceled;
  else if (mask & kFactRemoved) v.lifecycle = ModelState::kDelivered;
  else if (mask & kFactSeen) v.lifecycle = ModelState::kSeenQueued;
  else if (mask & kFactResolved) v.lifecycle = ModelState::kQueued;
  else if (mask & kFactBegun) v.lifecycle = ModelState::kResolving;
  else v.lifecycle = ModelState::kOutstanding;
  v.window_gone = (mask & kFactWindowGone) != 0;
  v.stale = (mask & kFactSessionEnded) != 0;
  if (v.stale) v.swallowed = !begun_before_end && v.lifecycle != ModelState::kCanceled;
  return v;
}

void ReferenceModel::CountTransition(Request& r, std::size_t index) {
  if (!r.app) return;
  ModelState s = ViewAt(r, index).Collapsed();
  if (s == r.last_state) return;
  ++transitions_[static_cast<int>(r.last_state) * kModelStates + static_cast<int>(s)];
  r.last_state = s;
}

void ReferenceModel::CountTransitionsAll(std::size_t index) {
  for (Request& r : requests_) CountTransition(r, index);
}

}  // namespace wsaf::check
