// What the threads of one stress run share: the options, the ledger and its checkers' books,
// the session and fault bookkeeping that decides how strictly an answer is judged, and the
// phase board through which the controller pauses and steers the workers.
//
// Thread safety: atomics and self-locking types only; `workers` is filled before any thread
// starts and read-only afterwards.
// Memory ordering: the controller changes the library's state (final cleanup, network down)
// only while every worker is parked on the phase board, and publishes the new `context`
// before it posts the next step; the board's mutex orders the two.
#ifndef WSAFAULT_STRESS_RUN_STATE_H_
#define WSAFAULT_STRESS_RUN_STATE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "catalog.h"
#include "ledger.h"
#include "stress_common.h"
#include "stress_options.h"

namespace wsaf::stress {

class Worker;

// What the library's session looks like to a worker right now; it decides which answers
// SPEC.md allows.
enum class Context : uint8_t {
  kNormal,         // initialised, network up: the strict rules
  kRacingCleanup,  // the final WSACleanup may run at any moment on the controller
  kSessionDown,    // after the final WSACleanup: everything is WSANOTINITIALISED
  kNetDown,        // wsaf_set_network_down(1): starts and cancels are WSAENETDOWN
};

// Message numbers. Completions use a small range so that filtered pumps have work to do.
constexpr UINT kCompletionFirst = WM_USER + 1;
constexpr UINT kCompletionLast = WM_USER + 4;
constexpr UINT kNoiseMsg = WM_USER + 100;  // application messages between completions
constexpr UINT kNudgeMsg = WM_USER + 101;  // the watchdog wakes a worker in GetMessage
constexpr UINT kFloodMsg = WM_USER + 102;  // fills a queue to its 10,000-message limit
constexpr UINT kBurstMsg = WM_USER + 103;  // a burst's completions, into a window nobody pumps

struct ThreadStats {
  Counter ops;
  Counter starts[static_cast<int>(Kind::kCount)];
  Counter start_failures[kErrorSlots];
  Counter bad_arg_starts;
  Counter cancels[kErrorSlots];  // by answer
  Counter cancel_moments[static_cast<int>(CancelMoment::kCount)];
  Counter messages[kErrorSlots];
  Counter helper_messages;
  Counter noise;
  Counter gets;
  Counter windows_destroyed;
  Counter nested_startups;
  Counter floods;
  Counter bursts;
  Counter late_checks;
  Counter freed_at_once;
  Counter swallowed;
  Counter orphaned;
};

// The last handles started, for cancels from threads that did not start them.
class RecentHandles {
 public:
  static constexpr uint32_t kSize = 1024;
  void Push(uint64_t h) {
    ring_[next_.fetch_add(1, std::memory_order_relaxed) % kSize].store(h,
                                                                       std::memory_order_relaxed);
  }
  uint64_t Pick(Rng& rng) const { return ring_[rng.Below(kSize)].load(std::memory_order_relaxed); }

 private:
  std::atomic<uint32_t> next_{0};
  std::atomic<uint64_t> ring_[kSize] = {};
};

// The controller posts steps; every worker runs each step and arrives. All waits are bounded.
enum class Phase : uint8_t {
  kRun,
  kPause,
  kRaceBurst,
  kPostCleanup,
  kNetDown,
  kNetUp,  // every request that lived through the outage must now deliver
  kDrain,
  kFinish
};

class PhaseBoard {
 public:
  // Controller: starts a step (everyone's arrival count restarts).
  void Post(Phase s);
  // Controller: waits until `n` workers arrived at the current step; `tick` runs about every
  // 20 ms meanwhile. False on timeout.
  template <typename Tick>
  bool WaitArrived(int n, int64_t timeout_ms, Tick tick) {
    int64_t deadline = NowUs() + timeout_ms * 1000;
    std::unique_lock<std::mutex> lock(mu_);
    while (arrived_ < n) {
      if (NowUs() >= deadline) return false;
      cv_.wait_for(lock, std::chrono::milliseconds(20));
      lock.unlock();
      tick();
      lock.lock();
    }
    return true;
  }
  // Worker: the generation it last saw; cheap enough to poll between operations.
  uint64_t generation() const { return gen_.load(std::memory_order_acquire); }
  // Worker: waits (bounded) for a generation other than *seen; updates it and returns the step.
  bool Await(uint64_t* seen, Phase* step, int64_t timeout_ms);
  void Arrive(uint64_t gen);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<uint64_t> gen_{0};
  Phase step_ = Phase::kRun;
  int arrived_ = 0;
};

struct RunState {
  explicit RunState(const Options& o) : opts(o), sizes(Catalog().size()) {}

  const Options& opts;
  Ledger ledger;
  HandleBook handles;
  Reporter reporter;
  SizeBook sizes;
  RecentHandles recent;
  PhaseBoard board;
  std::vector<Worker*> workers;
  double free_canceled = 0;  // resolved from the options and the build

  std::atomic<uint32_t> session{1};  // bumps at every WSAStartup after a final cleanup
  std::atomic<Context> context{Context::kNormal};
  std::atomic<uint64_t> fault_seq{0};  // odd while the fault mode is being switched
  std::atomic<bool> fault_free{true};
  std::atomic<uint64_t> netdown_seq{0};  // odd while the network is down
  std::atomic<int64_t> next_flood_us{200'000};
  std::atomic<int64_t> next_burst_us{300'000};
  std::atomic<bool> pause_pending{false};     // the watchdog wakes GetMessage callers early
  std::atomic<bool> cleanup_returned{false};  // the raced final WSACleanup has returned
  std::atomic<bool> abort_checks{false};      // a violation ended the run: skip liveness waits
};

}  // namespace wsaf::stress

#endif  // WSAFAULT_STRESS_RUN_STATE_H_
