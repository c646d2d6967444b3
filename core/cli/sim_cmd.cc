// `wsafault sim` and `wsafault replay`: explore the real table under the deterministic
// scheduler; on a violation shrink the tape, write it, draw the timeline, print the replay
// command.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "campaign_crash.h"
#include "check/timeline.h"
#include "commands.h"
#include "sim/runner.h"

namespace {

using wsaf::sim::RunResult;
using wsaf::sim::RunSettings;

struct SimArgs {
  std::string scenario = "standard";
  std::string strategy = "random";
  uint64_t seed = 1;
  uint64_t runs = 0;
  double time_sec = 0;
  std::string faults = "all";
  std::string mutant = "none";
  std::string out_dir = "out/sim";
  std::string memory = "sc";
  std::string points = "atomics";
  bool audit = false;
  bool shrink = true;
  bool quiet = false;
  int shrink_attempts = 3000;
  double shrink_seconds = 30;
};

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void SimUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: wsafault sim [--scenario NAME] [--strategy random|pos|pct:D|dfs:B] [--seed S]\n"
               "                    [--runs N | --time SEC] [--faults all|none|LIST] [--mutant NAME]\n"
               "                    [--audit] [--no-shrink] [--out DIR] [--quiet] [--list-mutants]\n"
               "                    [--list-scenarios] [--memory sc|tso] [--points atomics|sites]\n"
               "  --memory tso   each simulated thread has an x86-TSO store buffer (drains are tape decisions)\n"
               "  --points sites only the named sites are scheduling points (tapes recorded before\n"
               "                 every atomic became one); default: every seam::Atomic operation\n");
}

bool ParseU64(const char* s, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (*s == '\0' || *end != '\0' || errno != 0 || *s == '-') return false;
  *out = v;
  return true;
}

// Returns 0 to go on, or an exit status.
int ParseSimArgs(int argc, char** argv, SimArgs* a) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&](const char** v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    const char* v = nullptr;
    bool ok = true;
    if (k == "--help" || k == "-h") {
      SimUsage(stdout);
      return -1;
    } else if (k == "--list-mutants") {
      for (int m = 1; m < static_cast<int>(wsaf::Mutant::kCount); ++m) {
        std::printf("%s\n", wsaf::MutantName(static_cast<wsaf::Mutant>(m)));
      }
      return -1;
    } else if (k == "--list-scenarios") {
      for (auto& n : wsaf::sim::ScenarioNames(/*include_long=*/true)) std::printf("%s\n", n.c_str());
      return -1;
    } else if (k == "--scenario") ok = value(&v) && (a->scenario = v, true);
    else if (k == "--strategy") ok = value(&v) && (a->strategy = v, true);
    else if (k == "--seed") ok = value(&v) && ParseU64(v, &a->seed);
    else if (k == "--runs") ok = value(&v) && ParseU64(v, &a->runs) && a->runs > 0;
    else if (k == "--time") ok = value(&v) && (a->time_sec = std::atof(v)) > 0;
    else if (k == "--faults") ok = value(&v) && (a->faults = v, true);
    else if (k == "--mutant") ok = value(&v) && (a->mutant = v, true);
    else if (k == "--out") ok = value(&v) && (a->out_dir = v, true);
    else if (k == "--memory") ok = value(&v) && (a->memory = v, true);
    else if (k == "--points") ok = value(&v) && (a->points = v, true);
    else if (k == "--audit") a->audit = true;
    else if (k == "--no-shrink") a->shrink = false;
    else if (k == "--quiet") a->quiet = true;
    else ok = false;
    if (!ok) {
      std::fprintf(stderr, "sim: bad or incomplete option '%s'\n", k.c_str());
      SimUsage(stderr);
      return 2;
    }
  }
  if (a->runs == 0 && a->time_sec == 0) a->time_sec = 10;
  return 0;
}

void MakeDirs(const std::string& path) {
  std::string p;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!p.empty()) mkdir(p.c_str(), 0755);
    }
    if (i < path.size()) p += path[i];
  }
}

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

// --memory and --points. False with the reason on stderr.
bool ApplyMemoryOptions(const std::string& memory, const std::string& points, RunSettings* settings) {
  if (!wsaf::sim::ParseMemoryModel(memory, &settings->memory)) {
    std::fprintf(stderr, "sim: unknown memory model '%s' (sc or tso)\n", memory.c_str());
    return false;
  }
#if defined(WSAF_SIM_TSAN)
  if (settings->memory == wsaf::sim::MemoryModel::kTso) {
    std::fprintf(stderr, "sim: --memory tso is not available in a TSan build (TSan would attribute a "
                         "drained store to whichever thread runs then); use --memory sc here\n");
    return false;
  }
#endif
  if (points != "atomics" && points != "sites") {
    std::fprintf(stderr, "sim: unknown --points '%s' (atomics or sites)\n", points.c_str());
    return false;
  }
  settings->atomic_points = points == "atomics";
  return true;
}

