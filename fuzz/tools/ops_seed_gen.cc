// ops_seed_gen: writes ops_fuzzer's seed tapes and the pinned inputs of the planted bugs.
//
//   ops_seed_gen CORPUS_DIR MUTANTS_DIR [--runs N] [--seed S]
//
// Seeds (CORPUS_DIR, i.e. corpus/ops_fuzzer/): for every cell of the checker's model coverage
// (API call x model condition x outcome, lifecycle transition, message error) the shortest
// random tape that reaches it, among N random tapes per scenario, keeping only clean runs; plus
// a quiet tape (all zeros) per scenario. Each file is an ops_fuzzer input: scenario byte + tape.
//
// Pinned bugs (MUTANTS_DIR, i.e. corpus/ops_fuzzer_mutants/<mutant>/): for each planted bug, a
// tape that violates an invariant with the mutant selected and runs clean without it, shrunk
// (sim::ShrinkTape). ctest replays them with WSAFAULT_MUTANT set and expects the crash.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "sim/runner.h"
#include "table/mutants.h"

namespace {

namespace sim = wsaf::sim;

std::string Sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return out;
}

void WriteInput(const std::string& path, uint8_t scenario_byte, const std::vector<uint8_t>& tape) {
  std::ofstream f(path, std::ios::binary);
  f.put(static_cast<char>(scenario_byte));
  f.write(reinterpret_cast<const char*>(tape.data()), static_cast<std::streamsize>(tape.size()));
  if (!f) {
    std::fprintf(stderr, "ops_seed_gen: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

std::vector<uint8_t> RandomTape(sim::Prng& rng) {
  // Mostly short tapes (they shrink well and run fast), a few long ones.
  uint32_t len = rng.Below(4) == 0 ? 64 + rng.Below(1024) : 8 + rng.Below(160);
  std::vector<uint8_t> t(len);
  for (uint8_t& b : t) {
    // Bias towards small values: most decisions pick among a few options.
    b = static_cast<uint8_t>(rng.Below(3) == 0 ? rng.Below(256) : rng.Below(4));
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ops_seed_gen CORPUS_DIR MUTANTS_DIR [--runs N] [--seed S]\n");
    return 2;
  }
  const std::string corpus = argv[1], mutants_dir = argv[2];
  uint64_t runs = 3000, seed = 1;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--runs") runs = std::strtoull(argv[i + 1], nullptr, 10);
    if (std::string(argv[i]) == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  const std::vector<std::string> names = sim::ScenarioNames();
  std::vector<sim::RunSettings> settings(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) sim::LookupScenario(names[i], &settings[i].scenario);

  // Seeds: shortest clean tape per coverage cell.
  struct Best {
    uint8_t scenario;
    std::vector<uint8_t> tape;
  };
  std::map<std::string, Best> best;
  sim::Prng rng(seed);
  uint64_t dirty = 0;
  for (std::size_t s = 0; s < names.size(); ++s) {
    WriteInput(corpus + "/quiet-" + names[s], static_cast<uint8_t>(s), {});
    for (uint64_t r = 0; r < runs; ++r) {
      std::vector<uint8_t> tape = RandomTape(rng);
      sim::RunResult res = sim::ReplayTape(settings[s], tape);
      if (res.violation) {
        ++dirty;
        continue;
      }
      for (const auto& e : res.coverage.List()) {
        std::string key = e.category + "-" + e.a + (e.b.empty() ? "" : "-" + e.b) +
                          (e.c.empty() ? "" : "-" + e.c);
        auto it = best.find(key);
        if (it == best.end() || tape.size() < it->second.tape.size()) {
          best[key] = Best{static_cast<uint8_t>(s), tape};
        }
      }
    }
  }
  for (const auto& [key, b] : best) WriteInput(corpus + "/" + Sanitize(key), b.scenario, b.tape);
  std::printf("ops_seed_gen: %zu coverage cells -> seeds (%llu random runs violated and were skipped)\n",
              best.size(), static_cast<unsigned long long>(dirty));

  // Pinned inputs of the planted bugs.
  for (int m = 1; m < static_cast<int>(wsaf::Mutant::kCount); ++m) {
    const auto mutant = static_cast<wsaf::Mutant>(m);
    bool found = false;
    for (uint64_t r = 0; r < runs * 4 && !found; ++r) {
      const std::size_t s = r % names.size();
      std::vector<uint8_t> tape = RandomTape(rng);
      wsaf::SelectMutant(mutant);
      sim::RunResult bad = sim::ReplayTape(settings[s], tape);
      if (!bad.violation) continue;
      wsaf::SelectMutant(wsaf::Mutant::kNone);
      if (sim::ReplayTape(settings[s], tape).violation) continue;  // not the mutant's doing
      wsaf::SelectMutant(mutant);
      sim::ShrinkStats stats;
      std::vector<uint8_t> shrunk =
          sim::ShrinkTape(settings[s], tape, bad.violation->invariant, 400, &stats);
      sim::RunResult again = sim::ReplayTape(settings[s], shrunk);
      wsaf::SelectMutant(wsaf::Mutant::kNone);
      bool clean_without = !sim::ReplayTape(settings[s], shrunk).violation;
      if (!again.violation || !clean_without) shrunk = tape;
      const std::string dir = mutants_dir + "/" + wsaf::MutantName(mutant);
      mkdir(mutants_dir.c_str(), 0755);
      mkdir(dir.c_str(), 0755);
      WriteInput(dir + "/" + Sanitize(bad.violation->invariant), static_cast<uint8_t>(s), shrunk);
      std::printf("ops_seed_gen: %-24s %-26s %s, %zu-byte tape (run %llu)\n",
                  wsaf::MutantName(mutant), bad.violation->invariant.c_str(), names[s].c_str(),
                  shrunk.size(), static_cast<unsigned long long>(r));
      found = true;
    }
    wsaf::SelectMutant(wsaf::Mutant::kNone);
    if (!found) std::printf("ops_seed_gen: %-24s not found in %llu random runs\n",
                            wsaf::MutantName(mutant), static_cast<unsigned long long>(runs * 4));
  }
  return 0;
}
