// The worker's side of the phases the controller runs: pauses, the race with the final
// cleanup, the probes while no session exists or the network is down, and the end of the run
// (drain, lost-delivery check, late buffer checks, teardown).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "worker.h"

namespace wsaf::stress {

namespace {
constexpr int64_t kBoardSilenceMs = 120'000;
constexpr int kDrainBatch = 20'000;
constexpr int64_t kRaceBurstUs = 50'000;
constexpr int kRaceBurstOps = 20'000;
}  // namespace

bool Worker::HandlePhases() {
  Phase step = Phase::kRun;
  if (!run_.board.Await(&board_gen_, &step, 0)) return true;
  for (;;) {
    switch (step) {
      case Phase::kRun:
        return true;
      case Phase::kPause:
        ReleaseNested();
        break;
      case Phase::kRaceBurst:
        RaceBurst();
        break;
      case Phase::kPostCleanup:
        AfterFinalCleanup();
        break;
      case Phase::kNetDown:
      case Phase::kNetUp:
        DrainLive();
        break;
        NetDownStep();
        break;
      case Phase::kDrain:
        Drain();
        break;
      case Phase::kFinish:
        Finish();
        run_.board.Arrive(board_gen_);
        return false;
    }
    run_.board.Arrive(board_gen_);
    if (!run_.board.Await(&board_gen_, &step, kBoardSilenceMs)) {
      std::fprintf(stderr, "stress: worker t%d heard nothing from the controller for %lld s\n",
                   index_, static_cast<long long>(kBoardSilenceMs / 1000));
      std::_Exit(kExitViolation);
    }
  }
}

// The driver's own nested references go before the controller's final cleanup, so that it
// really is the final one.
void Worker::ReleaseNested() {
  while (nested_ > 0) {
    if (WSACleanup() != 0) {
      checker_.Violation(std::string("a nested WSACleanup failed: ") + ErrorName(WSAGetLastError()),
                         0);
    }
    --nested_;
  }
}

// Starts, cancels and pumps while the controller runs the final WSACleanup at a moment of
// its choosing, until it has returned (and a little after): the answers may be either side of
// it, but a cancel that answers 0 and a start that returns a handle still bind. Starts
// dominate, since a start that publishes its slot as the cleanup ends the session is the
// race SPEC.md's "the last cleanup cancels every outstanding request" is about.
void Worker::RaceBurst() {
  int64_t give_up = NowUs() + kRaceBurstUs;
  int after = 0;
  for (int i = 0; i < kRaceBurstOps && after < 20 && NowUs() < give_up; ++i) {
    if (run_.cleanup_returned.load(std::memory_order_acquire)) ++after;
    uint32_t pick = rng_.Below(10);
    if (pick < 6) {
      StartOne(rng_.Chance(0.5) ? CancelMoment::kRace : CancelMoment::kCount, -1, -1);
    } else if (pick < 8) {
      Pump(static_cast<int>(rng_.Below(kWindows)), 4, false);
    } else if (!live_.empty()) {
      checker_.Cancel(live_[rng_.Below(live_.size())].rec->handle, CancelMoment::kRace);
    }
    Settle();
  }
}

// Calls that must fail the session (or network) check first: a cancel of 0, of a live and of
// a stale handle, a valid start and one with bad arguments.
void Worker::ProbeNoSession(int expected) {
  checker_.Cancel(0, CancelMoment::kProbe);
  if (!live_.empty())
    checker_.Cancel(live_[rng_.Below(live_.size())].rec->handle, CancelMoment::kProbe);
  if (!stale_.empty()) checker_.Cancel(stale_[rng_.Below(stale_.size())], CancelMoment::kProbe);
  HWND hwnd = windows_[0].hwnd.load(std::memory_order_acquire);
  for (int bad = 0; bad < 2; ++bad) {
    Buffer b = NewBuffer(64, 0, false, false, 0xa5);
    WSASetLastError(0);
    HANDLE h = bad ? WSAAsyncGetHostByName(hwnd, kCompletionFirst, nullptr, b.buf, b.len)
                   : WSAAsyncGetProtoByNumber(hwnd, kCompletionFirst, 6, b.buf, b.len);
    if (h != nullptr) {
      checker_.Violation(
          std::string("a start succeeded where SPEC.md wants ") + ErrorName(expected), 0);
      abandoned_.push_back(b);
      continue;
    }
    checker_.OnStartFailed(WSAGetLastError(), bad ? WSAEFAULT : 0);
    FreeBuffer(&b);
  }
}

// After the final WSACleanup returned: probes, then every message still queued (posted
// before the cleanup returned) is judged, and every request without one was ended by the
// cleanup: its buffer must never change again (digest, re-checked after the grace period).
void Worker::AfterFinalCleanup() {
  ProbeNoSession(WSANOTINITIALISED);
  if (index_ == 0) {
    WSASetLastError(0);
    int rc = WSACleanup();
    if (rc != SOCKET_ERROR || WSAGetLastError() != WSANOTINITIALISED) {
      checker_.Violation("WSACleanup with no session answered " + std::to_string(rc) + " (" +
                             ErrorName(WSAGetLastError()) + "); SPEC.md wants WSANOTINITIALISED",
                         0);
    }
  }
  for (int k = 0; k < kWindows; ++k) {
    std::lock_guard<std::mutex> lock(windows_[k].pump_mu);
    HWND hwnd = windows_[k].hwnd.load(std::memory_order_acquire);
    MSG m{};
    for (int i = 0; i < kDrainBatch && PeekMessage(&m, hwnd, 0, 0, PM_REMOVE); ++i)
      Dispatch(m, Via::kDrain);
  }
  Settle();
  auto swallow = [&](Record* r) {
    run_.ledger.With(r->handle, [&](Record* x) {
      x->swallowed = true;
      run_.ledger.AppendLocked(
          *x, Event{0, NowUs(), static_cast<uint16_t>(index_), EventType::kSwallowed, 0, 0, 0});
    });
    stats_.swallowed.Add();
    checker_.JudgeSettled(r);
    Quarantine(r, /*digest_check=*/true);
  };
  for (Live& l : live_) swallow(l.rec);
  live_.clear();
  for (Record* r : orphans_) swallow(r);
  orphans_.clear();
}

// While the network is down: probes, and pumping, since lookups completing now deliver
// WSAENETDOWN (the checker allows it for requests that lived through the outage).
void Worker::NetDownStep() {
  ProbeNoSession(WSAENETDOWN);
  int64_t until = NowUs() + 40'000 + rng_.Below(30'000);  // past the phase's 30 ms delay
  while (NowUs() < until) {
    for (int k = 0; k < kWindows; ++k) Pump(k, 16, false);
    Settle();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Pumps until every live request delivered (or was canceled by a planned cancel), within the
// drain bound; reports the ones that never did. Lookups end within the DNS timeout plus a
// fault's delay, far inside the bound.
void Worker::DrainLive() {
  int64_t deadline = NowUs() + run_.opts.drain_ms * int64_t{1000};
  while (!live_.empty() && NowUs() < deadline && !run_.abort_checks.load()) {
    for (int k = 0; k < kWindows; ++k) Pump(k, 64, false);
    RunDueCancels();
    Settle();
    if (!live_.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (run_.abort_checks.load()) return;
  for (Live& l : live_) {
    if (l.overdue_reported) continue;
    l.overdue_reported = true;
    checker_.Violation("lost delivery: no message within " + std::to_string(run_.opts.drain_ms) +
                           " ms, though the request was neither canceled nor orphaned",
                       l.rec->handle);
  }
}

// The liveness phase: no new requests or cancels, faults off; every request that was neither
// canceled nor orphaned must deliver within the drain bound.
void Worker::Drain() {
  ReleaseNested();
  for (Live& l : live_) l.plan = CancelMoment::kCount;
  DrainLive();
  while (!quarantine_.empty() && !run_.abort_checks.load()) {
    int64_t wait_us = quarantine_.front().due_us - NowUs();
    if (wait_us > 0) {
      std::this_thread::sleep_for(std::chrono::microseconds(wait_us < 10'000 ? wait_us : 10'000));
    }
    CheckQuarantine(false);
  }
}

// After the final cleanup: the last late checks, then every window and buffer goes.
void Worker::Finish() {
  while (!quarantine_.empty() && !run_.abort_checks.load()) {
    int64_t wait_us = quarantine_.front().due_us - NowUs();
    if (wait_us > 0)
      std::this_thread::sleep_for(std::chrono::microseconds(wait_us < 10'000 ? wait_us : 10'000));
    CheckQuarantine(false);
  }
  CheckQuarantine(true);
  for (Live& l : live_) RetireRecord(l.rec);  // only after an abort: the cleanup ended them
  live_.clear();
  for (Record* r : orphans_) RetireRecord(r);
  orphans_.clear();
  for (WindowSlot& w : windows_) {
    if (!DestroyWindow(w.hwnd.load(std::memory_order_acquire))) {
      checker_.Violation("DestroyWindow failed at the end of the run", 0);
    }
  }
  for (Buffer& b : abandoned_) FreeBuffer(&b);
  abandoned_.clear();
}

}  // namespace wsaf::stress
