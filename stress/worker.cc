#include "worker.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <thread>

namespace wsaf::stress {

namespace {

constexpr int kLargeBuffer = 4096;
constexpr int kStaleKept = 64;
constexpr uint8_t kCanaries[] = {0xa5, 0x5a, 0xc3, 0x3c, 0xee};

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
  } else if (pick < 868) {
    Burst();
  } else if (pick < 880) {
    std::this_thread::yield();
  } else {
    Pump(k, 8, false);
  }
  RunDueCancels();
  Settle();
  CheckQuarantine(false);
  if (NowUs() >= next_overdue_check_us_) CheckOverdue();
}

// SPEC.md: a request that is not canceled posts exactly one message while its window lives.
// A lookup ends within the DNS timeout (200 ms, one try) plus a fault's delay, so one silent
// for the whole drain bound is lost: judged as the run goes, not only at its end.
void Worker::CheckOverdue() {
  int64_t now = NowUs();
  next_overdue_check_us_ = now + 200'000;
  int64_t limit = run_.opts.drain_ms * int64_t{1000};
  auto overdue = [&](const Live& l) {
    return !l.overdue_reported && now - l.rec->start_us > limit &&
           l.rec->settled.load(std::memory_order_acquire) == Settled::kLive;
  };
  bool any = false;
  for (const Live& l : live_) any = any || overdue(l);
  if (!any) return;
  for (int k = 0; k < kWindows; ++k) Pump(k, 64, false);  // it may just be waiting in a queue
  Settle();
  now = NowUs();
  for (Live& l : live_) {
    if (!overdue(l)) continue;
    l.overdue_reported = true;
    checker_.Violation("lost delivery: no message " +
                           std::to_string((now - l.rec->start_us) / 1000) +
                           " ms after the start, though the request was neither canceled nor "
                           "orphaned",
                       l.rec->handle);
  }
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
        CancelMoment::kImmediate,  CancelMoment::kImmediate,     CancelMoment::kAfterYield,
        CancelMoment::kAfterSpin,  CancelMoment::kDelayed,       CancelMoment::kDelayed,
        CancelMoment::kWhenQueued, CancelMoment::kAfterDispatch, CancelMoment::kTwice};
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
    case CancelMoment::kAfterSpin: {
      // A wake-up of the resolver thread takes some microseconds: spinning a random part of
      // that lands the cancel near the commit, where a check-then-act cancel goes wrong.
      int64_t until = NowUs() + rng_.Below(40);
      while (NowUs() < until) {
      }
      checker_.Cancel(h, l.plan);
      break;
    }
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