// The last `n` switches of the run, each with the operation the thread was about to run.
void PrintPreemptions(const RunResult& r, std::size_t n) {
  if (r.preemptions.empty()) return;
  std::size_t first = r.preemptions.size() > n ? r.preemptions.size() - n : 0;
  std::printf("preemptions (%zu in all%s):\n", r.preemptions.size(), first > 0 ? ", the last shown" : "");
  for (std::size_t i = first; i < r.preemptions.size(); ++i) {
    const wsaf::sim::Preemption& p = r.preemptions[i];
    std::printf("  step %-6llu T%d -> T%d   T%d stopped before %s\n", static_cast<unsigned long long>(p.step),
                p.from, p.to, p.from, wsaf::sim::DescribePoint(p).c_str());
  }
  if (r.buffered_stores > 0) {
    std::printf("  (%llu stores went through a TSO store buffer)\n",
                static_cast<unsigned long long>(r.buffered_stores));
  }
}

// The header of this command's tape files (the tape itself is the caller's).
wsaf::sim::TapeFile TapeFileFor(const SimArgs& a, const RunSettings& settings) {
  wsaf::sim::TapeFile file;
  file.scenario = a.scenario;
  wsaf::ParseMutant(a.mutant.c_str(), &file.mutant);
  file.allowed_faults = settings.scenario.allowed_faults;
  file.memory = settings.memory;
  file.atomic_points = settings.atomic_points;
  return file;
}

// Prints the failure, writes the tape, the timeline pictures, and the replay command.
void ReportFailure(const SimArgs& a, const RunSettings& settings, const RunResult& failing,
                   uint64_t run_index, const std::vector<uint8_t>& tape, const std::string& stem) {
  const wsaf::sim::Violation& v = *failing.violation;
  std::printf("\nVIOLATION %s (run %llu, step %llu): %s\n", v.invariant.c_str(),
              static_cast<unsigned long long>(run_index),
              static_cast<unsigned long long>(failing.run.events.empty() ? 0 : failing.run.events[v.event_index].step),
              v.detail.c_str());
  RunResult shown = wsaf::sim::ReplayTape(settings, tape);
  const wsaf::sim::Violation* sv = shown.violation ? &*shown.violation : &v;
  std::printf("\n%s\n", wsaf::check::RenderTimelineText(shown.run, sv, 12).c_str());
  PrintPreemptions(shown, 16);
  wsaf::sim::TapeFile file = TapeFileFor(a, settings);
  file.tape = tape;
  std::string error;
  MakeDirs(a.out_dir);
  std::string tape_path = a.out_dir + "/" + stem + ".tape";
  if (!wsaf::sim::WriteTapeFile(tape_path, file, &error)) {
    std::fprintf(stderr, "sim: %s\n", error.c_str());
  }
  WriteText(a.out_dir + "/" + stem + ".svg", wsaf::check::RenderTimelineSvg(shown.run, sv));
  WriteText(a.out_dir + "/" + stem + ".html", wsaf::check::RenderTimelineHtml(shown.run, sv));
  std::printf("tape: %s (%zu bytes)   timeline: %s/%s.html\n", tape_path.c_str(), tape.size(),
              a.out_dir.c_str(), stem.c_str());
  std::printf("replay: wsafault replay %s\n", tape_path.c_str());
}

struct Totals {
  uint64_t runs = 0, steps = 0, decisions = 0, events = 0;
  wsaf::check::Coverage coverage;
};

void PrintSummary(const SimArgs& a, const Totals& t, double elapsed) {
  std::printf("\nsim %s, strategy %s, seed %llu: %llu runs in %.1f s (%.0f runs/s), %llu steps, "
              "%.2f M decisions/s, %llu events\n",
              a.scenario.c_str(), a.strategy.c_str(), static_cast<unsigned long long>(a.seed),
              static_cast<unsigned long long>(t.runs), elapsed, t.runs / std::max(elapsed, 1e-9),
              static_cast<unsigned long long>(t.steps), t.decisions / std::max(elapsed, 1e-9) / 1e6,
              static_cast<unsigned long long>(t.events));
  wsaf::check::CoverageReport report = wsaf::check::Summarize(t.coverage);
  std::printf("%s; %llu calls judged, %llu messages checked\n", wsaf::check::CoverageSummaryLine(report).c_str(),
              static_cast<unsigned long long>(t.coverage.calls_checked),
              static_cast<unsigned long long>(t.coverage.messages));
  // One scenario rarely reaches everything (sim_coverage_sweep checks the set): a short list.
  if (!a.quiet) std::printf("%s", wsaf::check::TableFiguresText(report, 96).c_str());
  std::printf("%s", wsaf::check::UntestedRulesText(report, a.quiet ? 0 : 12).c_str());
}

