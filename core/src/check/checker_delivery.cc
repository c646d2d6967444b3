// The Checker's delivery rules: what a completion message must say given the resolver's
// answer, what the buffer must hold, which buffers must stay untouched, and that nothing that
// should have been delivered was lost.
#include <algorithm>

#include "check/buffer_inspect.h"
#include "check/checker.h"
#include "check/event_format.h"
#include "check/names.h"
#include "resolver/pack.h"
#include "table/task_table.h"

namespace wsaf::check {

using sim::Event;
using sim::EventType;
using sim::GuardedBuffer;

namespace {

struct Reply {
  int error;
  uint32_t len;
};

std::string ReplyString(const Reply& r) {
  return OutcomeName(r.error) + " len " + std::to_string(r.len);
}

bool ValidatePacked(int kind, const char* buf, std::size_t len, const char** why) {
  switch (static_cast<RequestKind>(kind)) {
    case RequestKind::kHostByName:
    case RequestKind::kHostByAddr: return ValidatePackedHostent(buf, len, why);
    case RequestKind::kProtoByName:
    case RequestKind::kProtoByNumber: return ValidatePackedProtoent(buf, len, why);
    case RequestKind::kServByName:
    case RequestKind::kServByPort: return ValidatePackedServent(buf, len, why);
  }
  *why = "unknown request kind";
  return false;
}

}  // namespace

const GuardedBuffer* Checker::ExclusiveBuffer(const Request& r) const {
  if (!r.app || r.buffer < 0 || static_cast<std::size_t>(r.buffer) >= run_->buffers.size()) return nullptr;
  // Another request's result may legitimately sit in a shared buffer.
  if (model_.BufferShared(r.buffer)) return nullptr;
  return &run_->buffers[r.buffer];
}

bool Checker::CheckGuards(std::size_t index, const Request& r) {
  const GuardedBuffer* b = ExclusiveBuffer(r);
  if (b == nullptr) return true;
  std::size_t off = FirstBrokenGuard(*b);
  if (off == kNoChange) return true;
  return Fail(kInvBufferOverrun, index, r.handle,
              "the buffer of " + DescribeRequest(*run_, r) + " has " + DescribeOffset(*b, off) +
                  " changed (seen at #" + std::to_string(index) + ")");
}

void Checker::CheckMessage(std::size_t index) {
  const Event& e = run_->events[index];
  // Reports only: built on a failure, not for every message.
  auto where = [&] { return Where(index) + " got " + DescribeMessage(e); };
  if (e.msg_wparam == 0) {
    Fail(kInvHandleZero, index, 0, where() + ": a completion message with a NULL handle");
    return;
  }
  Request* r = model_.Find(e.msg_wparam);
  if (r == nullptr || (!r->app && r->begin == kNever)) {
    Fail(kInvMessageUnknown, index, e.msg_wparam,
         where() + ": no start returned that handle and the resolver never answered it");
    return;
  }
  if (r->begin == kNever || r->begin > index) {
    Fail(kInvMessageContent, index, r->handle,
         where() + ": the resolver had not begun to answer " + DescribeRequest(*run_, *r));
    return;
  }
  std::size_t f = r->app && r->epoch_certain ? model_.EpochEnd(r->epoch) : kNever;
  if (f != kNever && r->begin > f) {
    Fail(kInvDeliveryAfterCleanup, index, r->handle,
         where() + ": " + DescribeRequest(*run_, *r) + " was outstanding when " + Where(f) +
             " (the final one) returned; the resolver began it later, at #" + std::to_string(r->begin));
    return;
  }
  if (r->app) {
    std::size_t gone = r->window < 0 ? r->start : model_.WindowDestroyed(r->window);
    if (gone != kNever && gone < model_.IntervalStart(index)) {
      Fail(kInvDeliveryAfterDestroy, index, r->handle,
           where() + ": " + DescribeRequest(*run_, *r) +
               (r->window < 0 ? " has no window" : " lost its window at #" + std::to_string(gone)) +
               ", so it must complete silently");
      return;
    }
  }
  CheckContent(index, *r);
}

void Checker::NetworkDuring(std::size_t begin, std::size_t limit, bool* down, bool* up) const {
  bool at_begin = model_.GlobalBefore(begin).network_down;
  *down = at_begin;
  *up = !at_begin;
  const std::vector<std::size_t>& globals = model_.global_events();
  for (auto it = std::lower_bound(globals.begin(), globals.end(), begin); it != globals.end(); ++it) {
    const Event& g = run_->events[*it];
    if (g.type != EventType::kNetworkDown || model_.IntervalStart(*it) > limit) continue;
    (g.arg != 0 ? *down : *up) = true;
  }
}

void Checker::CheckContent(std::size_t index, Request& r) {
  const Event& e = run_->events[index];
  DWORD reply = static_cast<DWORD>(e.msg_lparam);
  Reply got{WSAGETASYNCERROR(reply), WSAGETASYNCBUFLEN(reply)};
  auto where = [&] { return Where(index) + " got " + DescribeMessage(e) + " for " + DescribeRequest(*run_, r); };
  if (r.has_lparam) {
    if (r.lparam != e.msg_lparam) {
      DWORD first = static_cast<DWORD>(r.lparam);
      Fail(kInvMessageContent, index, r.handle,
           where() + ", but the same message read " +
               ReplyString({WSAGETASYNCERROR(first), WSAGETASYNCBUFLEN(first)}) + " before");
    }
    return;  // the first observation checked the rest
  }
  r.has_lparam = true;
  r.lparam = e.msg_lparam;
  coverage_.CountMessageError(r.kind, got.error);
  // The completion read the network state somewhere in the delivery.
  std::size_t limit = r.end != kNever && r.end < index ? r.end : index;
  bool down = false, up = false;
  NetworkDuring(r.begin, limit, &down, &up);
  std::vector<Reply> expected;
  if (down) expected.push_back({WSAENETDOWN, 0});
  uint32_t need = r.answer.packed_size;
  if (up && r.answer.error != 0) expected.push_back({r.answer.error, 0});
  else if (up && need == 0) expected.push_back({WSANO_RECOVERY, 0});
  else if (up && !r.app) expected.insert(expected.end(), {{0, LOWORD(need)}, {WSAENOBUFS, LOWORD(need)}});
  else if (up && (r.buffer < 0 || need > static_cast<uint32_t>(std::max(r.buflen, 0)))) expected.push_back({WSAENOBUFS, LOWORD(need)});
  else if (up) expected.push_back({0, LOWORD(need)});
  for (const Reply& x : expected) {
    if (x.error == got.error && x.len == got.len) {
      CheckResultBytes(index, r, got.error, got.len);
      return;
    }
  }
  std::string exp;
  for (const Reply& x : expected) exp += (exp.empty() ? "" : " or ") + ReplyString(x);
  std::string answer = r.answer.error != 0 ? WinsockErrorString(r.answer.error)
                                           : "OK, " + std::to_string(need) + " bytes packed";
  Fail(kInvMessageContent, index, r.handle,
       where() + ": the resolver answered " + answer + " at #" + std::to_string(r.begin) + ", the network was " +
           (down && up ? "up and down" : down ? "down" : "up") + " during the delivery (#" +
           std::to_string(r.begin) + "..#" + std::to_string(limit) + "); expected " + exp);
}

void Checker::CheckResultBytes(std::size_t index, const Request& r, int error, uint32_t len) {
  const GuardedBuffer* b = ExclusiveBuffer(r);
  if (b == nullptr || !CheckGuards(index, r)) return;
  auto where = [&] {
    return Where(index) + " got " + DescribeMessage(run_->events[index]) + " for " + DescribeRequest(*run_, r);
  };
  if (error == WSAENOBUFS) {
    std::size_t off = FirstTouched(*b, 0);
    if (off != kNoChange) {
      Fail(kInvMessageContent, index, r.handle,
           where() + ", but the buffer was written (" + DescribeOffset(*b, off) + "); SPEC: untouched");
    }
    return;
  }
  if (error != 0) return;
  const char* why = "";
  if (len > static_cast<uint32_t>(b->len) || !ValidatePacked(r.kind, b->data(), len, &why)) {
    Fail(kInvMessageContent, index, r.handle,
         where() + ", but the buffer does not hold a valid result of that length: " +
             (len > static_cast<uint32_t>(b->len) ? "longer than the buffer" : why));
    return;
  }
  std::size_t off = FirstTouched(*b, len);
  if (off != kNoChange) {
    Fail(kInvMessageContent, index, r.handle,
         where() + ", but the buffer was written past the result (" + DescribeOffset(*b, off) + ")");
  }
}

// Buffers that must not change any more: at each resolver return (index) and at the end (kNever).
void Checker::CheckBuffersOf(std::size_t index, const Request& r) {
  const GuardedBuffer* b = ExclusiveBuffer(r);
  std::size_t at = index == kNever ? (run_->events.empty() ? 0 : run_->events.size() - 1) : index;
  if (b == nullptr || !CheckGuards(at, r)) return;
  auto when = [&]() -> std::string { return index == kNever ? " at the end of the run" : " when the resolver returned (#" + std::to_string(index) + ")"; };
  std::size_t f = r.epoch_certain ? model_.EpochEnd(r.epoch) : kNever;
  bool swallowed = f != kNever && (r.begin == kNever || r.begin > f);
  if (r.cancel_ok != kNever || swallowed) {
    std::size_t off = FirstTouched(*b, 0);
    if (off == kNoChange) return;
    std::string why = r.cancel_ok != kNever ? Where(r.cancel_ok) + " returned 0"
                                            : "it was outstanding when the final " + Where(f) + " returned";
    Fail(kInvBufferWriteAfterCancel, at, r.handle,
         "the buffer of " + DescribeRequest(*run_, r) + " was written (" + DescribeOffset(*b, off) + ")" +
             when() + ", but " + why);
    return;
  }
  if (!r.has_snapshot) return;
  std::size_t off = FirstDifference(*b, r.cleanup_snapshot);
  if (off != kNoChange) {
    Fail(kInvBufferWriteAfterCleanup, at, r.handle,
         "the buffer of " + DescribeRequest(*run_, r) + " changed (" + DescribeOffset(*b, off) + ")" +
             when() + " after the final " + Where(f) + " returned");
  }
}

std::size_t Checker::StrayCancelDuring(const Request& r) const {
  std::size_t from = model_.IntervalStart(r.start);
  for (const Request& q : model_.requests()) {
    if (q.app || q.begin != kNever || q.cancel_ok == kNever || q.cancel_ok < from) continue;
    if (r.begin == kNever || model_.IntervalStart(q.cancel_ok) <= r.begin) return q.cancel_ok;
  }
  return kNever;
}

void Checker::CheckLostDeliveries() {
  for (const Request& r : model_.requests()) {
    if (!r.app || r.cancel_ok != kNever || r.removed != kNever || !r.epoch_certain) continue;
    if (r.window < 0 || model_.WindowDestroyed(r.window) != kNever) continue;  // completes silently
    std::size_t f = model_.EpochEnd(r.epoch);
    // The final cleanup drops completions not yet posted, and one the resolver returned may
    // still have been waiting for room in a full queue: only a message seen queued before the
    // cleanup began must still arrive.
    if (f != kNever && !(r.seen != kNever && r.seen < model_.IntervalStart(f))) continue;
    std::size_t last = std::max({r.start, r.begin == kNever ? 0 : r.begin, r.end == kNever ? 0 : r.end,
                                 r.seen == kNever ? 0 : r.seen});
    std::string detail = DescribeRequest(*run_, r) + " was never delivered: at the end it is " +
                         DescribeView(model_.ViewAt(r, run_->events.size() - 1));
    detail += r.begin == kNever ? "; the resolver never answered it"
                                : "; the resolver answered it at #" + std::to_string(r.begin) +
                                      (r.end == kNever ? " and never returned" : "..#" + std::to_string(r.end));
    if (r.seen != kNever) detail += "; its message was seen at #" + std::to_string(r.seen) + " but never removed";
    // A cancel of a handle no start returned succeeded while this request was outstanding
    // (accepted then because a blocking call's own request might have been its target).
    std::size_t stray = StrayCancelDuring(r);
    if (stray != kNever) {
      Fail(kInvStaleHandle, stray, r.handle,
           Where(stray) + " returned 0 for a handle no start returned, while " + detail +
               ": the stale handle canceled this newer request");
      return;
    }
    Fail(kInvLostDelivery, last, r.handle, detail + "; no cancel returned 0 and its window lives");
    return;
  }
}

}  // namespace wsaf::check
