// `wsafault campaign`: the main job. One command spends a time budget on every bug-finding
// stage the tree has — the deterministic simulation (random and PCT strategies), the libFuzzer
// targets, the stress driver under ASan and TSan — shows their progress live, and ends with a
// summary table, a self-contained HTML report and a JSON file for dashboards.
//
// Overview
//   Stages run on two lanes, one per core. Lane 0 is this process: the simulation runs on a
//   thread of its own (the simulator binds process-wide seams, so only one simulated run may
//   exist per process at a time). Lane 1 runs child processes one after another: the fuzz
//   targets, then the stress binaries; each is killed at its budget. A lane's remaining time is
//   shared among its remaining stages by weight, so a stage that finishes early (a bug found,
//   a binary absent) leaves its time to the next one.
//   `--zoo` repeats this for each planted bug (table/mutants.h) with `--time` per bug, every
//   stage stopping at its own first detection, and tabulates which stage found the bug first.
//
// Thread safety
//   Board is the only shared state: the simulation thread and the main thread (children, live
//   view) update it under Board::mu. Everything else belongs to the main thread.
//
// Exit statuses: 0 clean, 1 a violation found (in --zoo: a planted bug escaped every stage),
// 2 the campaign could not run (bad arguments, an unwritable report directory, a stage that
// could not start, an interrupt).
#ifndef WSAFAULT_CLI_CAMPAIGN_H_
#define WSAFAULT_CLI_CAMPAIGN_H_

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "check/coverage.h"
#include "common/thread_annotations.h"
#include "table/mutants.h"

namespace wsaf::sim {
struct RunSettings;
}

