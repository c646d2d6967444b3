// Both lanes of a campaign: the simulation on a thread of its own, the child stages (fuzz
// targets, stress binaries) one after another on the main thread, which also drives the live
// view. Every child is bounded twice: by its own flag (-max_total_time, --duration) and by a
// kill when its budget plus a grace period has passed.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "campaign.h"
#include "campaign_child.h"
#include "campaign_parse.h"
#include "campaign_util.h"

namespace wsaf::campaign {

namespace {

namespace fs = std::filesystem;

constexpr double kKillGrace = 3;       // seconds after the budget before SIGTERM
constexpr double kTermGrace = 3;       // seconds after SIGTERM before SIGKILL
constexpr double kStressTail = 4;      // the stress driver's drain and summary after --duration
constexpr double kMinFuzzBudget = 3;
constexpr double kMinStressBudget = 5;

// "-max_len=4096" for each "max_len = 4096" under [libfuzzer] in <target>.options.
std::vector<std::string> FuzzerOptions(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  std::string line;
  bool section = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] == '[') {
      section = line.rfind("[libfuzzer]", 0) == 0;
      continue;
    }
    std::size_t eq = line.find('=');
    if (!section || eq == std::string::npos) continue;
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    out.push_back("-" + trim(line.substr(0, eq)) + "=" + trim(line.substr(eq + 1)));
  }
  return out;
}

// The scenario a planted bug's ops_fuzzer run needs when it is outside the byte-0 rotation:
// "<bug> <scenario>" lines of corpus/ops_fuzzer_mutants/scenarios (as ctest and
// scripts/fuzz-mutants read them). Empty when the bug is not listed.
std::string MutantScenario(const std::string& source_dir, const char* bug) {
  if (source_dir.empty()) return "";
  std::ifstream in(JoinPath(source_dir, "corpus/ops_fuzzer_mutants/scenarios"));
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream fields(line);
    std::string name, scenario;
    if (fields >> name >> scenario && name == bug) return scenario;
  }
  return "";
}

// A fresh copy of the checked-in seeds (top-level files only: candidates/ holds crashes), so
// the campaign never writes into the repository.
void CopyCorpus(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::create_directories(to, ec);
  if (from.empty() || !fs::is_directory(from, ec)) return;
  for (const auto& entry : fs::directory_iterator(from, ec)) {
    if (entry.is_regular_file(ec)) fs::copy_file(entry.path(), fs::path(to) / entry.path().filename(), ec);
  }
}

class ChildLane {
 public:
  ChildLane(const Options& opt, Mutant mutant, Board* board, double deadline, std::string work_dir,
            const std::atomic<bool>* stop)
      : opt_(opt), mutant_(mutant), board_(board), deadline_(deadline), work_dir_(std::move(work_dir)), stop_(stop) {}

  // Starts the next stage when idle and reads output for up to `ms`. False once every stage of
  // the lane has ended.
  bool Step(int ms);

 private:
  bool Begin(int index, double budget, std::string* error);
  std::vector<std::string> FuzzArgs(const Stage& s, double budget, std::vector<std::string>* env);
  std::vector<std::string> StressArgs(const Stage& s, double budget);
  std::vector<std::string> SimArgs(const Stage& s, double budget, std::vector<std::string>* env);
  const ChildFigures& Figures() const {
    return fuzz_ ? fuzz_out_.figures() : sim_ ? sim_out_.figures() : stress_out_.figures();
  }
  void Publish();
  void Finish(int exit_code);

  const Options& opt_;
  Mutant mutant_;
  Board* board_;
  double deadline_;
  std::string work_dir_;
  const std::atomic<bool>* stop_;
  int current_ = -1;
  std::unique_ptr<Child> child_;
  bool fuzz_ = false;
  bool sim_ = false;  // `wsafault sim` under TSan
  FuzzerOutput fuzz_out_;
  SimOutput sim_out_;
  StressOutput stress_out_;
  std::string cwd_;
  double started_ = 0, kill_at_ = 0, found_at_ = -1;
  bool terminated_ = false;
  std::string fuzz_scenario_;  // WSAFAULT_SCENARIO of the ops_fuzzer run, if any
};

