#include "controller.h"

#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>

#include "api/engine.h"
#include "table/task_table.h"

namespace wsaf::stress {

namespace {

constexpr int64_t kTickUs = 10'000;
constexpr int64_t kLostWakeupUs = 1'000'000;  // generous: CI has two cores and TSan
constexpr int64_t kNudgeAfterUs = 1'000'000;
constexpr int64_t kPauseNudgeUs = 20'000;
constexpr int64_t kStepTimeoutMs = 60'000;

void SleepUs(int64_t us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); }

}  // namespace

Controller::Controller(RunState& run, dns::Server& server)
    : run_(run),
      server_(server),
      rng_(run.opts.seed ^ 0xc0417011e5ull),
      tty_(isatty(STDERR_FILENO) != 0),
      sampling_(run.opts.soak || (run.opts.ops == 0 && run.opts.duration_s >= 60)) {}

Controller::~Controller() {
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Controller::Run() {
  int n = run_.opts.threads;
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(run_, i));
  for (auto& w : workers_) run_.workers.push_back(w.get());
  watch_.assign(static_cast<std::size_t>(n), Watch{});
  if (run_.opts.faults) next_fault_us_ = 50'000;
  end_us_ = static_cast<int64_t>(run_.opts.duration_s * 1e6);
  if (sampling_) TakeSample();
  for (auto& w : workers_) threads_.emplace_back([wp = w.get()] { wp->Run(); });
  for (;;) {
    SleepUs(kTickUs);
    Tick();
    if (run_.reporter.limit_reached()) {
      run_.abort_checks.store(true);
      break;
    }
    int64_t now = NowUs();
    ThreadStats t;
    Sum(&t);
    if (run_.opts.ops != 0 ? t.ops.Get() >= run_.opts.ops : now >= end_us_) break;
    if (now >= next_phase_us_) {
      // Each round of three phases has one of each kind, in random order: every kind comes
      // within the first seconds of even a short run.
      if (phase_round_ == 0) phase_order_ = rng_.Below(6);
      static constexpr int kOrders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                            {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
      int kind = kOrders[phase_order_][phase_round_];
      phase_round_ = (phase_round_ + 1) % 3;
      if (kind == 0) {
        SessionPhase(/*racing=*/true);
      } else if (kind == 1) {
        SessionPhase(/*racing=*/false);
      } else {
        NetDownPhase();
      }
      next_phase_us_ = NowUs() + 400'000 + rng_.Below(1'000'000);
    }
  }
  EndRun();
}

void Controller::Tick() {
  Watchdog();
  int64_t now = NowUs();
  if (run_.opts.faults && now >= next_fault_us_) {
    RandomFault();
    next_fault_us_ = now + 50'000 + rng_.Below(200'000);
  }
  if (now >= next_progress_us_) {
    Progress(false);
    next_progress_us_ = now + 1'000'000;
  }
  if (sampling_ && now >= next_sample_us_) TakeSample();
}

// --- DNS faults ------------------------------------------------------------------------------

// A seqlock around the switch: a request whose start and message see the same even count
// lived in one fault mode, and the checker knows which.
void Controller::SwitchFault(dns::Fault f, int delay_ms) {
  run_.fault_seq.fetch_add(1, std::memory_order_acq_rel);
  run_.fault_free.store(f == dns::Fault::kNone, std::memory_order_release);
  server_.SetFault(f, delay_ms);
  run_.fault_seq.fetch_add(1, std::memory_order_acq_rel);
  ++fault_switches_;
}

void Controller::RandomFault() {
  using dns::Fault;
  static constexpr Fault kFaults[] = {
      Fault::kNone,     Fault::kNone,      Fault::kNone,     Fault::kNone,     Fault::kDelay,
      Fault::kDelay,    Fault::kDrop,      Fault::kServfail, Fault::kNxdomain, Fault::kTruncate,
      Fault::kTruncate, Fault::kMalformed, Fault::kWrongId,  Fault::kRefused};
  Fault f = kFaults[rng_.Below(sizeof(kFaults) / sizeof(kFaults[0]))];
  SwitchFault(f, f == Fault::kDelay ? 1 + static_cast<int>(rng_.Below(80)) : 0);
}

// --- Watchdog --------------------------------------------------------------------------------

