// The decision tape's encoding, replay from a tape, strategy specs, and the scenarios'
// versions (sim/tape_version.h).
#include <cstdlib>

#include "sim/strategy.h"
#include "sim/tape_version.h"

#ifndef WSAFAULT_COMMIT
#define WSAFAULT_COMMIT "unknown"
#endif

namespace wsaf::sim {

namespace {

// The one place a scenario's version lives. Bump a scenario's number in the same commit that
// changes which decisions it reads or what they mean (operations, arguments, faults, threads),
// then re-record its tapes under corpus/sim/ (ctest replays them and refuses stale ones). A
// scenario absent from this table is at version 1.
struct ScenarioVersionEntry {
  const char* scenario;
  int version;
};
constexpr ScenarioVersionEntry kScenarioVersions[] = {
    // v2: services and protocols get no DNS fault (sim_resolver.cc); decisions keep their places.
    {"standard", 2}, {"cancel-race", 2}, {"cleanup", 2}, {"blocking", 2},
    {"tiny", 2},     {"handle-wrap", 2}, {"spec-rules", 2},
};

class ReplayStrategy : public Strategy {
 public:
  explicit ReplayStrategy(std::vector<uint8_t> tape) : tape_(std::move(tape)) {}
  std::string name() const override { return "replay"; }
  void NewExecution(uint64_t) override { pos_ = 0; }
  uint32_t NextThread(const std::vector<int>& runnable, bool) override {
    return Tape::Read(tape_, &pos_, static_cast<uint32_t>(runnable.size()));
  }
  uint32_t NextValue(uint32_t n, DecisionKind) override { return Tape::Read(tape_, &pos_, n); }

 private:
  std::vector<uint8_t> tape_;
  std::size_t pos_ = 0;
};

}  // namespace

void Tape::AppendWide(std::vector<uint8_t>* tape, uint32_t n, uint32_t value) {
  int width = Width(n);
  for (int i = 0; i < width; ++i) tape->push_back(static_cast<uint8_t>(value >> (8 * i)));
}

uint32_t Tape::Read(const std::vector<uint8_t>& tape, std::size_t* pos, uint32_t n) {
  int width = Width(n);
  uint32_t v = 0;
  for (int i = 0; i < width; ++i) {
    uint32_t byte = *pos < tape.size() ? tape[*pos] : 0;
    v |= byte << (8 * i);
    ++*pos;
  }
  return n <= 1 ? 0 : v % n;
}

int ScenarioVersion(const std::string& scenario) {
  for (const ScenarioVersionEntry& e : kScenarioVersions) {
    if (scenario == e.scenario) return e.version;
  }
  return 1;
}

const char* BuildCommit() { return WSAFAULT_COMMIT; }

bool TapeVersionCurrent(const std::string& scenario, int recorded_version, const std::string& commit,
                        std::string* why) {
  int current = ScenarioVersion(scenario);
  if (recorded_version == current) return true;
  *why = "recorded with scenario v" + std::to_string(recorded_version) + " of '" + scenario + "'" +
         (commit.empty() ? "" : " (commit " + commit + ")") + "; this build runs v" + std::to_string(current) +
         ": the tape would be re-interpreted, re-record it";
  return false;
}

std::unique_ptr<Strategy> MakeReplayStrategy(std::vector<uint8_t> tape) {
  return std::make_unique<ReplayStrategy>(std::move(tape));
}

std::unique_ptr<Strategy> MakeStrategy(const std::string& spec, uint64_t seed, std::string* error) {
  auto parse_int = [&](const std::string& s, int lo, int hi, int* out) {
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || v < lo || v > hi) return false;
    *out = static_cast<int>(v);
    return true;
  };
  if (spec == "random") return MakeRandomStrategy(seed);
  if (spec == "pos") return MakePosStrategy(seed);
  if (spec == "surw") return MakeSurwStrategy(seed);
  if (spec == "guided") return MakeGuidedStrategy(seed);
  int v = 0;
  if (spec.rfind("pct:", 0) == 0 && parse_int(spec.substr(4), 1, 16, &v)) {
    return MakePctStrategy(seed, v);
  }
  if (spec == "pct") return MakePctStrategy(seed, 3);
  if (spec.rfind("dfs:", 0) == 0 && parse_int(spec.substr(4), 0, 8, &v)) return MakeDfsStrategy(v);
  if (spec == "dfs") return MakeDfsStrategy(2);
  *error = "unknown strategy '" + spec + "' (random, pos, surw, guided, pct:D with D in 1..16, dfs:B with B in 0..8)";
  return nullptr;
}

}  // namespace wsaf::sim
