#include "worker.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <thread>

#include "api/engine.h"
#include "table/task_table.h"

namespace wsaf::stress {

namespace {

constexpr int kLargeBuffer = 4096;
constexpr int kStaleKept = 64;
constexpr int64_t kDestroyEveryUs = 100'000;
constexpr std::size_t kMaxOrphans = 256;
constexpr int kQueueLimit = 10000;  // SPEC.md: a queue holds at most 10,000 messages
constexpr uint8_t kCanaries[] = {0xa5, 0x5a, 0xc3, 0x3c, 0xee};

int QueryIndex(const char* label) {
  const auto& c = Catalog();
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (std::strcmp(c[i].label, label) == 0) return static_cast<int>(i);
  }
  return 0;
}

bool IsCompletion(const MSG& m) {
  return m.message >= kCompletionFirst && m.message <= kCompletionLast;
}

std::string Hex(uint64_t h) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%#" PRIx64, h);
  return buf;
}

}  // namespace

Worker::Worker(RunState& run, int index)
    : run_(run),
      index_(index),
      checker_(run, index, stats_),
      rng_(run.opts.seed ^ (0x9e3779b97f4a7c15ull * static_cast<uint64_t>(index + 1))) {
  // Before any worker runs: a helper must never see a NULL HWND, which PeekMessage reads as
  // "every window" (it would take other workers' messages before they are recorded).
  for (WindowSlot& w : windows_) {
    w.hwnd.store(wsaf_create_window(), std::memory_order_release);
    if (w.hwnd.load() == nullptr) checker_.Violation("wsaf_create_window returned NULL", 0);
  }
}

void Worker::Run() {
  for (;;) {
    if (run_.board.generation() != board_gen_) {
      if (!HandlePhases()) break;
      continue;
    }
    Step();
  }
  done.store(true, std::memory_order_release);
}

// One operation, chosen by weight (out of 1000).
void Worker::Step() {
  stats_.ops.Add();
  uint32_t pick = rng_.Below(1000);
  int k = static_cast<int>(rng_.Below(kWindows));
  if (pick < 400) {
    StartOne(std::nullopt, -1, -1);
  } else if (pick < 700) {
    Pump(k, 8, rng_.Chance(0.25));
  } else if (pick < 715) {
    GetOne();
  } else if (pick < 755) {
    HelpPump();
  } else if (pick < 775) {
    if (uint64_t h = run_.recent.Pick(rng_); h != 0) checker_.Cancel(h, CancelMoment::kCrossThread);
  } else if (pick < 800) {
    CancelStale();
  } else if (pick < 820) {
    CancelOdd();
  } else if (pick < 823) {
    DestroyOneWindow();
  } else if (pick < 833) {
    NestedSession();
  } else if (pick < 853) {
    PostNoise();
  } else if (pick < 863) {
    StartBadArgs();
  } else if (pick < 866) {
    Flood();
  } else if (pick < 880) {
    std::this_thread::yield();
  } else {
    Pump(k, 8, false);
  }
  RunDueCancels();
  Settle();
  CheckQuarantine(false);
}

// --- Starting ------------------------------------------------------------------------------

Buffer Worker::MakeBuffer(int query, BufMode* mode) {
  int need = run_.sizes.Get(static_cast<std::size_t>(query));
  uint32_t r = rng_.Below(100);
  int len = kLargeBuffer;
  *mode = BufMode::kLarge;
  if (r < 30) {
  } else if (r < 50) {
    *mode = BufMode::kMaxGetHost;
    len = MAXGETHOSTSTRUCT;
  } else if (r < 60) {
    *mode = BufMode::kTiny;
    len = 1 + static_cast<int>(rng_.Below(48));
  } else if (r < 75) {
    if (need > 0) {
      *mode = BufMode::kExact;
      len = need;
    }
  } else if (r < 87) {
    if (need > 8) {
      *mode = BufMode::kShort;  // one to eight bytes short: an off-by-a-pointer check overruns
      len = need - 1 - static_cast<int>(rng_.Below(8));
    }
  } else {
    *mode = BufMode::kSizeQuery;
    len = 0;
  }
  int offset = rng_.Chance(0.1) ? 1 + static_cast<int>(rng_.Below(7)) : 0;
  // Unguarded allocations only where a sanitizer watches them: elsewhere an overrun into one
  // would corrupt the heap instead of being reported.
  bool exact = kSanitizerBuild && rng_.Chance(0.3);
  uint8_t canary = kCanaries[rng_.Below(sizeof(kCanaries))];
  return NewBuffer(len, offset, exact, *mode == BufMode::kSizeQuery, canary);
}

