// The stress run's main thread: starts the workers, switches the DNS server's fault mode,
// runs the phases that change the library's global state (the final WSACleanup, raced or
// quiet; the network going down), watches for workers stuck in GetMessage, prints progress,
// samples memory and slots, and ends the run with a liveness phase (faults off, everything
// drains) before the last cleanup.
//
// Every wait is bounded: a worker that does not reach a phase in time is a liveness
// violation; the run then exits at once with the seed.
//
// Thread safety: one Controller, used from the thread that made it.
#ifndef WSAFAULT_STRESS_CONTROLLER_H_
#define WSAFAULT_STRESS_CONTROLLER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dnsserver/dns_server.h"
#include "run_state.h"
#include "worker.h"

namespace wsaf::stress {

class Controller {
 public:
  Controller(RunState& run, dns::Server& server);
  ~Controller();

  // The whole run, from the first worker to the last join.
  void Run();
  void PrintSummary();

 private:
  struct Watch {
    uint64_t calls = 0;
    int64_t first_seen_us = 0;
    uint64_t reported_calls = 0;
    uint64_t nudged_calls = 0;
  };
  struct Sample {
    double t_s;
    long rss_kb;
    uint32_t capacity;
    uint32_t in_use;  // slots neither FREE nor DONE
    std::size_t ledger_live;
    uint64_t ops;
  };

  void Tick();
  void Watchdog();
  void SwitchFault(dns::Fault f, int delay_ms);
  void RandomFault();
  void Progress(bool last);
  void TakeSample();
  void Pause();
  void WaitStep(const char* what, int64_t timeout_ms);
  [[noreturn]] void Stuck(const char* what);
  void SessionPhase(bool racing);
  void NetDownPhase();
  void EndRun();
  void CheckSlotsAfterCleanup(const char* when);
  void Violation(const std::string& what);
  // Sums every worker's statistics into *out (a fresh ThreadStats).
  void Sum(ThreadStats* out) const;
  void PrintTrend();

  RunState& run_;
  dns::Server& server_;
  Rng rng_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::vector<Watch> watch_;
  bool tty_;
  bool sampling_;
  int64_t next_fault_us_ = 0;
  int64_t next_phase_us_ = 300'000;
  int64_t next_progress_us_ = 1'000'000;
  int64_t next_sample_us_ = 0;
  int64_t last_progress_us_ = 0;
  uint64_t last_progress_ops_ = 0;
  int64_t end_us_ = 0;
  int64_t load_end_us_ = 0;  // when the load stopped and the drain began
  uint64_t quiet_cleanups_ = 0, racing_cleanups_ = 0, netdowns_ = 0, fault_switches_ = 0;
  uint64_t limited_sessions_ = 0;  // sessions run with wsaf_set_max_requests below the default
  uint64_t nudges_ = 0;
  const char* phase_ = "run";
  int phase_round_ = 0;  // position in the current round of the three phase kinds
  uint32_t phase_order_ = 0;
  std::vector<Sample> samples_;
};

// Peak and current resident set, in KiB.
long CurrentRssKb();
long PeakRssKb();

}  // namespace wsaf::stress

#endif  // WSAFAULT_STRESS_CONTROLLER_H_
