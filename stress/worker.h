// One application thread of the stress driver.
//
// A worker owns three message windows and the requests it starts on them. Each step it picks
// an operation at random (seeded): start one of the six kinds with a tiny, exact, short,
// large or NULL/0 buffer, cancel at a chosen moment (at once, after a yield, a little later,
// once the message is queued, after dispatch, twice), pump with PeekMessage or GetMessage,
// pump another worker's window, cancel stale, zero, never-issued or other threads' handles,
// destroy and recreate a window, nest WSAStartup/WSACleanup, post application messages, or
// fill a queue to its limit. Between steps it settles what finished: delivered requests free
// their buffers; canceled ones go to a quarantine and are re-checked after a grace period.
//
// The controller steers workers through the phase board (run_state.h): pause, race the
// final cleanup, run the post-cleanup probes, network down, drain, finish.
//
// Thread safety: a worker's own state is touched only by its thread. Other threads use only
// window(k) (the pump lock and the current HWND) and the GetMessage fields the watchdog reads.
// Lock order: a window's pump_mu before any ledger shard mutex.
#ifndef WSAFAULT_STRESS_WORKER_H_
#define WSAFAULT_STRESS_WORKER_H_

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "checker.h"
#include "run_state.h"

namespace wsaf::stress {

class Worker {
 public:
  static constexpr int kWindows = 3;

  struct WindowSlot {
    std::atomic<HWND> hwnd{nullptr};
    // Held by whoever relies on what it saw in the queue (a PM_NOREMOVE look followed by a
    // cancel that must answer WSAEALREADY, a GetMessage, a flood), so no other pump removes
    // messages from under it. The library knows nothing of it.
    std::mutex pump_mu;
  };

  Worker(RunState& run, int index);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The thread body: returns after the Finish step (or when the board goes silent).
  void Run();

  WindowSlot& window(int k) { return windows_[k]; }
  ThreadStats& stats() { return stats_; }
  int index() const { return index_; }

  // Read by the watchdog: a worker blocked in GetMessage, since when, on which window.
  std::atomic<int64_t> get_since_us{0};
  std::atomic<HWND> get_hwnd{nullptr};
  std::atomic<uint64_t> get_calls{0};
  std::atomic<bool> done{false};

 private:
  struct Live {
    Record* rec;
    int window;
    CancelMoment plan;  // kCount: no cancel planned
    int64_t cancel_at_us;
    bool overdue_reported = false;
  };
  struct Held {
    Record* rec;
    int64_t due_us;
    bool digest_check;  // after a final cleanup (else: the canary after a won cancel)
    uint64_t digest;
  };

  // --- Operations (worker.cc; pumping and windows in worker_windows.cc) ---
  void Step();
  // forced_plan: a cancel plan to use (kCount: none) instead of a random one. forced_query:
  // a catalog index (-1: random). locked_window: the caller holds that window's pump lock and
  // the request goes there (-1: a random window, locked here while the handle is recorded).
  // Returns the handle (0 when the start failed or was skipped).
  uint64_t StartOne(std::optional<CancelMoment> forced_plan, int forced_query, int locked_window);
  Buffer MakeBuffer(int query, BufMode* mode);
  void ApplyPlanNow(Live& l);
  void StartBadArgs();
  void RunDueCancels();
  void CheckOverdue();
  void Pump(int k, int max, bool look_first);
  void Dispatch(const MSG& m, Via via);
  void GetOne();
  void HelpPump();
  void CancelStale();
  void CancelOdd();
  void DestroyOneWindow();
  void NestedSession();
  void PostNoise();
  void Flood();
  void Burst();
  void WaitUntilCommitted(const uint64_t* handles, int n);
  void Settle();
  void Quarantine(Record* r, bool digest_check);
  void CheckQuarantine(bool all);
  void RetireRecord(Record* r);
  Live* FindLive(uint64_t handle);

  // --- Phases (worker_phases.cc) ---
  bool HandlePhases();
  void ReleaseNested();
  void RaceBurst();
  void AfterFinalCleanup();
  void NetDownStep();
  void DrainLive();
  void Drain();
  void Finish();
  void ProbeNoSession(int expected);

  RunState& run_;
  const int index_;
  ThreadStats stats_;
  Checker checker_;
  Rng rng_;
  WindowSlot windows_[kWindows];
  uint64_t board_gen_ = 0;

  std::vector<Live> live_;
  std::vector<Record*> orphans_;   // window destroyed, request not settled
  std::deque<Held> quarantine_;    // due times increase along the deque
  std::vector<Buffer> abandoned_;  // buffers of requests the ledger refused (repeated handles)
  std::vector<uint64_t> stale_;    // handles of settled requests, for stale cancels
  std::size_t stale_next_ = 0;
  int nested_ = 0;
  int64_t next_destroy_us_ = 0;
  std::vector<char> burst_buffer_;  // every burst's results (see Burst)
  int64_t next_overdue_check_us_ = 0;
  uint64_t noise_seq_ = 0;
};

}  // namespace wsaf::stress

#endif  // WSAFAULT_STRESS_WORKER_H_