namespace wsaf::campaign {

constexpr int kExitClean = 0;
constexpr int kExitViolation = 1;
constexpr int kExitCannotRun = 2;

// What the command line asked for, with every default path resolved.
struct Options {
  double time_sec = 180;          // the whole campaign; per bug with --zoo
  bool time_given = false;
  bool zoo = false;
  std::vector<Mutant> mutants;    // --mutant: one bug; with --zoo, a subset of the zoo
  std::string report_html = "out/campaign/report.html";
  std::string report_dir;         // dirname(report_html)
  std::string junit;              // --junit FILE (empty: none)
  std::string markdown;           // --markdown FILE, appended to (e.g. $GITHUB_STEP_SUMMARY)
  std::string fuzz_dir;           // empty: the fuzzing stage is skipped
  std::string fuzz_dir_note;      // why it is empty
  std::string stress_asan;        // the sanitizer builds of wsafault-stress (empty: skipped)
  std::string stress_tsan;
  std::string stress_note;
  std::string sim_tsan;           // the tsan build of wsafault: the simulation under TSan, a child
  std::string source_dir;         // the repository: corpus/ and the default build dirs
  std::string self;               // how to name this binary in replay commands
  uint64_t seed = 0;
  // --runs-per-stage: every stage stops after this many runs (execs, ops) instead of at its
  // time share, so the same seed repeats the whole campaign; 0: time shares as usual.
  uint64_t runs_per_stage = 0;
  std::string repeat;             // the command that repeats this campaign (seed and all)
  int stress_threads = 4;
  int pct_depth = 3;
  bool run_sim = true, run_fuzz = true, run_stress = true;
  bool plain = false;             // plain progress lines even on a terminal
  double plain_every = 5;         // seconds between plain progress lines
};

// Returns kExitClean to go on, -1 after --help, or kExitCannotRun with a message on stderr.
int ParseOptions(int argc, char** argv, Options* opt);
// A stage's seed: a mix of the campaign seed and the stage's id, so every stage (and every
// scenario slot inside one) draws from its own stream and the campaign seed fixes them all.
uint64_t StageSeed(uint64_t campaign_seed, const std::string& stage_id, uint64_t slot);

// Which kind of bug hunter a stage is (the zoo's "found first by" column).
enum class Group { kSimRandom, kSimPct, kFuzzing, kStressAsan, kStressTsan, kSimTsan, kSimPos };
const char* GroupName(Group g);  // "sim random", "sim PCT", "fuzzing", "stress+ASan", ...
const char* GroupId(Group g);    // "sim-random", ...
bool IsSimGroup(Group g);        // a stage of `wsafault sim` runs (in process or a child)
// The --strategy of a simulation stage: "pos", "pct:<depth>", else "random" (the TSan lane).
std::string SimStrategy(Group g, int pct_depth);

enum class State { kWaiting, kRunning, kDone, kFound, kSkipped, kError };
const char* StateName(State s);

struct Stage {
  // Fixed by the plan.
  std::string id;      // "sim-random", "fuzz-ops_fuzzer", "stress-asan"
  std::string title;   // "sim random", "fuzz ops", "stress+ASan"
  Group group = Group::kSimRandom;
  int lane = 0;
  double weight = 1;
  std::string unit = "runs";  // runs, execs or ops
  std::string program;        // child stages: the binary
  std::string target;         // fuzz stages: the target's name
  // Filled as it runs.
  State state = State::kWaiting;
  std::string note;           // why skipped, what failed, what it is doing
  std::string command;        // the child's command line
  double start = -1;          // seconds on the campaign clock
  double end = -1;
  double budget = 0;
  uint64_t runs = 0;
  double rate = 0;            // runs (execs, ops) per second
  int failures = 0;
  double found_after = -1;    // stage-local seconds to its first failure
  uint64_t runs_to_find = 0;
  int exit_code = -1;
  uint64_t fuzz_cov = 0, fuzz_features = 0, fuzz_corpus = 0;
  check::Coverage coverage;   // simulation stages only
  // Simulation stages: (stage-local seconds, allowed cells of SPEC.md hit so far), one point
  // per progress update: when the curve goes flat the stage stopped finding anything new.
  std::vector<std::pair<double, int>> coverage_series;
  double Elapsed(double now) const { return start < 0 ? 0 : (end >= 0 ? end : now) - start; }
};

struct Failure {
  std::string stage_id;
  Group group = Group::kSimRandom;
  std::string invariant;      // the checker's name, or the sanitizer's verdict
  std::string detail;
  std::string scenario;       // simulation and ops_fuzzer failures
  std::string mutant;
  double after = 0;           // stage-local seconds to detection
  double wall = 0;            // seconds since the campaign (or the zoo bug) began
  uint64_t runs = 0;          // the stage's runs / execs / ops until then
  std::vector<uint8_t> tape;  // the shrunk tape (empty for stress failures)
  std::size_t original_tape_bytes = 0;
  std::string tape_path;      // its replay file
  std::string replay;         // one command that replays it
  std::string timeline_text;
  std::string timeline_svg;   // inline picture (may be a window of a long run)
  std::string timeline_note;  // e.g. "events 697,300..697,356 of 697,356"
  std::string log_excerpt;    // the stress driver's history or the sanitizer's report
};

// std::mutex with clang's capability annotations, so -Wthread-safety checks Board's fields.
class CAPABILITY("mutex") BoardMutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY BoardLock {
 public:
  explicit BoardLock(BoardMutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~BoardLock() RELEASE() { mu_->Unlock(); }
  BoardLock(const BoardLock&) = delete;
  BoardLock& operator=(const BoardLock&) = delete;

 private:
  BoardMutex* mu_;
};

// The state both lanes and the live view share.
struct Board {
  BoardMutex mu;
  std::vector<Stage> stages GUARDED_BY(mu);
  std::vector<Failure> failures GUARDED_BY(mu);
  std::vector<std::string> notices GUARDED_BY(mu);  // lines the live view has not printed
  // Set before the lanes start, read-only while they run.
  double t0 = 0;                  // campaign (or zoo bug) start, Now() seconds
  double budget = 0;              // seconds
  std::string heading;            // what the live view prints first
};

// One planted bug's result in the zoo.
struct ZooRow {
  Mutant mutant = Mutant::kNone;
  std::vector<Stage> stages;      // with found_after / runs_to_find per stage
  std::vector<Failure> failures;
  int first = -1;                 // index into failures of the earliest detection, -1: escaped
  double seconds = 0;             // wall time the bug took
};

// Everything a report needs.
struct Outcome {
  std::string mode;               // "campaign", "mutant", "zoo"
  std::string mutant = "none";
  std::vector<Stage> stages;      // the campaign's, or per-stage totals over the zoo
  std::vector<Failure> failures;
  check::Coverage coverage;       // merged over every simulation stage
  std::vector<ZooRow> zoo;
  double elapsed = 0;
  int exit_status = kExitClean;
  std::string verdict;            // one sentence
  std::string started_at;         // local time, for the report's header
};

// --- The run ------------------------------------------------------------------------------
// The stages of one campaign (or one zoo bug) against `mutant`.
std::vector<Stage> PlanStages(const Options& opt, Mutant mutant);
class LiveView;
// Runs both lanes until every stage ended or `deadline` (Now() seconds); `stop` ends early.
// `work_dir` holds corpora copies, children's logs and tapes. Updates `live` as it goes.
void RunLanes(const Options& opt, Mutant mutant, Board* board, double deadline,
              const std::string& work_dir, const std::atomic<bool>* stop, LiveView* live);
// The simulation lane (lane 0); run on its own thread by RunLanes.
void RunSimLane(const Options& opt, Mutant mutant, Board* board, double deadline,
                const std::string& tape_dir, const std::atomic<bool>* stop);
// The share of `remaining` seconds stage `index` gets: its weight over the weights of the
// stages of its lane not yet run or skipped. Pass Board::stages with Board::mu held.
double ShareOfLane(const std::vector<Stage>& stages, int index, double remaining);
// Fills a failure's timelines (text and picture) from a replay of `tape`; simulator thread only.
void DrawFailure(const sim::RunSettings& settings, const std::vector<uint8_t>& tape, Failure* f);
// After the lanes: replays the fuzzers' tapes for their timelines (needs the simulator, so only
// when no simulation thread runs).
void CompleteFailures(const Options& opt, std::vector<Failure>* failures);
// True once a simulated run crashed in this process (campaign_crash.h): the simulator is not
// used again (no more sim stages, no replays for timelines).
bool SimulationCrashed();
int RunZoo(const Options& opt, const std::atomic<bool>* stop, Outcome* out);

// --- Reporting ----------------------------------------------------------------------------
// The live view: on a terminal, a block of lines (one per stage) redrawn in place four times a
// second with events scrolling above it; otherwise (CI logs) plain lines: events as they happen
// and one line per running stage every few seconds.
class LiveView {
 public:
  explicit LiveView(const Options& opt);
  // Redraws when due (or `force`), after printing new events.
  void Update(Board* board, double now, bool force);
  // Prints what is pending; on a terminal leaves the last block on screen when `keep`, else
  // erases it (the zoo keeps one line per bug instead).
  void Finish(Board* board, double now, bool keep);
  // A line above the block (or a plain line).
  void Print(const std::string& line);

 private:
  std::vector<std::string> Block(Board* board, double now);
  std::vector<std::string> Events(Board* board, double now);
  void Erase();
  bool tty_;
  double plain_every_;
  double last_draw_ = -1;
  double last_plain_ = -1;
  int drawn_ = 0;
  int width_ = 120;
  const Board* board_ = nullptr;
  std::vector<State> seen_;  // each stage's state when last looked at
};

void PrintSummary(const Outcome& out, const Options& opt);
void PrintZooTable(const Outcome& out);
std::string RenderHtmlReport(const Outcome& out, const Options& opt);
std::string RenderCoverageHtml(const check::Coverage& c);
std::string RenderJsonReport(const Outcome& out, const Options& opt);
// JUnit XML (tests/campaign/junit.xsd) and a Markdown summary for a CI job's page.
std::string RenderJunitReport(const Outcome& out, const Options& opt);
std::string RenderMarkdownSummary(const Outcome& out, const Options& opt);

}  // namespace wsaf::campaign

#endif  // WSAFAULT_CLI_CAMPAIGN_H_