uint64_t Worker::StartOne(std::optional<CancelMoment> forced_plan, int forced_query,
                          int locked_window) {
  // The flood (locked_window >= 0) starts its two requests whatever the count: they are its
  // point.
  if (locked_window < 0 && live_.size() >= static_cast<std::size_t>(run_.opts.max_outstanding)) {
    Pump(static_cast<int>(rng_.Below(kWindows)), 16, false);
    return 0;
  }
  const auto& catalog = Catalog();
  int qi = forced_query >= 0 ? forced_query : static_cast<int>(rng_.Below(catalog.size()));
  int k = locked_window >= 0 ? locked_window : static_cast<int>(rng_.Below(kWindows));
  const Query& q = catalog[qi];
  // The message may be posted before StartQuery even returns: no pump may remove it before
  // the ledger knows the handle, so the window stays locked until then.
  std::unique_lock<std::mutex> window_lock(windows_[k].pump_mu, std::defer_lock);
  if (locked_window < 0) window_lock.lock();
  auto* r = new Record;
  BufMode mode;
  r->buffer = MakeBuffer(qi, &mode);
  r->owner = static_cast<uint16_t>(index_);
  r->query = static_cast<uint16_t>(qi);
  r->buf_mode = static_cast<uint8_t>(mode);
  r->hwnd = windows_[k].hwnd.load(std::memory_order_acquire);
  r->msg = kCompletionFirst + rng_.Below(kCompletionLast - kCompletionFirst + 1);
  r->session = run_.session.load(std::memory_order_acquire);
  r->fault_seq = run_.fault_seq.load(std::memory_order_acquire);  // seqlock read: seq, then flag
  r->fault_free = run_.fault_free.load(std::memory_order_acquire);
  r->netdown_seq = run_.netdown_seq.load(std::memory_order_acquire);
  r->start_us = NowUs();
  WSASetLastError(0);
  HANDLE h = StartQuery(q, r->hwnd, r->msg, r->buffer.buf, r->buffer.len);
  if (h == nullptr) {
    checker_.OnStartFailed(WSAGetLastError(), 0);
    FreeBuffer(&r->buffer);
    delete r;
    return 0;
  }
  uint64_t handle = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(h));
  r->handle = handle;
  stats_.starts[static_cast<int>(q.kind)].Add();
  const char* repeat = run_.handles.Note(handle);
  if (repeat != nullptr)
    checker_.Violation("a start returned handle " + Hex(handle) + ": " + repeat, handle);
  Buffer buffer = r->buffer;
  Event start{0,
              r->start_us,
              static_cast<uint16_t>(index_),
              EventType::kStart,
              static_cast<uint8_t>(mode),
              r->buffer.len,
              qi};
  if (!run_.ledger.Add(r, start)) {
    if (repeat == nullptr) {
      checker_.Violation("a start returned handle " + Hex(handle) +
                             ", which an earlier request still holds in the ledger",
                         handle);
    }
    abandoned_.push_back(buffer);  // the library may still write it: keep it to the end
    return 0;
  }
  if (window_lock.owns_lock()) window_lock.unlock();
  run_.recent.Push(handle);
  CancelMoment plan = CancelMoment::kCount;
  if (forced_plan.has_value()) {
    plan = *forced_plan;
  } else if (rng_.Chance(run_.opts.cancel_ratio)) {
    static constexpr CancelMoment kPlans[] = {
        CancelMoment::kImmediate,     CancelMoment::kImmediate, CancelMoment::kAfterYield,
        CancelMoment::kDelayed,       CancelMoment::kDelayed,   CancelMoment::kWhenQueued,
        CancelMoment::kAfterDispatch, CancelMoment::kTwice};
    plan = kPlans[rng_.Below(sizeof(kPlans) / sizeof(kPlans[0]))];
  }
  live_.push_back(Live{r, k, plan, 0});
  ApplyPlanNow(live_.back());
  return handle;
}

void Worker::ApplyPlanNow(Live& l) {
  uint64_t h = l.rec->handle;
  switch (l.plan) {
    case CancelMoment::kImmediate:
    case CancelMoment::kRace:
      checker_.Cancel(h, l.plan);
      break;
    case CancelMoment::kAfterYield:
      std::this_thread::yield();
      checker_.Cancel(h, l.plan);
      break;
    case CancelMoment::kTwice:
      checker_.Cancel(h, CancelMoment::kImmediate);
      checker_.Cancel(h, CancelMoment::kTwice);
      break;
    case CancelMoment::kDelayed:
      l.cancel_at_us = NowUs() + rng_.Below(3000);
      return;
    default:
      return;  // when-queued and after-dispatch wait for their moment
  }
  l.plan = CancelMoment::kCount;
}

