// Command-line options of the stress driver (`wsafault stress`, `wsafault-stress`).
//
// The options fix the operation mix (with --seed) and the bounds of a run; they never make a
// run unbounded: --duration and --ops are both capped, and every wait inside the driver has
// its own limit. RerunCommand() prints one command line that repeats a run with the same mix.
//
// Thread safety: parse once on the main thread, then read-only.
#ifndef WSAFAULT_STRESS_STRESS_OPTIONS_H_
#define WSAFAULT_STRESS_STRESS_OPTIONS_H_

#include <cstdint>
#include <cstdio>
#include <string>

#include "table/mutants.h"

namespace wsaf::stress {

struct Options {
  int threads = 4;
  double duration_s = 10;  // used when ops == 0
  bool duration_given = false;
  uint64_t ops = 0;  // 0: bounded by duration_s only
  uint64_t seed = 0;
  bool seed_given = false;
  double cancel_ratio = 0.5;
  bool faults = false;
  Mutant mutant = Mutant::kNone;
  bool soak = false;          // sample RSS and slot counts and report their trend
  double sample_every_s = 5;  // soak sampling period
  int max_outstanding = 32;   // live requests per thread
  int grace_ms = 500;         // canceled / swallowed buffers are checked this long after
  int drain_ms = 3000;        // final quiescence: how long lookups may still take
  double free_canceled = -1;  // share freed at once after a won cancel (<0: by build)
  int max_violations = 1;     // stop after this many reports
  bool expect_violation = false;
  std::string zone_path;
  std::string netbase_dir;
  bool help = false;
};

// Exit statuses, as every `wsafault` command uses them.
constexpr int kExitClean = 0;
constexpr int kExitViolation = 1;
constexpr int kExitUsage = 2;

// Parses argv (argv[0] is the command name). Returns false with a message in *error.
bool ParseOptions(int argc, char** argv, Options* opts, std::string* error);
void PrintUsage(std::FILE* out);
// One shell command that reruns with the same options and seed.
std::string RerunCommand(const Options& opts);
// A seed from the clock and the pid, when --seed was not given.
uint64_t TimeSeed();

}  // namespace wsaf::stress

#endif  // WSAFAULT_STRESS_STRESS_OPTIONS_H_