std::vector<std::string> ChildLane::FuzzArgs(const Stage& s, double budget, std::vector<std::string>* env) {
  std::string corpus = JoinPath(cwd_, "corpus");
  CopyCorpus(opt_.source_dir.empty() ? "" : JoinPath(opt_.source_dir, "corpus/" + s.target), corpus);
  std::vector<std::string> argv = {s.program,
                                   Printf("-max_total_time=%d", std::max(1, static_cast<int>(budget - 1.5))),
                                   Printf("-seed=%llu", static_cast<unsigned long long>(
                                                            StageSeed(opt_.seed, s.id, 0) % 4000000000ull + 1)),
                                   "-print_final_stats=1", "-artifact_prefix=" + cwd_ + "/"};
  std::string base = JoinPath(opt_.fuzz_dir, s.target);
  if (FileExists(base + ".dict")) argv.push_back("-dict=" + base + ".dict");
  for (const std::string& o : FuzzerOptions(base + ".options")) argv.push_back(o);
  if (opt_.runs_per_stage > 0) argv.push_back(Printf("-runs=%llu", static_cast<unsigned long long>(opt_.runs_per_stage)));
  argv.push_back(corpus);
  if (s.target == "ops_fuzzer" && mutant_ != Mutant::kNone) {
    env->push_back(std::string("WSAFAULT_MUTANT=") + MutantName(mutant_));
    fuzz_scenario_ = MutantScenario(opt_.source_dir, MutantName(mutant_));
    if (!fuzz_scenario_.empty()) env->push_back("WSAFAULT_SCENARIO=" + fuzz_scenario_);
  }
  return argv;
}

std::vector<std::string> ChildLane::StressArgs(const Stage& s, double budget) {
  uint64_t seed = StageSeed(opt_.seed, s.id, 0) % 1'000'000'000ull;
  std::vector<std::string> argv = {s.program};
  if (opt_.runs_per_stage > 0) {
    argv.insert(argv.end(), {"--ops", std::to_string(opt_.runs_per_stage)});
  } else {
    argv.insert(argv.end(), {"--duration", Printf("%d", std::max(1, static_cast<int>(budget - kStressTail)))});
  }
  argv.insert(argv.end(), {"--threads", std::to_string(opt_.stress_threads), "--seed", std::to_string(seed)});
  // Faults in a clean campaign widen what the checker sees; the planted-bug runs keep the
  // setting the stress tests use to catch each bug (no DNS faults).
  if (mutant_ == Mutant::kNone) argv.push_back("--faults");
  if (mutant_ != Mutant::kNone) argv.insert(argv.end(), {"--mutant", MutantName(mutant_)});
  if (!opt_.source_dir.empty()) {
    argv.insert(argv.end(), {"--zone", JoinPath(opt_.source_dir, "corpus/zones/test.zone"),
                             "--netbase-dir", JoinPath(opt_.source_dir, "corpus/netbase")});
  }
  return argv;
}

