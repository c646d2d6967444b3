// The bug zoo: every planted bug in turn, each with the whole campaign for `--time` seconds.
// Every stage stops at its own first detection (so the table also says how fast each kind of
// hunter is), and a bug ends when all its stages have. The framework's measure of its power:
// a bug no stage finds makes the zoo fail (exit 1).
#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "campaign.h"
#include "campaign_util.h"

namespace wsaf::campaign {

namespace {

std::vector<Mutant> ZooMutants(const Options& opt) {
  if (!opt.mutants.empty()) return opt.mutants;
  std::vector<Mutant> all;
  for (int m = 1; m < static_cast<int>(Mutant::kCount); ++m) all.push_back(static_cast<Mutant>(m));
  return all;
}

ZooRow RunBug(const Options& opt, Mutant m, int number, int count, const std::atomic<bool>* stop, LiveView* live) {
  Board board;
  board.t0 = Now();
  board.budget = opt.time_sec;
  board.heading = Printf("zoo %d/%d: %s, seed %llu", number, count, MutantName(m),
                         static_cast<unsigned long long>(opt.seed));
  {
    BoardLock lock(&board.mu);
    board.stages = PlanStages(opt, m);
    // After a crash the in-process simulator cannot be trusted (its fibers and seams were
    // abandoned mid-run): this bug's simulation stages run as `wsafault sim` children on lane 1
    // instead of being skipped, so one crash does not cost every later bug its simulation.
    if (SimulationCrashed()) {
      for (Stage& s : board.stages) {
        if (s.lane != 0 || s.state != State::kWaiting) continue;
        s.lane = 1;
        std::error_code ec;  // the children run in their own directories: an absolute path
        s.program = std::filesystem::read_symlink("/proc/self/exe", ec).string();
        if (ec) s.program = opt.self;
        s.title += " (child)";
        s.note = "a child process: the in-process simulation crashed on an earlier bug";
      }
    }
  }
  live->Print(Printf("zoo %d/%d: %s — %s", number, count, MutantName(m), MutantDescription(m)));
  std::string work = JoinPath(opt.report_dir, std::string("zoo/") + MutantName(m));
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  RunLanes(opt, m, &board, board.t0 + opt.time_sec - 0.5, work, stop, live);
  live->Finish(&board, Now(), false);
  ZooRow row;
  row.mutant = m;
  {
    BoardLock lock(&board.mu);  // the lanes have ended: only for the analysis
    row.stages = board.stages;
    row.failures = board.failures;
  }
  CompleteFailures(opt, &row.failures);
  row.seconds = Now() - board.t0;
  for (std::size_t i = 0; i < row.failures.size(); ++i) {
    if (row.first < 0 || row.failures[i].wall < row.failures[row.first].wall) row.first = static_cast<int>(i);
  }
  if (row.first < 0) {
    live->Print(Printf("  %s: NOT FOUND by any stage in %s", MutantName(m), Seconds(row.seconds).c_str()));
  } else {
    const Failure& f = row.failures[row.first];
    live->Print(Printf("  %s: found first by %s after %s (%s runs): %s; %zu of %zu stages found it",
                       MutantName(m), GroupName(f.group), Seconds(f.wall).c_str(), Count(f.runs).c_str(),
                       f.invariant.c_str(), row.failures.size(), row.stages.size()));
  }
  return row;
}

// Per-stage totals over every bug: what the report's figures show for a zoo.
std::vector<Stage> Totals(const std::vector<ZooRow>& rows) {
  std::vector<Stage> totals;
  std::map<std::string, std::size_t> at;
  std::map<std::string, int> ran;
  for (const ZooRow& row : rows) {
    for (const Stage& s : row.stages) {
      if (!at.count(s.id)) {
        at[s.id] = totals.size();
        Stage t = s;
        t.runs = 0;
        t.failures = 0;
        t.start = 0;
        t.end = 0;
        t.budget = 0;
        t.coverage = check::Coverage();
        totals.push_back(t);
      }
      Stage& t = totals[at[s.id]];
      if (s.state == State::kSkipped || s.state == State::kWaiting) continue;
      ++ran[s.id];
      t.state = s.state == State::kError ? State::kError : (t.state == State::kError ? t.state : State::kDone);
      t.runs += s.runs;
      t.end += s.Elapsed(0);
      t.budget += s.budget;
      t.failures += s.failures > 0 ? 1 : 0;
      t.coverage.Merge(s.coverage);
    }
  }
  for (Stage& t : totals) {
    t.rate = t.end > 0 ? t.runs / t.end : 0;
    if (ran[t.id] > 0) {
      t.note = Printf("found %d of the %d bugs it ran against", t.failures, ran[t.id]);
      if (t.state == State::kSkipped || t.state == State::kWaiting) t.state = State::kDone;
    }
  }
  return totals;
}

}  // namespace

int RunZoo(const Options& opt, const std::atomic<bool>* stop, Outcome* out) {
  out->mode = "zoo";
  out->mutant = "zoo";
  std::vector<Mutant> bugs = ZooMutants(opt);
  LiveView live(opt);
  live.Print(Printf("zoo: %zu planted bugs, %.0f s each (at most %s), seed %llu, report %s", bugs.size(),
                    opt.time_sec, Seconds(opt.time_sec * bugs.size()).c_str(),
                    static_cast<unsigned long long>(opt.seed), opt.report_html.c_str()));
  double t0 = Now();
  for (std::size_t i = 0; i < bugs.size() && !stop->load(); ++i) {
    out->zoo.push_back(RunBug(opt, bugs[i], static_cast<int>(i + 1), static_cast<int>(bugs.size()), stop, &live));
  }
  SelectMutant(Mutant::kNone);
  out->elapsed = Now() - t0;
  out->stages = Totals(out->zoo);
  int escaped = 0;
  for (const ZooRow& row : out->zoo) {
    escaped += row.first < 0;
    out->failures.insert(out->failures.end(), row.failures.begin(), row.failures.end());
  }
  for (const Stage& s : out->stages) {
    if (s.lane == 0) out->coverage.Merge(s.coverage);
  }
  if (stop->load()) {
    out->exit_status = kExitCannotRun;
    out->verdict = Printf("interrupted after %zu of %zu bugs", out->zoo.size(), bugs.size());
  } else if (escaped > 0) {
    out->exit_status = kExitViolation;
    out->verdict = Printf("%d of %zu planted bugs escaped every stage", escaped, bugs.size());
  } else {
    out->exit_status = kExitClean;
    out->verdict = Printf("every one of the %zu planted bugs was found", bugs.size());
  }
  return out->exit_status;
}

}  // namespace wsaf::campaign
