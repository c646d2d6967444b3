// A crash in the code under test is a finding: the tape of the simulated run that crashed is
// written before the process dies (or, in the campaign, before the simulation lane gives up).
//
// CrashRecorder wraps the run's strategy and keeps every answer it gives, encoded exactly as
// the replay strategy reads them (sim::Tape), so the bytes it holds at any instant are the tape
// of the run so far. Install() sets handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT
// (on an alternate stack: a fiber's stack overflow is one of the crashes) and, when the
// sanitizers' runtime is linked, their death callback. On a crash the handler writes the tape
// file (the header prepared by Arm(), then the bytes in hex, with write(2) only), prints where
// it is and the replay command on stderr, and then either jumps back to the campaign's lane
// (SetJump) or re-raises the signal with its default action.
//
// Test hook: WSAFAULT_TEST_CRASH_AT_RUN=N (read by Arm) raises SIGSEGV after the 8th decision
// of run N, so a test can prove the path without a planted crash in the table.
//
// Thread safety: one armed recorder per process at a time (the simulator allows one run per
// process anyway); Arm/Disarm on the thread that runs the simulation.
// Lifetime: the recorder must outlive its armed runs; Disarm() before destroying it.
#ifndef WSAFAULT_CLI_CAMPAIGN_CRASH_H_
#define WSAFAULT_CLI_CAMPAIGN_CRASH_H_

#include <csetjmp>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/runner.h"
#include "sim/strategy.h"

namespace wsaf::campaign {

class CrashRecorder : public sim::Strategy {
 public:
  // Once per process, before the first Arm().
  static void Install();
  // For `wsafault replay`: a crash with nothing armed prints "CRASH: <signal> <message>" on
  // stderr before the process dies of it (the tape exists already: nothing is written).
  static void InstallReplayReport(const std::string& message);
  // The header of a tape file for `file` (its tape ignored): what precedes the "tape" line.
  static std::string HeaderFor(const sim::TapeFile& file);

  // The next runs use `inner`; a crash writes `tape_path` with `header` and prints `replay`.
  void Arm(sim::Strategy* inner, const std::string& tape_path, const std::string& header,
           const std::string& replay);
  void Disarm();
  // After a crash, siglongjmp(*jump, signal) instead of dying (the campaign goes on).
  void SetJump(sigjmp_buf* jump) { jump_ = jump; }

  const std::vector<uint8_t>& tape() const { return tape_; }
  uint64_t run() const { return run_; }

  std::string name() const override { return inner_->name(); }
  void NewExecution(uint64_t run) override;
  uint32_t NextThread(const std::vector<int>& runnable, bool current_runnable) override;
  uint32_t NextValue(uint32_t n, sim::DecisionKind kind) override;
  void EndExecution(uint64_t steps) override { inner_->EndExecution(steps); }
  bool Exhausted() const override { return inner_->Exhausted(); }

  // For the signal handler only.
  void WriteTapeNow(int signal) const;
  sigjmp_buf* jump() const { return jump_; }

 private:
  void MaybeTestCrash();

  sim::Strategy* inner_ = nullptr;
  std::string tape_path_, header_, message_;
  std::vector<uint8_t> tape_;
  uint64_t run_ = 0;
  uint64_t decisions_ = 0;
  long long crash_at_run_ = -1;  // WSAFAULT_TEST_CRASH_AT_RUN
  sigjmp_buf* jump_ = nullptr;
};

// "SIGSEGV" for 11, ...
const char* SignalName(int signal);

}  // namespace wsaf::campaign

#endif  // WSAFAULT_CLI_CAMPAIGN_CRASH_H_
