// ops_fuzzer: the input is a decision tape of the deterministic simulation.
//
// wsaf::sim::ReplayTape runs the real table (production Engine, completion path and windows)
// under the scheduler with the invariant checkers on; every choice of the run — which thread
// runs next, which operation with which arguments, which fault fires, how the resolver answers
// — is the next value read from the tape, and any byte string is a valid tape. So coverage of
// the table steers interleavings, operations and faults at once.
//
// Input: byte 0 picks the scenario (sim::ScenarioNames(), modulo their number) and the rest is
// the tape; with WSAFAULT_SCENARIO=<name> every input is a tape of that scenario instead.
// WSAFAULT_MUTANT=<name> selects a planted bug (table/mutants.h) once, at start-up;
// WSAFAULT_MUTANT=list prints their names and exits.
//
// Extra feedback: the checker's model coverage (which API call met which model condition and
// answered what, which lifecycle transitions happened) is handed to libFuzzer as extra
// counters, so an input that reaches a new cell of SPEC.md's matrix is kept even when it runs
// no new line of code. WSAFAULT_OPS_MODEL_COVERAGE=0 turns that off.
//
// On a violation: prints the invariant and the checker's detail, writes a replay file
// (sim::TapeFile: scenario, mutant, tape) into the current directory, prints
// "replay: wsafault replay FILE", then aborts so libFuzzer saves the input.
//
// The optional custom mutator (WSAFAULT_OPS_MUTATOR=1) adds tape-aware moves to libFuzzer's:
// zeroing a run of decisions (quiet: no preemption, no fault, first option), truncating the
// tape, and small values (most decisions choose among a few options).
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "sim/runner.h"
#include "table/mutants.h"