// A worker in GetMessage while its window holds a message for a whole second has lost its
// wake-up. A worker in GetMessage with nothing queued is nudged awake after a second (or at
// once when a phase waits for it); the nudge is an application message, which always wakes.
void Controller::Watchdog() {
  int64_t now = NowUs();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    Worker& w = *workers_[i];
    Watch& st = watch_[i];
    int64_t since = w.get_since_us.load(std::memory_order_acquire);
    if (since == 0) {
      st.first_seen_us = 0;
      continue;
    }
    uint64_t calls = w.get_calls.load(std::memory_order_acquire);
    HWND hwnd = w.get_hwnd.load(std::memory_order_acquire);
    MSG m{};
    bool queued = PeekMessage(&m, hwnd, 0, 0, PM_NOREMOVE) != FALSE;
    if (w.get_since_us.load(std::memory_order_acquire) != since ||
        w.get_calls.load(std::memory_order_acquire) != calls) {
      continue;  // it returned meanwhile: what we saw proves nothing
    }
    if (queued) {
      if (st.calls != calls || st.first_seen_us == 0) {
        st.calls = calls;
        st.first_seen_us = now;
      } else if (now - st.first_seen_us >= kLostWakeupUs && st.reported_calls != calls) {
        st.reported_calls = calls;
        char what[256];
        std::snprintf(what, sizeof(what),
                      "lost wake-up: worker t%zu has been blocked in GetMessage for %lld ms while "
                      "its window held a message (message %#x, wParam %#" PRIxPTR ") for %lld ms",
                      i, static_cast<long long>((now - since) / 1000), m.message,
                      static_cast<uintptr_t>(m.wParam),
                      static_cast<long long>((now - st.first_seen_us) / 1000));
        Violation(what);
        PostMessage(hwnd, kNudgeMsg, 0, 0);
        ++nudges_;
      }
      continue;
    }
    st.first_seen_us = 0;
    bool pausing =
        run_.pause_pending.load(std::memory_order_acquire) && now - since >= kPauseNudgeUs;
    if ((now - since >= kNudgeAfterUs || pausing) && st.nudged_calls != calls) {
      st.nudged_calls = calls;
      PostMessage(hwnd, kNudgeMsg, 0, 0);
      ++nudges_;
    }
  }
}

// --- Phases ----------------------------------------------------------------------------------

void Controller::Pause() {
  run_.pause_pending.store(true, std::memory_order_release);
  run_.board.Post(Phase::kPause);
  WaitStep("a pause", kStepTimeoutMs);
}

void Controller::WaitStep(const char* what, int64_t timeout_ms) {
  if (!run_.board.WaitArrived(static_cast<int>(workers_.size()), timeout_ms, [this] { Tick(); })) {
    Stuck(what);
  }
}

void Controller::Stuck(const char* what) {
  std::fflush(stdout);
  std::printf(
      "\n==== LIVENESS VIOLATION ====\nworkers did not finish %s within the bound; "
      "states:\n",
      what);
  for (auto& w : workers_) {
    int64_t since = w->get_since_us.load();
    std::printf("  t%d: %s\n", w->index(),
                since != 0 ? "blocked in GetMessage" : "running (or blocked in a library call)");
  }
  std::printf("  seed %" PRIu64 "\n  rerun: %s\n", run_.opts.seed, RerunCommand(run_.opts).c_str());
  std::fflush(stdout);
  std::_Exit(run_.opts.expect_violation ? kExitClean : kExitViolation);
}

void Controller::CheckSlotsAfterCleanup(const char* when) {
  uint32_t counts[6];
  CurrentEngine().table.CountStates(counts);
  uint32_t pending = counts[static_cast<int>(SlotState::kPending)];
  uint32_t completing = counts[static_cast<int>(SlotState::kCompleting)];
  if (pending != 0 || completing != 0) {
    Violation(std::to_string(pending) + " request slots PENDING and " + std::to_string(completing) +
              " COMPLETING " + when +
              " (SPEC.md: the last cleanup cancels every outstanding "
              "request, and no completion runs after it returns)");
  }
}

