// Lane 0: the deterministic simulation, in this process, on one thread (the simulator binds
// process-wide seams, so two simulated runs may never overlap in one process).
//
// Each stage (random, then PCT) rotates through the standard scenarios in slices of a fixed
// number of runs (never of wall time: run i of a stage is the same tape on any machine, however
// fast or busy), each scenario with a strategy of its own seeded from the campaign seed and the
// stage's id, and publishes its counts and coverage to the board four times a second. With
// --runs-per-stage the stage ends after that many runs, not at its time share. A planted bug that needs a scenario of its own (2^16 requests
// on one slot: handle-wrap) gets that scenario instead. The first violation ends the stage: its
// tape is shrunk, written as a replay file, and drawn.
#include <setjmp.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "campaign.h"
#include "campaign_crash.h"
#include "campaign_util.h"
#include "sim/runner.h"

namespace wsaf::campaign {

namespace {

// After a crash inside a simulated run the simulator's state (fibers, bound seams) cannot be
// trusted: the lane stops simulating in this process, and the failures are not replayed.
std::atomic<bool> g_sim_crashed{false};

// Runs per scenario before rotating: about 10-50 ms of the usual scenarios, so every scenario
// gets its turn many times a second. handle-wrap's one run takes seconds: a slice of one.
constexpr uint64_t kSliceRuns = 256;
constexpr uint64_t kLongScenarioSliceRuns = 1;
constexpr double kPublishEvery = 0.25;
constexpr std::size_t kSeriesMax = 2000;  // points of a stage's coverage curve
constexpr uint64_t kShrinkMaxSteps = 200000;  // longer runs replay too slowly to shrink

struct Slot {
  sim::RunSettings settings;
  std::unique_ptr<sim::Strategy> strategy;
  uint64_t next_run = 0;
  std::string crash_header;  // the tape file's header, should a run of this slot crash
};

std::vector<std::string> ScenariosFor(const Options& opt, Mutant mutant, bool random) {
  if (mutant == Mutant::kSixteenBitHandles) return {"handle-wrap"};
  std::vector<std::string> names = {"standard", "cancel-race", "cleanup", "blocking", "tiny", "spec-rules"};
  // One handle-wrap run (600,000 operations, ~5 s) checks the real generation never repeats;
  // only worth it in a long clean campaign.
  // Decided by the asked budget, not the time left, so the same command plans the same runs.
  if (mutant == Mutant::kNone && random && !opt.zoo && opt.time_sec >= 60) names.insert(names.begin(), "handle-wrap");
  return names;
}

struct SimStage {
  const Options& opt;
  Mutant mutant;
  Board* board;
  int index;
  double deadline;
  const std::string& tape_dir;
  const std::atomic<bool>* stop;
  std::vector<Slot> slots;
  std::vector<std::string> names;
  check::Coverage coverage;
  uint64_t runs = 0;
  double start = 0;

  std::string CrashTapePath(std::size_t slot) const {
    return JoinPath(tape_dir, Printf("crash-%d-%s-%s.tape", index, names[slot].c_str(), MutantName(mutant)));
  }

  void Publish(double now, const std::string& scenario) {
    const int cells = check::Summarize(coverage).overall.hit;  // outside the board's lock
    BoardLock lock(&board->mu);
    Stage& s = board->stages[index];
    s.runs = runs;
    s.rate = runs / std::max(now - start, 1e-6);
    s.coverage = coverage;
    std::vector<std::pair<double, int>>& series = s.coverage_series;
    series.emplace_back(now - start, cells);
    if (series.size() > kSeriesMax) {  // a long stage: keep every other point
      std::vector<std::pair<double, int>> thin;
      for (std::size_t i = 0; i < series.size(); i += 2) thin.push_back(series[i]);
      if (thin.back() != series.back()) thin.push_back(series.back());
      series.swap(thin);
    }
    s.note = "scenario " + scenario;
  }