// Arguments SPEC.md rejects with WSAEFAULT, after the session checks.
void Worker::StartBadArgs() {
  HWND hwnd = windows_[0].hwnd.load(std::memory_order_acquire);
  Buffer b = NewBuffer(64, 0, false, false, 0xa5);
  static const char kAddr[4] = {10, 0, 0, 1};
  HANDLE h = nullptr;
  WSASetLastError(0);
  switch (rng_.Below(6)) {
    case 0:
      h = WSAAsyncGetHostByName(hwnd, kCompletionFirst, nullptr, b.buf, b.len);
      break;
    case 1:
      h = WSAAsyncGetServByName(hwnd, kCompletionFirst, "http", "tcp", nullptr, 16);
      break;
    case 2:
      h = WSAAsyncGetProtoByNumber(hwnd, kCompletionFirst, 6, b.buf, -1);
      break;
    case 3:
      h = WSAAsyncGetHostByAddr(hwnd, kCompletionFirst, nullptr, 4, AF_INET, b.buf, b.len);
      break;
    case 4:
      h = WSAAsyncGetHostByAddr(hwnd, kCompletionFirst, kAddr, 3, AF_INET, b.buf, b.len);
      break;
    default:
      h = WSAAsyncGetProtoByName(hwnd, kCompletionFirst, nullptr, b.buf, b.len);
      break;
  }
  stats_.bad_arg_starts.Add();
  if (h != nullptr) {
    checker_.Violation("a start with invalid arguments returned handle " +
                           Hex(reinterpret_cast<uintptr_t>(h)) + " (SPEC.md: WSAEFAULT)",
                       0);
    abandoned_.push_back(b);
    return;
  }
  checker_.OnStartFailed(WSAGetLastError(), WSAEFAULT);
  FreeBuffer(&b);
}

void Worker::RunDueCancels() {
  int64_t now = NowUs();
  for (Live& l : live_) {
    if (l.plan == CancelMoment::kDelayed && now >= l.cancel_at_us) {
      checker_.Cancel(l.rec->handle, CancelMoment::kDelayed);
      l.plan = CancelMoment::kCount;
    }
  }
}

// --- Pumping -------------------------------------------------------------------------------

void Worker::Pump(int k, int max, bool look_first) {
  std::lock_guard<std::mutex> lock(windows_[k].pump_mu);
  HWND hwnd = windows_[k].hwnd.load(std::memory_order_acquire);
  for (int i = 0; i < max; ++i) {
    MSG m{};
    if (!look_first) {
      UINT lo = 0, hi = 0;
      uint32_t f = rng_.Below(10);
      if (f < 2) {
        lo = kCompletionFirst;
        hi = kCompletionLast;
      } else if (f < 3) {
        lo = hi = kCompletionFirst + rng_.Below(kCompletionLast - kCompletionFirst + 1);
      }
      if (!PeekMessage(&m, hwnd, lo, hi, PM_REMOVE)) break;
      if (lo != 0 && (m.message < lo || m.message > hi)) {
        checker_.Violation(
            "PeekMessage returned message " + std::to_string(m.message) + " outside its filter", 0);
      }
      Dispatch(m, Via::kPeek);
      continue;
    }
    if (!PeekMessage(&m, hwnd, 0, 0, PM_NOREMOVE)) break;
    Live* l = IsCompletion(m) ? FindLive(m.wParam) : nullptr;
    if (l != nullptr) {
      checker_.OnSeenQueued(m.wParam);
      if (l->plan == CancelMoment::kWhenQueued || rng_.Chance(0.1)) {
        // Nothing can remove the message while we hold the pump lock: WSAEALREADY is due.
        checker_.Cancel(m.wParam, CancelMoment::kWhenQueued, /*strict_queued=*/true);
        if (rng_.Chance(0.3)) checker_.Cancel(m.wParam, CancelMoment::kWhenQueued, true);
        if (l->plan == CancelMoment::kWhenQueued) l->plan = CancelMoment::kCount;
      }
    }
    MSG again{};
    if (!PeekMessage(&again, hwnd, 0, 0, PM_REMOVE)) {
      checker_.Violation("PeekMessage PM_NOREMOVE showed a message that PM_REMOVE did not return",
                         m.wParam);
      break;
    }
    if (again.message != m.message || again.wParam != m.wParam || again.lParam != m.lParam) {
      checker_.Violation("PM_REMOVE returned another message than the PM_NOREMOVE look before it",
                         m.wParam);
    }
    Dispatch(again, Via::kPeekAfterLook);
  }
}

