// Which stages a campaign runs, on which lane, with which share of the lane's time.
//
// Lane 0 (this process) holds the simulation: random and PCT get half each. Lane 1 (children)
// holds the fuzz targets (half, ops_fuzzer the largest share) and the stress binaries (half,
// split between ASan and TSan). Shares are weights: RunLanes re-splits what is left whenever a
// stage ends, so absent or early-finishing stages give their time to the rest of their lane.
#include <string>
#include <vector>

#include "campaign.h"
#include "campaign_util.h"

namespace wsaf::campaign {

const char* GroupName(Group g) {
  switch (g) {
    case Group::kSimRandom: return "sim random";
    case Group::kSimPct: return "sim PCT";
    case Group::kFuzzing: return "fuzzing";
    case Group::kStressAsan: return "stress+ASan";
    case Group::kStressTsan: return "stress+TSan";
    case Group::kSimTsan: return "sim+TSan";
    case Group::kSimPos: return "sim POS";
  }
  return "?";
}

const char* GroupId(Group g) {
  switch (g) {
    case Group::kSimRandom: return "sim-random";
    case Group::kSimPct: return "sim-pct";
    case Group::kFuzzing: return "fuzzing";
    case Group::kStressAsan: return "stress-asan";
    case Group::kStressTsan: return "stress-tsan";
    case Group::kSimTsan: return "sim-tsan";
    case Group::kSimPos: return "sim-pos";
  }
  return "?";
}

const char* StateName(State s) {
  switch (s) {
    case State::kWaiting: return "waiting";
    case State::kRunning: return "running";
    case State::kDone: return "clean";
    case State::kFound: return "FOUND";
    case State::kSkipped: return "skipped";
    case State::kError: return "error";
  }
  return "?";
}

bool IsSimGroup(Group g) {
  return g == Group::kSimRandom || g == Group::kSimPct || g == Group::kSimPos || g == Group::kSimTsan;
}

std::string SimStrategy(Group g, int pct_depth) {
  if (g == Group::kSimPos) return "pos";
  if (g == Group::kSimPct) return "pct:" + std::to_string(pct_depth);
  return "random";
}

namespace {

Stage MakeStage(std::string id, std::string title, Group g, int lane, double weight, std::string unit) {
  Stage s;
  s.id = std::move(id);
  s.title = std::move(title);
  s.group = g;
  s.lane = lane;
  s.weight = weight;
  s.unit = std::move(unit);
  return s;
}

Stage Skipped(Stage s, std::string why) {
  s.state = State::kSkipped;
  s.note = std::move(why);
  return s;
}

// The targets that select a planted bug: only ops_fuzzer reads WSAFAULT_MUTANT; the others
// test the parsers and the start functions, which no planted bug touches.
void PlanFuzz(const Options& opt, Mutant mutant, std::vector<Stage>* out) {
  struct Target {
    const char* name;
    const char* title;
    double weight;
  };
  static constexpr Target kClean[] = {{"ops_fuzzer", "fuzz ops", 0.4},
                                      {"dns_reply_fuzzer", "fuzz dns_reply", 0.2},
                                      {"name_fuzzer", "fuzz name", 0.2},
                                      {"netbase_fuzzer", "fuzz netbase", 0.2}};
  Stage skipped = MakeStage("fuzzing", "fuzzing", Group::kFuzzing, 1, 1, "execs");
  if (!opt.run_fuzz) return out->push_back(Skipped(skipped, "--no-fuzz"));
  if (opt.fuzz_dir.empty()) return out->push_back(Skipped(skipped, opt.fuzz_dir_note));
  for (const Target& t : kClean) {
    if (mutant != Mutant::kNone && std::string(t.name) != "ops_fuzzer") continue;
    Stage s = MakeStage(std::string("fuzz-") + t.name, t.title, Group::kFuzzing, 1,
                        mutant != Mutant::kNone ? 1.0 : t.weight, "execs");
    s.target = t.name;
    s.program = JoinPath(opt.fuzz_dir, t.name);
    if (!IsExecutable(s.program)) s = Skipped(s, s.program + " absent");
    out->push_back(s);
  }
}

void PlanStress(const Options& opt, std::vector<Stage>* out) {
  double share = opt.stress_tsan.empty() ? 1.0 : 0.5;
  Stage asan = MakeStage("stress-asan", "stress+ASan", Group::kStressAsan, 1, share, "ops");
  Stage tsan = MakeStage("stress-tsan", "stress+TSan", Group::kStressTsan, 1, share, "ops");
  asan.program = opt.stress_asan;
  tsan.program = opt.stress_tsan;
  if (!opt.run_stress) {
    out->push_back(Skipped(asan, "--no-stress"));
    return;
  }
  out->push_back(asan.program.empty() ? Skipped(asan, opt.stress_note) : asan);
  if (!tsan.program.empty()) out->push_back(tsan);
}

}  // namespace

std::vector<Stage> PlanStages(const Options& opt, Mutant mutant) {
  std::vector<Stage> stages;
  // POS first and with half of the simulation lane: in one run of scripts/compare-strategies
  // it alone found every planted bug, three lock-free ones (free-list-no-tag, publish-release,
  // push-free-relaxed) in 1.2-7.3 s where random, PCT, SURW and guided found none in 10 s
  // (docs/sim/strategies.md).
  Stage pos = MakeStage("sim-pos", "sim POS", Group::kSimPos, 0, 2, "runs");
  Stage random = MakeStage("sim-random", "sim random", Group::kSimRandom, 0, 1, "runs");
  Stage pct = MakeStage("sim-pct", "sim PCT", Group::kSimPct, 0, 1, "runs");
  pct.title = Printf("sim PCT:%d", opt.pct_depth);
  stages.push_back(opt.run_sim ? pos : Skipped(pos, "--no-sim"));
  stages.push_back(opt.run_sim ? random : Skipped(random, "--no-sim"));
  stages.push_back(opt.run_sim ? pct : Skipped(pct, "--no-sim"));
  // The simulation under TSan (issue 11) runs as a child on lane 1: a data race between two
  // simulated threads, or a crash, ends that process only.
  if (opt.run_sim && !opt.sim_tsan.empty()) {
    Stage tsan = MakeStage("sim-tsan", "sim+TSan", Group::kSimTsan, 1, 0.5, "runs");
    tsan.program = opt.sim_tsan;
    stages.push_back(tsan);
  }
  PlanFuzz(opt, mutant, &stages);
  PlanStress(opt, &stages);
  return stages;
}

double ShareOfLane(const std::vector<Stage>& stages, int index, double remaining) {
  double total = 0;
  for (std::size_t i = index; i < stages.size(); ++i) {
    const Stage& s = stages[i];
    if (s.lane == stages[index].lane && (s.state == State::kWaiting || static_cast<int>(i) == index)) {
      total += s.weight;
    }
  }
  return total <= 0 ? remaining : remaining * stages[index].weight / total;
}

}  // namespace wsaf::campaign