  void Capture(std::size_t slot, const sim::RunResult& r, double found_at);
  void CaptureCrash(std::size_t slot, int signal, const CrashRecorder& recorder);
  bool Run();
  bool Loop(CrashRecorder* recorder);
  std::size_t current = 0;  // the slot of the run in progress (read after a crash)
};

void SimStage::Capture(std::size_t slot, const sim::RunResult& r, double found_at) {
  const sim::RunSettings& settings = slots[slot].settings;
  const sim::Violation& v = *r.violation;
  Failure f;
  {
    BoardLock lock(&board->mu);
    f.stage_id = board->stages[index].id;
    f.group = board->stages[index].group;
  }
  f.invariant = v.invariant;
  f.detail = v.detail;
  f.scenario = names[slot];
  f.mutant = MutantName(mutant);
  f.after = found_at - start;
  f.wall = found_at - board->t0;
  f.runs = runs;
  f.original_tape_bytes = r.tape.size();
  f.tape = r.tape;
  if (r.steps <= kShrinkMaxSteps) {
    // A repeatable campaign bounds shrinking by replays alone (a time bound would cut it at a
    // different point on a busier machine).
    double left = opt.runs_per_stage > 0 ? 600.0 : std::clamp(deadline - Now(), 2.0, opt.zoo ? 5.0 : 15.0);
    sim::ShrinkStats st;
    f.tape = sim::ShrinkTape(settings, r.tape, v.invariant, 3000, left, &st);
  } else {
    f.timeline_note = "not shrunk: the run is too long to replay thousands of times";
  }
  DrawFailure(settings, f.tape, &f);
  sim::TapeFile file;
  file.scenario = names[slot];
  file.mutant = mutant;
  file.allowed_faults = settings.scenario.allowed_faults;
  file.memory = settings.memory;
  file.atomic_points = settings.atomic_points;
  file.tape = f.tape;
  f.tape_path = JoinPath(tape_dir, f.stage_id + "-" + f.scenario + "-" + f.mutant + "-" + v.invariant + ".tape");
  std::string error;
  if (sim::WriteTapeFile(f.tape_path, file, &error)) {
    f.replay = opt.self + " replay " + Shown(f.tape_path);
  } else {
    f.replay = "(tape not written: " + error + ")";
  }
  BoardLock lock(&board->mu);
  Stage& s = board->stages[index];
  s.failures = 1;
  s.found_after = f.after;
  s.runs_to_find = runs;
  board->notices.push_back(Printf("%s found %s after %s (%s runs, %s): %s", s.title.c_str(),
                                  f.invariant.c_str(), Seconds(f.after).c_str(), Count(runs).c_str(),
                                  f.scenario.c_str(), f.replay.c_str()));
  board->failures.push_back(std::move(f));
}

void SimStage::CaptureCrash(std::size_t slot, int signal, const CrashRecorder& recorder) {
  g_sim_crashed.store(true);
  double now = Now();
  Publish(now, names[slot]);
  Failure f;
  {
    BoardLock lock(&board->mu);
    f.stage_id = board->stages[index].id;
    f.group = board->stages[index].group;
  }
  f.invariant = std::string("crash (") + SignalName(signal) + ")";
  f.detail = Printf("%s inside run %llu of scenario %s; the tape is the run up to the crash (not shrunk: the "
                    "simulator is not trusted after a crash)", SignalName(signal),
                    static_cast<unsigned long long>(recorder.run()), names[slot].c_str());
  f.scenario = names[slot];
  f.mutant = MutantName(mutant);
  f.after = now - start;
  f.wall = now - board->t0;
  f.runs = runs;
  f.tape = recorder.tape();
  f.original_tape_bytes = f.tape.size();
  f.tape_path = CrashTapePath(slot);
  f.replay = opt.self + " replay " + Shown(f.tape_path);
  f.timeline_note = "no timeline: drawing it needs the simulator, which crashed";
  BoardLock lock(&board->mu);
  Stage& s = board->stages[index];
  s.failures = 1;
  s.found_after = f.after;
  s.runs_to_find = runs;
  board->notices.push_back(Printf("%s: %s: %s", s.title.c_str(), f.invariant.c_str(), f.replay.c_str()));
  board->failures.push_back(std::move(f));
}

// Returns true when a violation (or a crash) ended the stage.
bool SimStage::Run() {
  std::string spec, id;
  {
    BoardLock lock(&board->mu);
    Group g = board->stages[index].group;
    spec = SimStrategy(g, opt.pct_depth);
    id = board->stages[index].id;
  }
  names = ScenariosFor(opt, mutant, spec == "random");
  for (std::size_t i = 0; i < names.size(); ++i) {
    Slot slot;
    sim::LookupScenario(names[i], &slot.settings.scenario);
    // Every atomic a scheduling point, under x86-TSO's store buffers (a tape of quiet drain
    // decisions is sequentially consistent, so nothing SC finds is lost); TSan builds run SC.
    slot.settings.atomic_points = true;
#if !defined(WSAF_SIM_TSAN)
    slot.settings.memory = sim::MemoryModel::kTso;
#endif
    std::string error;
    slot.strategy = sim::MakeStrategy(spec, StageSeed(opt.seed, id, i), &error);
    sim::TapeFile file;
    file.scenario = names[i];
    file.mutant = mutant;
    file.allowed_faults = slot.settings.scenario.allowed_faults;
    file.memory = slot.settings.memory;
    file.atomic_points = slot.settings.atomic_points;
    slot.crash_header = CrashRecorder::HeaderFor(file);
    slots.push_back(std::move(slot));
  }
  CrashRecorder::Install();
  CrashRecorder recorder;
  sigjmp_buf jump;
  recorder.SetJump(&jump);
  if (int sig = sigsetjmp(jump, 1)) {
    CaptureCrash(current, sig, recorder);
    return true;
  }
  bool found = Loop(&recorder);
  recorder.Disarm();
  return found;
}

bool SimStage::Loop(CrashRecorder* recorder) {
  const uint64_t limit = opt.runs_per_stage;  // 0: the deadline alone
  auto over = [&] { return stop->load() || (limit > 0 ? runs >= limit : Now() >= deadline); };
  double last_publish = start;
  for (std::size_t turn = 0; !over(); ++turn) {
    std::size_t k = turn % slots.size();
    uint64_t slice = names[k] == "handle-wrap" ? kLongScenarioSliceRuns : kSliceRuns;
    for (uint64_t n = 0; n < slice && !over(); ++n) {
      Slot& slot = slots[k];
      current = k;
      recorder->Arm(slot.strategy.get(), CrashTapePath(k), slot.crash_header, opt.self + " replay " + Shown(CrashTapePath(k)));
      sim::RunResult r = sim::RunOnce(slot.settings, recorder, slot.next_run++);
      recorder->Disarm();
      ++runs;
      coverage.Merge(r.coverage);
      double now = Now();
      if (r.violation) {
        Publish(now, names[k]);
        Capture(k, r, now);
        return true;
      }
      sim::RecycleRun(std::move(r));
      if (now - last_publish >= kPublishEvery) {
        Publish(now, names[k]);
        last_publish = now;
      }
    }
  }
  Publish(Now(), names.back());
  return false;
}

}  // namespace

bool SimulationCrashed() { return g_sim_crashed.load(); }

void RunSimLane(const Options& opt, Mutant mutant, Board* board, double deadline,
                const std::string& tape_dir, const std::atomic<bool>* stop) {
  SelectMutant(mutant);
  std::size_t count = 0;  // the plan's stages never change while the lanes run
  {
    BoardLock lock(&board->mu);
    count = board->stages.size();
  }
  for (std::size_t i = 0; i < count; ++i) {
    double now = Now();
    double budget = 0;
    {
      BoardLock lock(&board->mu);
      Stage& s = board->stages[i];
      if (s.lane != 0 || s.state != State::kWaiting) continue;
      if (stop->load() || g_sim_crashed.load()) {
        s.state = State::kSkipped;
        s.note = stop->load() ? "interrupted" : "the simulation crashed earlier in this process (see its failure)";
        continue;
      }
      budget = ShareOfLane(board->stages, static_cast<int>(i), deadline - now);
      s.state = State::kRunning;
      s.start = now - board->t0;
      s.budget = budget;
    }
    bool found = false;
    std::string scenarios;
    if ((budget > 0.05 || opt.runs_per_stage > 0) && !stop->load()) {
      SimStage stage{opt, mutant, board, static_cast<int>(i), now + budget, tape_dir, stop, {}, {}, {}, 0, now};
      found = stage.Run();
      for (const std::string& n : stage.names) scenarios += (scenarios.empty() ? "" : ", ") + n;
    }
    BoardLock lock(&board->mu);
    Stage& s = board->stages[i];
    s.end = Now() - board->t0;
    s.state = found ? State::kFound : State::kDone;
    s.note = (stop->load() ? "interrupted; scenarios: " : "scenarios: ") + scenarios;
  }
}

}  // namespace wsaf::campaign