void Worker::Dispatch(const MSG& m, Via via) {
  if (IsCompletion(m)) {
    checker_.OnMessage(m, via);
  } else if (m.message == kNoiseMsg || m.message == kFloodMsg || m.message == kNudgeMsg) {
    stats_.noise.Add();
  } else {
    checker_.Violation(
        "a pump returned message " + std::to_string(m.message) + ", which nobody posted", 0);
  }
}

// GetMessage only where a message is due, holding the pump lock so no helper takes it. The
// watchdog wakes us if the message never comes (or reports a lost wake-up if it came).
void Worker::GetOne() {
  int k = -1;
  for (const Live& l : live_) {
    if (l.rec->settled.load(std::memory_order_acquire) == Settled::kLive &&
        l.plan != CancelMoment::kDelayed) {
      k = l.window;
      break;
    }
  }
  if (k < 0) return;
  std::lock_guard<std::mutex> lock(windows_[k].pump_mu);
  HWND hwnd = windows_[k].hwnd.load(std::memory_order_acquire);
  get_hwnd.store(hwnd, std::memory_order_release);
  get_calls.fetch_add(1, std::memory_order_acq_rel);
  get_since_us.store(NowUs() | 1, std::memory_order_release);
  stats_.gets.Add();
  MSG m{};
  BOOL rc = GetMessage(&m, hwnd, 0, 0);
  get_since_us.store(0, std::memory_order_release);
  if (rc == -1) {
    checker_.Violation("GetMessage answered -1 on a live window", 0);
  } else if (rc == 0) {
    checker_.Violation("GetMessage answered 0 (WM_QUIT), which nobody posted", 0);
  } else {
    Dispatch(m, Via::kGet);
  }
}

// Pumps another worker's window: dispatch then races its owner's cancels.
void Worker::HelpPump() {
  int n = static_cast<int>(run_.workers.size());
  if (n < 2) return;
  int j = static_cast<int>(rng_.Below(n - 1));
  if (j >= index_) ++j;
  WindowSlot& slot = run_.workers[j]->window(static_cast<int>(rng_.Below(kWindows)));
  std::unique_lock<std::mutex> lock(slot.pump_mu, std::try_to_lock);
  if (!lock.owns_lock()) return;
  HWND hwnd = slot.hwnd.load(std::memory_order_acquire);
  if (hwnd == nullptr) return;  // NULL would pump every window
  for (int i = 0; i < 4; ++i) {
    MSG m{};
    if (!PeekMessage(&m, hwnd, 0, 0, PM_REMOVE)) break;
    Dispatch(m, Via::kHelper);
  }
}

// --- Odd cancels -----------------------------------------------------------------------------

void Worker::CancelStale() {
  if (stale_.empty()) return;
  checker_.Cancel(stale_[rng_.Below(stale_.size())], CancelMoment::kStale);
}

void Worker::CancelOdd() {
  if (rng_.Chance(0.5)) {
    checker_.Cancel(0, CancelMoment::kZero);
    return;
  }
  // Generation 2^41 (task_table.h encoding): far beyond any this process can reach.
  uint64_t h = (uint64_t{1} << 63) | (rng_.Below(4096) + 1);
  checker_.Cancel(h, CancelMoment::kNeverIssued);
}

// --- Windows and sessions --------------------------------------------------------------------