// A crash inside run `run` leaves that run's tape in the output directory (campaign_crash.h);
// re-armed before every run so the file and the message name it.
void ArmCrashTape(const SimArgs& a, const RunSettings& settings, uint64_t run, wsaf::sim::Strategy* inner,
                  wsaf::campaign::CrashRecorder* recorder) {
  static std::string header;
  if (header.empty()) {
    header = wsaf::campaign::CrashRecorder::HeaderFor(TapeFileFor(a, settings));
    MakeDirs(a.out_dir);
    wsaf::campaign::CrashRecorder::Install();
  }
  char stem[160];
  std::snprintf(stem, sizeof(stem), "/crash-%s-%s-seed%llu-run%llu.tape", a.scenario.c_str(), a.mutant.c_str(),
                static_cast<unsigned long long>(a.seed), static_cast<unsigned long long>(run));
  std::string path = a.out_dir + stem;
  recorder->Arm(inner, path, header, "wsafault replay " + path);
}

}  // namespace

int RunSimCommand(int argc, char** argv) {
  SimArgs a;
  if (int rc = ParseSimArgs(argc, argv, &a)) return rc < 0 ? 0 : rc;
  RunSettings settings;
  std::string error;
  if (!wsaf::sim::LookupScenario(a.scenario, &settings.scenario)) {
    std::fprintf(stderr, "sim: unknown scenario '%s' (--list-scenarios)\n", a.scenario.c_str());
    return 2;
  }
  uint32_t faults = 0;
  if (!wsaf::sim::ParseSimFaults(a.faults, &faults, &error)) {
    std::fprintf(stderr, "sim: %s\n", error.c_str());
    return 2;
  }
  settings.scenario.allowed_faults &= faults;
  if (!ApplyMemoryOptions(a.memory, a.points, &settings)) return 2;
  wsaf::Mutant mutant;
  if (!wsaf::ParseMutant(a.mutant.c_str(), &mutant) || !wsaf::SelectMutant(mutant)) {
    std::fprintf(stderr, "sim: unknown mutant '%s' (--list-mutants)\n", a.mutant.c_str());
    return 2;
  }
  auto strategy = wsaf::sim::MakeStrategy(a.strategy, a.seed, &error);
  if (!strategy) {
    std::fprintf(stderr, "sim: %s\n", error.c_str());
    return 2;
  }
  bool tty = isatty(STDOUT_FILENO);
  double start = Now(), last_progress = start;
  Totals t;
  wsaf::campaign::CrashRecorder crash_recorder;
  for (uint64_t run = 0;; ++run) {
    if (a.runs > 0 && run >= a.runs) break;
    if (a.time_sec > 0 && Now() - start >= a.time_sec) break;
    if (strategy->Exhausted()) {
      std::printf("strategy %s explored every schedule within its bound\n", a.strategy.c_str());
      break;
    }
    ArmCrashTape(a, settings, run, strategy.get(), &crash_recorder);
    RunResult r = wsaf::sim::RunOnce(settings, &crash_recorder, run);
    crash_recorder.Disarm();
    ++t.runs;
    t.steps += r.steps;
    t.decisions += r.decisions;
    t.events += r.run.events.size();
    t.coverage.Merge(r.coverage);
    if (a.audit && run % 64 == 0 && !r.violation) {
      long long d = wsaf::sim::AuditDeterminism(settings, r.tape, nullptr);
      if (d >= 0) {
        std::printf("\nDETERMINISM: run %llu diverges at decision %lld on replay\n",
                    static_cast<unsigned long long>(run), d);
        return 1;
      }
    }
    if (r.violation) {
      std::vector<uint8_t> tape = r.tape;
      if (a.shrink) {
        wsaf::sim::ShrinkStats st;
        tape = wsaf::sim::ShrinkTape(settings, r.tape, r.violation->invariant, a.shrink_attempts,
                                     a.shrink_seconds, &st);
        std::printf("\nshrunk the tape from %zu to %zu bytes (%zu to %zu events) in %d replays\n",
                    st.original_bytes, st.shrunk_bytes, st.original_events, st.shrunk_events, st.attempts);
      }
      long long d = wsaf::sim::AuditDeterminism(settings, tape, nullptr);
      std::printf("determinism audit: %s\n", d < 0 ? "two replays agree step for step"
                                                  : ("DIVERGES at decision " + std::to_string(d)).c_str());
      char stem[128];
      std::snprintf(stem, sizeof(stem), "%s-%s-%s-seed%llu-run%llu", a.scenario.c_str(), a.mutant.c_str(),
                    r.violation->invariant.c_str(), static_cast<unsigned long long>(a.seed),
                    static_cast<unsigned long long>(run));
      ReportFailure(a, settings, r, run, tape, stem);
      PrintSummary(a, t, Now() - start);
      return 1;
    }
    wsaf::sim::RecycleRun(std::move(r));
    double now = Now();
    if (!a.quiet && now - last_progress >= 1.0) {
      last_progress = now;
      std::printf("%s%llu runs, %.0f runs/s, %.2f M decisions/s, %.0f s left%s", tty ? "\r" : "",
                  static_cast<unsigned long long>(t.runs), t.runs / (now - start),
                  t.decisions / (now - start) / 1e6, a.time_sec > 0 ? a.time_sec - (now - start) : 0.0,
                  tty ? "" : "\n");
      std::fflush(stdout);
    }
  }
  PrintSummary(a, t, Now() - start);
  std::printf("no violation\n");
  return 0;
}