namespace {

namespace sim = wsaf::sim;

struct Config {
  wsaf::Mutant mutant = wsaf::Mutant::kNone;
  bool fixed_scenario = false;
  std::vector<std::string> names;
  std::vector<sim::RunSettings> settings;  // one per name
  bool model_coverage = true;
  bool custom_mutator = false;
  int shrink_attempts = 300;
};
Config* g_config = nullptr;

bool EnvFlag(const char* name, bool fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strcmp(v, "0") != 0 && std::strcmp(v, "no") != 0 && std::strcmp(v, "off") != 0;
}

// The checker's model coverage, one libFuzzer counter per cell.
using Cov = decltype(sim::RunResult::coverage);
constexpr std::size_t kCallCells = wsaf::check::CallCells::kCells;
constexpr std::size_t kTransitionCells = std::tuple_size<decltype(Cov::transitions)>::value;
constexpr std::size_t kMessageCells = std::tuple_size<decltype(Cov::message_errors)>::value;
__attribute__((used, section("__libfuzzer_extra_counters")))
uint8_t g_model_counters[kCallCells + kTransitionCells + kMessageCells];

uint8_t Bucket(uint32_t n) { return n > 255 ? 255 : static_cast<uint8_t>(n); }

// libFuzzer clears the extra counters before each run, so only nonzero cells are written.
// Never coverage-instrumented (not even with WSAFAULT_FUZZ_INSTRUMENT_SIM=ON): the 7,000-cell
// scan would feed a comparison hook per cell per run.
#if defined(__clang__)
#define WSAFAULT_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define WSAFAULT_NO_COVERAGE
#endif
template <std::size_t N>
WSAFAULT_NO_COVERAGE void ExportCells(const std::array<uint32_t, N>& cells, std::size_t base) {
  std::size_t i = 0;
  for (; i + 2 <= N; i += 2) {  // most cells are zero: skip them two at a time
    uint64_t pair;
    std::memcpy(&pair, &cells[i], sizeof pair);
    if (pair == 0) continue;
    if (cells[i] != 0) g_model_counters[base + i] = Bucket(cells[i]);
    if (cells[i + 1] != 0) g_model_counters[base + i + 1] = Bucket(cells[i + 1]);
  }
  for (; i < N; ++i) {
    if (cells[i] != 0) g_model_counters[base + i] = Bucket(cells[i]);
  }
}

void ExportModelCoverage(const Cov& c) {
  // A run's call cells are a short list (coverage.h): only the cells it reached are written.
  c.calls.ForEachNonZero([](int cell, uint32_t n) { g_model_counters[cell] = Bucket(n); });
  ExportCells(c.transitions, kCallCells);
  ExportCells(c.message_errors, kCallCells + kTransitionCells);
}

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

uint64_t Fnv1a(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

[[noreturn]] void ReportViolation(const sim::RunSettings& settings, const std::vector<uint8_t>& tape,
                                  const sim::RunResult& result) {
  const sim::Violation& v = *result.violation;
  std::fprintf(stderr,
               "\n==WSAFAULT== ops_fuzzer: invariant violated: %s\n"
               "==WSAFAULT== scenario: %s  mutant: %s  event: %zu  handle: 0x%llx  steps: %llu\n"
               "==WSAFAULT== detail: %s\n",
               v.invariant.c_str(), settings.scenario.name.c_str(),
               wsaf::MutantName(g_config->mutant), v.event_index,
               static_cast<unsigned long long>(v.handle),
               static_cast<unsigned long long>(result.steps), v.detail.c_str());
  sim::TapeFile file;
  file.scenario = settings.scenario.name;
  file.mutant = g_config->mutant;
  file.allowed_faults = settings.scenario.allowed_faults;
  file.tape = tape;
  if (g_config->shrink_attempts > 0) {
    sim::ShrinkStats stats;
    std::vector<uint8_t> shrunk =
        sim::ShrinkTape(settings, tape, v.invariant, g_config->shrink_attempts, &stats);
    const sim::RunResult again = sim::ReplayTape(settings, shrunk);
    if (again.violation && again.violation->invariant == v.invariant) {
      std::fprintf(stderr, "==WSAFAULT== shrunk the tape from %zu to %zu bytes (%d replays)\n",
                   stats.original_bytes, stats.shrunk_bytes, stats.attempts);
      file.tape = std::move(shrunk);
    }
  }
  const std::string path = "wsafault-" + v.invariant + "-" + Hex64(Fnv1a(file.tape)) + ".tape";
  std::string error;
  if (sim::WriteTapeFile(path, file, &error)) {
    std::fprintf(stderr, "replay: wsafault replay %s\n", path.c_str());
  } else {
    std::fprintf(stderr, "==WSAFAULT== could not write %s: %s\n", path.c_str(), error.c_str());
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_config = new Config;
  Config& c = *g_config;
  if (const char* m = std::getenv("WSAFAULT_MUTANT"); m != nullptr && *m != '\0') {
    if (std::strcmp(m, "list") == 0) {  // the planted bugs, one per line (scripts/fuzz-mutants)
      for (int i = 1; i < static_cast<int>(wsaf::Mutant::kCount); ++i) {
        std::printf("%s\n", wsaf::MutantName(static_cast<wsaf::Mutant>(i)));
      }
      std::exit(0);
    }
    if (!wsaf::ParseMutant(m, &c.mutant)) {
      std::fprintf(stderr, "ops_fuzzer: unknown WSAFAULT_MUTANT '%s'; known:", m);
      for (int i = 0; i < static_cast<int>(wsaf::Mutant::kCount); ++i) {
        std::fprintf(stderr, " %s", wsaf::MutantName(static_cast<wsaf::Mutant>(i)));
      }
      std::fprintf(stderr, "\n");
      std::exit(2);
    }
    if (!wsaf::SelectMutant(c.mutant)) {
      std::fprintf(stderr, "ops_fuzzer: mutants are compiled out (WSAFAULT_MUTANTS=OFF)\n");
      std::exit(2);
    }
  }
  std::vector<std::string> names = sim::ScenarioNames();
  if (const char* s = std::getenv("WSAFAULT_SCENARIO"); s != nullptr && *s != '\0' &&
                                                        std::strcmp(s, "auto") != 0) {
    names = {s};
    c.fixed_scenario = true;
  }
  for (const std::string& name : names) {
    sim::RunSettings settings;
    if (!sim::LookupScenario(name, &settings.scenario)) {
      std::fprintf(stderr, "ops_fuzzer: unknown scenario '%s'\n", name.c_str());
      std::exit(2);
    }
    c.names.push_back(name);
    c.settings.push_back(settings);
  }
  if (c.settings.empty()) {
    std::fprintf(stderr, "ops_fuzzer: no scenarios\n");
    std::exit(2);
  }
  c.model_coverage = EnvFlag("WSAFAULT_OPS_MODEL_COVERAGE", true);
  c.custom_mutator = EnvFlag("WSAFAULT_OPS_MUTATOR", false);
  if (const char* a = std::getenv("WSAFAULT_OPS_SHRINK"); a != nullptr) c.shrink_attempts = std::atoi(a);
  std::fprintf(stderr, "ops_fuzzer: mutant %s, scenario %s, model coverage %s, custom mutator %s\n",
               wsaf::MutantName(c.mutant), c.fixed_scenario ? c.names[0].c_str() : "by byte 0",
               c.model_coverage ? "on" : "off", c.custom_mutator ? "on" : "off");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (g_config == nullptr) LLVMFuzzerInitialize(nullptr, nullptr);
  const Config& c = *g_config;
  std::size_t pick = 0;
  std::size_t skip = 0;
  if (!c.fixed_scenario && size > 0) {
    pick = data[0] % c.settings.size();
    skip = 1;
  }
  const sim::RunSettings& settings = c.settings[pick];
  std::vector<uint8_t> tape(data + skip, data + size);
  sim::RunResult result = sim::ReplayTape(settings, tape);
  if (c.model_coverage) ExportModelCoverage(result.coverage);
  if (result.violation) ReportViolation(settings, tape, result);
  return 0;
}

// libFuzzer's own mutator; absent (weak, never called) in the replay build.
extern "C" __attribute__((weak)) size_t LLVMFuzzerMutate(uint8_t* data, size_t size,
                                                         size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  if (g_config == nullptr || !g_config->custom_mutator) {
    return LLVMFuzzerMutate(data, size, max_size);
  }
  sim::Prng rng(seed);
  const std::size_t header = g_config->fixed_scenario ? 0 : 1;
  switch (rng.Below(8)) {
    case 0:  // a quiet run: no preemption, no fault, first option
      if (size > header + 1) {
        std::size_t at = header + rng.Below(static_cast<uint32_t>(size - header));
        std::size_t len = 1 + rng.Below(static_cast<uint32_t>(std::min<std::size_t>(32, size - at)));
        std::memset(data + at, 0, len);
        return size;
      }
      break;
    case 1:  // drop the tail: later decisions answer 0
      if (size > header + 1) return header + rng.Below(static_cast<uint32_t>(size - header));
      break;
    case 2:  // a small value where a decision picks among a few options
      if (size > header) {
        data[header + rng.Below(static_cast<uint32_t>(size - header))] =
            static_cast<uint8_t>(rng.Below(4));
        return size;
      }
      break;
    default:
      break;
  }
  return LLVMFuzzerMutate(data, size, max_size);
}