void Worker::DestroyOneWindow() {
  int64_t now = NowUs();
  if (now < next_destroy_us_ || orphans_.size() > kMaxOrphans) return;
  next_destroy_us_ = now + kDestroyEveryUs;
  int k = static_cast<int>(rng_.Below(kWindows));
  HWND old;
  {
    std::lock_guard<std::mutex> lock(windows_[k].pump_mu);
    old = windows_[k].hwnd.load(std::memory_order_acquire);
    if (!DestroyWindow(old)) checker_.Violation("DestroyWindow failed on a live window", 0);
    HWND fresh = wsaf_create_window();
    if (fresh == nullptr || fresh == old)
      checker_.Violation("wsaf_create_window reused or failed", 0);
    windows_[k].hwnd.store(fresh, std::memory_order_release);
  }
  stats_.windows_destroyed.Add();
  MSG m{};
  if (DestroyWindow(old)) checker_.Violation("DestroyWindow succeeded twice on one window", 0);
  if (PostMessage(old, kNoiseMsg, 0, 0))
    checker_.Violation("PostMessage to a destroyed window succeeded", 0);
  if (PeekMessage(&m, old, 0, 0, PM_REMOVE))
    checker_.Violation("PeekMessage found a message in a destroyed window", 0);
  if (GetMessage(&m, old, 0, 0) != -1)
    checker_.Violation("GetMessage on a destroyed window did not answer -1", 0);
  for (std::size_t i = 0; i < live_.size();) {
    Record* r = live_[i].rec;
    bool settled = live_[i].window != k;
    if (!settled) {
      run_.ledger.With(r->handle, [&](Record* x) {
        if (x->deliveries > 0 || x->canceled) {
          settled = true;
          return;
        }
        x->orphaned = true;
        run_.ledger.AppendLocked(
            *x, Event{0, NowUs(), static_cast<uint16_t>(index_), EventType::kOrphaned, 0, 0, 0});
      });
    }
    if (settled) {
      ++i;
      continue;
    }
    stats_.orphaned.Add();
    // A cancel may still win (the lookup had not committed); otherwise the request completes
    // silently and its buffer may be written until the final cleanup: keep it until then.
    if (checker_.Cancel(r->handle, CancelMoment::kOrphan) == 0) {
      ++i;
      continue;
    }
    orphans_.push_back(r);
    live_[i] = live_.back();
    live_.pop_back();
  }
}

void Worker::NestedSession() {
  if (nested_ > 0 && rng_.Chance(0.5)) {
    WSASetLastError(0);
    if (int rc = WSACleanup(); rc != 0) {
      checker_.Violation("a nested WSACleanup answered " + std::to_string(rc) + " (" +
                             ErrorName(WSAGetLastError()) + ")",
                         0);
    }
    --nested_;
    return;
  }
  if (nested_ >= 2) return;
  struct Try {
    WORD requested;
    bool null_data;
    int want;
    WORD negotiated;
  };
  static constexpr Try kTries[] = {
      {MAKEWORD(2, 2), false, 0, MAKEWORD(2, 2)},
      {MAKEWORD(1, 1), false, 0, MAKEWORD(1, 1)},
      {MAKEWORD(2, 0), false, 0, MAKEWORD(2, 2)},
      {MAKEWORD(3, 1), false, 0, MAKEWORD(2, 2)},
      {MAKEWORD(1, 0), false, WSAVERNOTSUPPORTED, 0},
      {MAKEWORD(0, 2), false, WSAVERNOTSUPPORTED, 0},
      {MAKEWORD(2, 2), true, WSAEFAULT, 0},
  };
  const Try& t = kTries[rng_.Below(sizeof(kTries) / sizeof(kTries[0]))];
  WSADATA data{};
  int rc = WSAStartup(t.requested, t.null_data ? nullptr : &data);
  if (rc != t.want) {
    checker_.Violation("WSAStartup(" + std::to_string(t.requested) + ") answered " + ErrorName(rc) +
                           "; SPEC.md wants " + ErrorName(t.want),
                       0);
  }
  if (rc != 0) return;
  ++nested_;
  stats_.nested_startups.Add();
  if (data.wVersion != t.negotiated || data.wHighVersion != MAKEWORD(2, 2)) {
    checker_.Violation("WSAStartup negotiated " + std::to_string(data.wVersion) + " (high " +
                           std::to_string(data.wHighVersion) + ") for " +
                           std::to_string(t.requested),
                       0);
  }
}

void Worker::PostNoise() {
  HWND hwnd = windows_[rng_.Below(kWindows)].hwnd.load(std::memory_order_acquire);
  if (!PostMessage(hwnd, kNoiseMsg, ++noise_seq_, 0)) {
    checker_.Violation("PostMessage to a live window with room failed", 0);
  }
}