int RunReplayCommand(int argc, char** argv) {
  std::string path, timeline, scenario;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--timeline" && i + 1 < argc) timeline = argv[++i];
    else if (k == "--scenario" && i + 1 < argc) scenario = argv[++i];
    else if (k == "--verbose") verbose = true;
    else if (!k.empty() && k[0] != '-' && path.empty()) path = k;
    else {
      std::fprintf(stderr, "usage: wsafault replay FILE [--timeline out.svg|out.html] [--scenario NAME] [--verbose]\n");
      return k == "--help" ? 0 : 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "replay: no tape file given\n");
    return 2;
  }
  wsaf::sim::TapeFile file;
  std::string error;
  if (!wsaf::sim::ReadTapeFile(path, &file, &error)) {
    std::fprintf(stderr, "replay: %s\n", error.c_str());
    return 2;
  }
  if (!scenario.empty()) file.scenario = scenario;
  RunSettings settings;
  if (!wsaf::sim::LookupScenario(file.scenario, &settings.scenario)) {
    std::fprintf(stderr, "replay: unknown scenario '%s'\n", file.scenario.c_str());
    return 2;
  }
  settings.scenario.allowed_faults &= file.allowed_faults;
  if (!ApplyMemoryOptions(wsaf::sim::MemoryModelName(file.memory), file.atomic_points ? "atomics" : "sites",
                          &settings)) {
    return 2;
  }
  if (!wsaf::SelectMutant(file.mutant)) {
    std::fprintf(stderr, "replay: this build has no planted bugs (WSAFAULT_MUTANTS off)\n");
    return 2;
  }
  // A crash tape crashes again: say so before the process dies of it (stdout flushed first).
  std::printf("replay of %s: scenario %s, mutant %s, %zu tape bytes, ", path.c_str(), file.scenario.c_str(),
              wsaf::MutantName(file.mutant), file.tape.size());
  std::fflush(stdout);
  wsaf::campaign::CrashRecorder::InstallReplayReport(
      "during the replay of " + path + ": the code under test crashed in the recorded run again; "
      "under a debugger: gdb --args wsafault replay " + path + "\n");
  RunResult r = wsaf::sim::ReplayTape(settings, file.tape);
  const wsaf::sim::Violation* v = r.violation ? &*r.violation : nullptr;
  std::printf("%llu steps, %zu events\n", static_cast<unsigned long long>(r.steps), r.run.events.size());
  if (v != nullptr || verbose) {
    std::printf("\n%s\n", wsaf::check::RenderTimelineText(r.run, v, verbose ? 1u << 30 : 12).c_str());
    PrintPreemptions(r, verbose ? r.preemptions.size() : 16);
  }
  if (!timeline.empty()) {
    bool svg = timeline.size() > 4 && timeline.compare(timeline.size() - 4, 4, ".svg") == 0;
    WriteText(timeline, svg ? wsaf::check::RenderTimelineSvg(r.run, v) : wsaf::check::RenderTimelineHtml(r.run, v));
    std::printf("timeline written to %s\n", timeline.c_str());
  }
  if (v != nullptr) {
    std::printf("VIOLATION %s: %s\n", v->invariant.c_str(), v->detail.c_str());
    return 1;
  }
  std::printf("no violation\n");
  return 0;
}