// The tsan build's `wsafault sim`: TSan stops at its first report (halt_on_error), and the
// recorder in sim_cmd.cc writes the tape of the run it stopped in (campaign_crash.h).
std::vector<std::string> ChildLane::SimArgs(const Stage& s, double budget, std::vector<std::string>* env) {
  std::string scenario = mutant_ == Mutant::kSixteenBitHandles ? "handle-wrap" : "standard";
  // The in-process stages moved here after a crash (campaign_zoo.cc) keep their strategy and
  // memory model; the TSan lane runs a random walk under SC (its build refuses TSO).
  const bool tsan = s.group == Group::kSimTsan;
  const std::string strategy = SimStrategy(s.group, opt_.pct_depth);
  std::vector<std::string> argv = {s.program, "sim", "--scenario", scenario, "--strategy", strategy, "--seed",
                                   std::to_string(StageSeed(opt_.seed, s.id, 0) % 1'000'000'000ull), "--out", cwd_};
  if (opt_.runs_per_stage > 0) {
    argv.insert(argv.end(), {"--runs", std::to_string(opt_.runs_per_stage)});
  } else {
    argv.insert(argv.end(), {"--time", Printf("%d", std::max(1, static_cast<int>(budget * 0.6)))});
  }
  if (mutant_ != Mutant::kNone) argv.insert(argv.end(), {"--mutant", MutantName(mutant_)});
  if (!tsan) argv.insert(argv.end(), {"--memory", "tso"});
  // A race is a violation of its run (tsan_reports.h): the run goes on, is shrunk and leaves
  // its tape, so TSan must not halt the process at its first report.
  env->push_back("TSAN_OPTIONS=halt_on_error=0");
  return argv;
}

bool ChildLane::Begin(int index, double budget, std::string* error) {
  Stage s;
  {
    BoardLock lock(&board_->mu);
    s = board_->stages[index];
  }
  fuzz_ = s.group == Group::kFuzzing;
  sim_ = IsSimGroup(s.group);
  cwd_ = JoinPath(work_dir_, s.id);
  std::error_code ec;
  fs::create_directories(cwd_, ec);
  std::vector<std::string> env;
  std::vector<std::string> argv =
      fuzz_ ? FuzzArgs(s, budget, &env) : sim_ ? SimArgs(s, budget, &env) : StressArgs(s, budget);
  fuzz_out_ = FuzzerOutput();
  stress_out_ = StressOutput();
  sim_out_ = SimOutput();
  child_ = std::make_unique<Child>();
  std::string command = JoinCommand(argv);
  for (auto it = env.rbegin(); it != env.rend(); ++it) command = *it + " " + command;
  {
    BoardLock lock(&board_->mu);
    board_->stages[index].command = command;
  }
  if (!child_->Start(argv, cwd_, env, JoinPath(work_dir_, s.id + ".log"), error)) return false;
  started_ = Now();
  kill_at_ = std::min(started_ + budget + kKillGrace, deadline_ + kKillGrace);
  found_at_ = -1;
  terminated_ = false;
  return true;
}

void ChildLane::Publish() {
  const ChildFigures& f = Figures();
  if (f.found && found_at_ < 0) found_at_ = Now();
  BoardLock lock(&board_->mu);
  Stage& s = board_->stages[current_];
  s.runs = f.runs;
  s.rate = f.rate;
  s.fuzz_cov = f.cov;
  s.fuzz_features = f.features;
  s.fuzz_corpus = f.corpus;
  s.failures = f.found ? 1 : 0;
}

void ChildLane::Finish(int exit_code) {
  Publish();
  const ChildFigures& f = Figures();
  BoardLock lock(&board_->mu);
  Stage& s = board_->stages[current_];
  s.end = Now() - board_->t0;
  s.exit_code = exit_code;
  if (s.rate == 0 && s.runs > 0) s.rate = s.runs / std::max(s.Elapsed(0), 1e-3);
  s.note = "log: " + Shown(JoinPath(work_dir_, s.id + ".log"));
  if (f.found) {
    Failure fl;
    fl.stage_id = s.id;
    fl.group = s.group;
    fl.invariant = f.invariant.empty() ? "crash" : f.invariant;
    fl.detail = f.detail;
    fl.scenario = f.scenario;
    fl.mutant = MutantName(mutant_);
    fl.after = found_at_ - started_;
    fl.wall = found_at_ - board_->t0;
    // A fuzzer stops at its first crash; the stress driver may report before its first
    // progress line, and then stops within milliseconds: its total is the better count.
    fl.runs = fuzz_ || f.runs_at_find == 0 ? f.runs : f.runs_at_find;
    for (const std::string& line : f.excerpt) fl.log_excerpt += line + "\n";
    if (!f.tape_file.empty()) {
      fl.tape_path = f.tape_file[0] == '/' ? f.tape_file : JoinPath(cwd_, f.tape_file);
      // A tape of the TSan lane replays its race only in the tsan build.
      fl.replay = (sim_ ? Shown(s.program) : opt_.self) + " replay " + Shown(fl.tape_path);
    } else if (!f.artifact.empty()) {
      fl.replay = (mutant_ != Mutant::kNone && s.target == "ops_fuzzer"
                       ? std::string("WSAFAULT_MUTANT=") + MutantName(mutant_) + " " : std::string()) +
                  (!fuzz_scenario_.empty() && s.target == "ops_fuzzer"
                       ? "WSAFAULT_SCENARIO=" + fuzz_scenario_ + " " : std::string()) +
                  s.program + " " + f.artifact;
    } else {
      fl.replay = f.rerun;
    }
    s.state = State::kFound;
    s.found_after = fl.after;
    s.runs_to_find = fl.runs;
    board_->notices.push_back(Printf("%s found %s after %s (%s %s): %s", s.title.c_str(), fl.invariant.c_str(),
                                     Seconds(fl.after).c_str(), Count(fl.runs).c_str(), s.unit.c_str(),
                                     fl.replay.c_str()));
    board_->failures.push_back(std::move(fl));
  } else if (f.unknown_mutant) {
    s.state = State::kSkipped;
    s.note = Printf("%s predates the planted bug %s: rebuild it", Shown(s.program).c_str(), MutantName(mutant_));
  } else if (f.usage_error || exit_code == 2 || exit_code == 126 || exit_code == 127 ||
             (exit_code != 0 && !terminated_)) {
    s.state = State::kError;
    s.note = Printf("exit %d: %s (log: %s)", exit_code, f.tail.empty() ? "no output" : f.tail.back().c_str(),
                    Shown(JoinPath(work_dir_, s.id + ".log")).c_str());
    board_->notices.push_back(s.title + " could not run: " + s.note);
  } else {
    s.state = State::kDone;
    if (terminated_) s.note = "stopped at its budget; " + s.note;
  }
  current_ = -1;
  child_.reset();
}

bool ChildLane::Step(int ms) {
  if (current_ < 0) {
    for (;;) {
      int next = -1;
      double budget = 0;
      {
        BoardLock lock(&board_->mu);
        for (std::size_t i = 0; i < board_->stages.size() && next < 0; ++i) {
          Stage& s = board_->stages[i];
          if (s.lane == 1 && s.state == State::kWaiting) next = static_cast<int>(i);
        }
        if (next < 0) return false;
        Stage& s = board_->stages[next];
        budget = ShareOfLane(board_->stages, next, deadline_ - Now());
        double need = s.group == Group::kStressAsan || s.group == Group::kStressTsan ? kMinStressBudget
                                                                                     : kMinFuzzBudget;
        if (stop_->load() || budget < need) {
          s.state = State::kSkipped;
          s.note = stop_->load() ? "interrupted" : Printf("no time left (%.1f s)", budget);
          continue;
        }
        s.state = State::kRunning;
        s.start = Now() - board_->t0;
        s.budget = budget;
      }
      current_ = next;
      std::string error;
      if (Begin(next, budget, &error)) break;
      BoardLock lock(&board_->mu);
      board_->stages[next].state = State::kError;
      board_->stages[next].note = error;
      board_->stages[next].end = Now() - board_->t0;
      current_ = -1;
    }
  }
  for (const std::string& line : child_->Poll(ms)) {
    if (fuzz_) {
      fuzz_out_.Line(line);
    } else if (sim_) {
      sim_out_.Line(line);
    } else {
      stress_out_.Line(line);
    }
  }
  Publish();
  if ((Now() >= kill_at_ || stop_->load()) && child_->running() && !terminated_) {
    child_->Terminate(kTermGrace);
    terminated_ = true;
  }
  int exit_code = 0;
  if (child_->Finished(&exit_code)) Finish(exit_code);
  return true;
}

}  // namespace

void RunLanes(const Options& opt, Mutant mutant, Board* board, double deadline, const std::string& work_dir,
              const std::atomic<bool>* stop, LiveView* live) {
  std::string tape_dir = JoinPath(work_dir, "tapes");
  std::error_code ec;
  fs::create_directories(tape_dir, ec);
  SelectMutant(mutant);  // before the simulation thread starts: read unsynchronised on hot paths
  std::atomic<bool> sim_done{false};
  std::thread sim([&] {
    RunSimLane(opt, mutant, board, deadline, tape_dir, stop);
    sim_done.store(true);
  });
  ChildLane children(opt, mutant, board, deadline, work_dir, stop);
  bool children_busy = true;
  while (children_busy || !sim_done.load()) {
    children_busy = children_busy && children.Step(100);
    if (!children_busy) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    live->Update(board, Now(), false);
  }
  sim.join();
}

}  // namespace wsaf::campaign