// Fills a queue to its limit, then makes completions wait for room (SPEC.md: never dropped
// while the window lives), then drains. One flood at a time in the whole run: the resolver
// thread waits meanwhile.
void Worker::Flood() {
  int64_t now = NowUs();
  int64_t next = run_.next_flood_us.load(std::memory_order_relaxed);
  if (now < next || !run_.next_flood_us.compare_exchange_strong(
                        next, now + 300'000 + rng_.Below(400'000), std::memory_order_relaxed)) {
    return;
  }
  static const int kQuick[2] = {QueryIndex("6"), QueryIndex("http/tcp")};
  int k = static_cast<int>(rng_.Below(kWindows));
  std::lock_guard<std::mutex> lock(windows_[k].pump_mu);
  HWND hwnd = windows_[k].hwnd.load(std::memory_order_acquire);
  int posted = 0;
  while (posted <= kQueueLimit && PostMessage(hwnd, kFloodMsg, static_cast<WPARAM>(posted), 0))
    ++posted;
  if (posted > kQueueLimit) checker_.Violation("a window queue took more than 10,000 messages", 0);
  stats_.floods.Add();
  uint64_t started[2] = {StartOne(CancelMoment::kCount, kQuick[0], k),
                         StartOne(CancelMoment::kCount, kQuick[1], k)};
  WaitUntilCommitted(started, 2);
  for (int i = 0; i < kQueueLimit + 1000; ++i) {
    MSG m{};
    if (!PeekMessage(&m, hwnd, 0, 0, PM_REMOVE)) break;
    Dispatch(m, Via::kFlood);
  }
}

// Waits (at most 50 ms) until the resolver has committed each request, so that the flood's
// completions really wait for room. Reads the table's slot states (task_table.h: a handle is
// generation << 22 | index + 1): PENDING means the resolver has not reached it yet.
void Worker::WaitUntilCommitted(const uint64_t* handles, int n) {
  TaskTable& table = CurrentEngine().table;
  int64_t give_up = NowUs() + 50'000;
  for (int i = 0; i < n; ++i) {
    if (handles[i] == 0) continue;
    uint32_t index =
        static_cast<uint32_t>((handles[i] & ((uint64_t{1} << TaskTable::kIndexBits) - 1)) - 1);
    while (NowUs() < give_up && table.HandleOf(index) == handles[i] &&
           table.StateOfSlot(index) == SlotState::kPending) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

// --- Settling ----------------------------------------------------------------------------------

Worker::Live* Worker::FindLive(uint64_t handle) {
  for (Live& l : live_) {
    if (l.rec->handle == handle) return &l;
  }
  return nullptr;
}

void Worker::Settle() {
  for (std::size_t i = 0; i < live_.size();) {
    Live& l = live_[i];
    Record* r = l.rec;
    Settled s = r->settled.load(std::memory_order_acquire);
    if (s == Settled::kLive) {
      ++i;
      continue;
    }
    if (s == Settled::kDelivered && l.plan == CancelMoment::kAfterDispatch) {
      checker_.Cancel(r->handle, CancelMoment::kAfterDispatch);
    }
    checker_.JudgeSettled(r);
    if (s == Settled::kDelivered) {
      RetireRecord(r);
    } else {
      Quarantine(r, false);
    }
    live_[i] = live_.back();
    live_.pop_back();
  }
}

// A won cancel (or a final cleanup) promised that the buffer is never written again: check
// it now and after the grace period, or free it at once so that ASan/TSan see a late write.
void Worker::Quarantine(Record* r, bool digest_check) {
  if (rng_.Chance(run_.free_canceled)) {
    if (!digest_check) checker_.CheckCanary(r, "at once");
    stats_.freed_at_once.Add();
    RetireRecord(r);
    return;
  }
  uint64_t digest = 0;
  if (digest_check) {
    run_.ledger.With(r->handle, [&](Record*) { digest = Digest(r->buffer); });
  }
  quarantine_.push_back(
      Held{r, NowUs() + run_.opts.grace_ms * int64_t{1000}, digest_check, digest});
}

void Worker::CheckQuarantine(bool all) {
  int64_t now = NowUs();
  while (!quarantine_.empty() && (all || quarantine_.front().due_us <= now)) {
    Held h = quarantine_.front();
    quarantine_.pop_front();
    if (!run_.abort_checks.load(std::memory_order_relaxed)) {
      if (h.digest_check) {
        checker_.CheckDigest(h.rec, h.digest);
      } else {
        checker_.CheckCanary(h.rec, "after the grace period");
      }
    }
    RetireRecord(h.rec);
  }
}

void Worker::RetireRecord(Record* r) {
  run_.ledger.With(r->handle, [&](Record*) { FreeBuffer(&r->buffer); });
  if (stale_.size() < static_cast<std::size_t>(kStaleKept)) {
    stale_.push_back(r->handle);
  } else {
    stale_[stale_next_++ % kStaleKept] = r->handle;
  }
  run_.ledger.Retire(r);
}

}  // namespace wsaf::stress
