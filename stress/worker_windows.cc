// The worker's operations on windows and queues: pumping (its own windows, with and without
// a look first, GetMessage, other workers' windows), destroying windows, nested sessions,
// application messages and the queue flood.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "api/engine.h"
#include "table/task_table.h"
#include "worker.h"

namespace wsaf::stress {

namespace {

constexpr int64_t kDestroyEveryUs = 100'000;
constexpr std::size_t kMaxOrphans = 256;
constexpr int kQueueLimit = 10000;  // SPEC.md: a queue holds at most 10,000 messages

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

// A run-wide operation that comes at most once per turn (floods, bursts): true for the one
// caller whose CAS moves `next_us` on to now + base + a random part below `spread` (drawn only
// then).
bool ClaimTurn(std::atomic<int64_t>* next_us, int64_t base, uint32_t spread, Rng* rng) {
  int64_t now = NowUs();
  int64_t next = next_us->load(std::memory_order_relaxed);
  return now >= next &&
         next_us->compare_exchange_strong(next, now + base + rng->Below(spread), std::memory_order_relaxed);
}

}  // namespace

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
  if (!ClaimTurn(&run_.next_flood_us, 300'000, 400'000, &rng_)) return;
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

// A burst of 5,000 numeric lookups into a throwaway window, destroyed at once (issue 13): the
// table grows past one chunk, and the DestroyWindow that settles the completions gives wholly
// free chunks back (TaskTable::Trim), as the idle resolver does later, while the other workers
// start, cancel and pump. At most one every 0.5 to 1 s in the whole run. The burst's requests are
// outside the ledger (no handle reaches a cancel, no message a pump); their buffer is this
// worker's for the whole run, since a completion that found the window before it went may still
// write it. A start that fails (a fault, the request limit, a session end) ends the burst.
void Worker::Burst() {
  if (!ClaimTurn(&run_.next_burst_us, 500'000, 500'000, &rng_)) return;
  constexpr int kBurst = 5000;
  if (burst_buffer_.empty()) burst_buffer_.resize(MAXGETHOSTSTRUCT);
  HWND w = wsaf_create_window();
  if (w == nullptr) {
    checker_.Violation("wsaf_create_window failed for a burst", 0);
    return;
  }
  for (int i = 0; i < kBurst; ++i) {
    if (WSAAsyncGetHostByName(w, kBurstMsg, "127.0.0.1", burst_buffer_.data(),
                              static_cast<int>(burst_buffer_.size())) == nullptr) {
      break;
    }
  }
  if (!DestroyWindow(w)) checker_.Violation("DestroyWindow failed on a burst window", 0);
  stats_.bursts.Add();
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
        TaskTable::IndexOf(handles[i]);
    while (NowUs() < give_up && table.HandleOf(index) == handles[i] &&
           table.StateOfSlot(index) == SlotState::kPending) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

}  // namespace wsaf::stress