// The final WSACleanup of the driver's own session, quiet (every worker parked) or raced
// (workers start, cancel and pump meanwhile), then the post-cleanup probes, then a new session.
void Controller::SessionPhase(bool racing) {
  phase_ = racing ? "racing cleanup" : "cleanup";
  Pause();
  if (racing) {
    run_.cleanup_returned.store(false, std::memory_order_release);
    run_.context.store(Context::kRacingCleanup, std::memory_order_release);
    run_.board.Post(Phase::kRaceBurst);
    SleepUs(rng_.Below(3000));
  }
  WSASetLastError(0);
  if (int rc = WSACleanup(); rc != 0) {
    Violation("the final WSACleanup answered " + std::to_string(rc) + " (" +
              ErrorName(WSAGetLastError()) + ")");
  }
  run_.cleanup_returned.store(true, std::memory_order_release);
  if (racing) WaitStep("the race with the final cleanup", kStepTimeoutMs);
  run_.context.store(Context::kSessionDown, std::memory_order_release);
  CheckSlotsAfterCleanup(racing ? "after a raced final WSACleanup" : "after the final WSACleanup");
  // The network is down as well (after a quiet cleanup, and after half the raced ones): the
  // probes must still hear WSANOTINITIALISED, since SPEC.md checks the session first.
  bool network_down_too = !racing || rng_.Chance(0.5);
  if (network_down_too) {
    run_.netdown_seq.fetch_add(1, std::memory_order_acq_rel);
    wsaf_set_network_down(1);
  }
  run_.board.Post(Phase::kPostCleanup);
  WaitStep("the post-cleanup checks", kStepTimeoutMs);
  if (network_down_too) {
    wsaf_set_network_down(0);
    run_.netdown_seq.fetch_add(1, std::memory_order_acq_rel);
  }
  // Between sessions the table may be limited (wsaf_set_max_requests): with --faults, half the
  // sessions run with a small limit, so starts meet WSAEWOULDBLOCK (an allowed answer) and the
  // table sets slots aside and gives them back under the workers' load.
  static constexpr unsigned kLimits[] = {8, 64, 1024};
  unsigned limit = WSAF_MAX_REQUESTS;
  if (run_.opts.faults && rng_.Chance(0.5)) limit = kLimits[rng_.Below(3)];
  if (wsaf_set_max_requests(limit) != 0) {
    Violation("wsaf_set_max_requests(" + std::to_string(limit) + ") between sessions answered -1");
  }
  if (limit != WSAF_MAX_REQUESTS) ++limited_sessions_;
  WSADATA data;
  if (int rc = WSAStartup(MAKEWORD(2, 2), &data); rc != 0) {
    Violation("WSAStartup after a final cleanup answered " + std::string(ErrorName(rc)));
  }
  if (wsaf_set_max_requests(limit) != -1) {
    Violation("wsaf_set_max_requests during a session answered 0 (it must refuse: -1)");
  }
  run_.session.fetch_add(1, std::memory_order_acq_rel);
  run_.context.store(Context::kNormal, std::memory_order_release);
  run_.pause_pending.store(false, std::memory_order_release);
  run_.board.Post(Phase::kRun);
  ++(racing ? racing_cleanups_ : quiet_cleanups_);
  phase_ = "run";
}

void Controller::NetDownPhase() {
  phase_ = "network down";
  // Lookups must be in flight when the network goes down (SPEC.md: one that completes then
  // delivers WSAENETDOWN), so answers are delayed around the phase, whatever --faults says.
  SwitchFault(dns::Fault::kDelay, 30);
  SleepUs(20'000);
  Pause();
  run_.netdown_seq.fetch_add(1, std::memory_order_acq_rel);  // odd: down
  wsaf_set_network_down(1);
  run_.context.store(Context::kNetDown, std::memory_order_release);
  run_.board.Post(Phase::kNetDown);
  WaitStep("the network-down probes", kStepTimeoutMs);
  wsaf_set_network_down(0);
  run_.netdown_seq.fetch_add(1, std::memory_order_acq_rel);
  if (!run_.opts.faults) SwitchFault(dns::Fault::kNone, 0);
  run_.context.store(Context::kNormal, std::memory_order_release);
  // No cleanup may swallow what the outage did to the lookups in flight: they deliver now.
  run_.board.Post(Phase::kNetUp);
  WaitStep("the delivery check after the network came back", run_.opts.drain_ms + kStepTimeoutMs);
  run_.pause_pending.store(false, std::memory_order_release);
  run_.board.Post(Phase::kRun);
  ++netdowns_;
  phase_ = "run";
}

// Faults stop, everything must drain (liveness), then the last cleanup and its checks.
void Controller::EndRun() {
  load_end_us_ = NowUs();
  phase_ = "drain";
  if (run_.opts.faults) SwitchFault(dns::Fault::kNone, 0);
  Pause();
  run_.board.Post(Phase::kDrain);
  WaitStep("the final drain", run_.opts.drain_ms + 2 * run_.opts.grace_ms + kStepTimeoutMs);
  WSASetLastError(0);
  if (int rc = WSACleanup(); rc != 0) {
    Violation("the last WSACleanup answered " + std::to_string(rc) + " (" +
              ErrorName(WSAGetLastError()) + ")");
  }
  run_.context.store(Context::kSessionDown, std::memory_order_release);
  CheckSlotsAfterCleanup("after the last WSACleanup");
  run_.board.Post(Phase::kPostCleanup);
  WaitStep("the post-cleanup checks", kStepTimeoutMs);
  run_.board.Post(Phase::kFinish);
  WaitStep("the finish", 2 * run_.opts.grace_ms + kStepTimeoutMs);
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  phase_ = "done";
  Progress(true);
}

void Controller::Violation(const std::string& what) {
  run_.reporter.Report("controller: " + what, "");
}

}  // namespace wsaf::stress
