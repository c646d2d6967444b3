// The tables printed at the end: one row per stage, the failures with their replay commands,
// and with --zoo one row per planted bug.
#include <cstdio>
#include <string>

#include "campaign.h"
#include "campaign_util.h"

namespace wsaf::campaign {

namespace {

// Stage-local seconds and runs to detection for `group` in `row`, or "-".
std::string FoundBy(const ZooRow& row, Group group) {
  bool ran = false;
  for (const Stage& s : row.stages) {
    if (s.group != group) continue;
    if (s.found_after >= 0) return Seconds(s.found_after);
    ran |= s.state == State::kDone || s.state == State::kRunning;
  }
  return ran ? "missed" : "-";
}

}  // namespace

void PrintSummary(const Outcome& out, const Options& opt) {
  std::printf("\n== wsafault %s: %s ==\n", out.mode == "zoo" ? "bug zoo" : "campaign", out.verdict.c_str());
  std::printf("seed %llu; repeat: %s\n", static_cast<unsigned long long>(opt.seed), opt.repeat.c_str());
  std::printf("%-16s %-8s %10s %10s %16s %10s %9s  %s\n", "stage", "result", "time", "budget",
              "runs/execs/ops", "rate", "failures", "note");
  for (const Stage& s : out.stages) {
    bool ran = s.state != State::kSkipped && s.state != State::kWaiting;
    std::printf("%-16s %-8s %10s %10s %16s %10s %9d  %s\n", s.title.c_str(), StateName(s.state),
                ran ? Seconds(s.Elapsed(0)).c_str() : "-", ran ? Seconds(s.budget).c_str() : "-",
                ran ? (Count(s.runs) + " " + s.unit).c_str() : "-", ran ? Rate(s.rate).c_str() : "-", s.failures,
                s.note.c_str());
  }
  const check::Coverage& c = out.coverage;
  check::CoverageReport report = check::Summarize(c);
  std::printf("%s (simulation); %s calls judged, %s messages checked\n%s",
              check::CoverageSummaryLine(report).c_str(), Count(c.calls_checked).c_str(),
              Count(c.messages).c_str(), check::UntestedRulesText(report, 20).c_str());
  if (out.mode == "zoo") {
    PrintZooTable(out);
    return;
  }
  int n = 0;
  for (const Failure& f : out.failures) {
    std::printf("failure %d: %s found %s after %s (%s runs)%s\n", ++n, GroupName(f.group), f.invariant.c_str(),
                Seconds(f.after).c_str(), Count(f.runs).c_str(),
                f.tape.empty() ? "" : Printf(", shrunk tape %zu bytes", f.tape.size()).c_str());
    if (!f.detail.empty() && f.detail != f.invariant) std::printf("  %s\n", f.detail.c_str());
    std::printf("  replay: %s\n", f.replay.c_str());
  }
}

void PrintZooTable(const Outcome& out) {
  std::printf("\n%-24s %-12s %9s %10s %9s | %9s %9s %9s %9s %9s %9s %9s | %s\n", "bug", "found first", "after",
              "runs", "tape", "POS", "random", "PCT", "fuzzing", "ASan", "TSan", "simTSan", "description");
  for (const ZooRow& row : out.zoo) {
    std::string first = "NOT FOUND", after = "-", runs = "-", tape = "-";
    if (row.first >= 0) {
      const Failure& f = row.failures[row.first];
      first = GroupName(f.group);
      after = Seconds(f.wall);
      runs = Count(f.runs);
      // The shortest tape any stage shrank: stress failures have none.
      std::size_t best = 0;
      for (const Failure& g : row.failures) {
        if (!g.tape.empty() && (best == 0 || g.tape.size() < best)) best = g.tape.size();
      }
      if (best > 0) tape = Printf("%zu B", best);
    }
    std::printf("%-24s %-12s %9s %10s %9s | %9s %9s %9s %9s %9s %9s %9s | %s\n", MutantName(row.mutant), first.c_str(),
                after.c_str(), runs.c_str(), tape.c_str(), FoundBy(row, Group::kSimPos).c_str(),
                FoundBy(row, Group::kSimRandom).c_str(),
                FoundBy(row, Group::kSimPct).c_str(), FoundBy(row, Group::kFuzzing).c_str(),
                FoundBy(row, Group::kStressAsan).c_str(), FoundBy(row, Group::kStressTsan).c_str(),
                FoundBy(row, Group::kSimTsan).c_str(),
                MutantDescription(row.mutant));
  }
  std::printf("(after: wall time from the bug's start; per-stage columns: seconds of that stage's own run to "
              "its first detection, \"missed\" when it ran its budget without one, \"-\" not run)\n");
}

}  // namespace wsaf::campaign
