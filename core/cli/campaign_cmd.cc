// `wsafault campaign`: checks it can write its report before spending any time, runs the
// campaign (or the zoo), then prints the summary and writes report.html and report.json.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "campaign.h"
#include "campaign_util.h"
#include "commands.h"

namespace wsaf::campaign {

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop.store(true); }

void InstallSignals() {
  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

// The report directory must take files before the campaign spends its budget.
bool PrepareReportDir(const Options& opt, std::string* error) {
  if (!MakeDirs(opt.report_dir, error)) return false;
  std::string probe = JoinPath(opt.report_dir, ".campaign-probe");
  if (!WriteText(probe, "", error)) return false;
  std::remove(probe.c_str());
  // --junit and --markdown must be writable too, before the budget is spent.
  for (const std::string& path : {opt.junit, opt.markdown}) {
    if (path.empty()) continue;
    std::FILE* f = std::fopen(path.c_str(), "a");
    if (f == nullptr) {
      *error = "cannot write " + path;
      return false;
    }
    std::fclose(f);
  }
  return true;
}

bool AppendText(const std::string& path, const std::string& text, std::string* error) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  bool ok = f != nullptr && std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (f != nullptr && std::fclose(f) != 0) ok = false;
  if (!ok) *error = "cannot append to " + path;
  return ok;
}

std::string Heading(const Options& opt, Mutant m) {
  return Printf("wsafault campaign%s%s, seed %llu", m == Mutant::kNone ? "" : " --mutant ",
                m == Mutant::kNone ? "" : MutantName(m), static_cast<unsigned long long>(opt.seed));
}

void RunOne(const Options& opt, Outcome* out) {
  Mutant m = opt.mutants.empty() ? Mutant::kNone : opt.mutants[0];
  out->mode = m == Mutant::kNone ? "campaign" : "mutant";
  out->mutant = MutantName(m);
  Board board;
  board.t0 = Now();
  board.budget = opt.time_sec;
  board.heading = Heading(opt, m);
  {
    BoardLock lock(&board.mu);
    board.stages = PlanStages(opt, m);
  }
  LiveView live(opt);
  live.Print(Printf("campaign: %.0f s on 2 lanes, seed %llu, report %s%s%s", opt.time_sec,
                    static_cast<unsigned long long>(opt.seed), opt.report_html.c_str(),
                    m == Mutant::kNone ? "" : ", planted bug: ",
                    m == Mutant::kNone ? "" : (std::string(MutantName(m)) + " (" + MutantDescription(m) + ")").c_str()));
  std::string work = JoinPath(opt.report_dir, "work");
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
  double reserve = std::min(3.0, opt.time_sec * 0.05);
  RunLanes(opt, m, &board, board.t0 + opt.time_sec - reserve, work, &g_stop, &live);
  live.Finish(&board, Now(), true);
  {
    BoardLock lock(&board.mu);  // the lanes have ended: only for the analysis
    out->stages = board.stages;
    out->failures = board.failures;
  }
  CompleteFailures(opt, &out->failures);
  for (const Stage& s : out->stages) {
    if (s.lane == 0) out->coverage.Merge(s.coverage);
  }
  out->elapsed = Now() - board.t0;
  std::string error_stage;
  for (const Stage& s : out->stages) {
    if (s.state == State::kError && error_stage.empty()) error_stage = s.title + ": " + s.note;
  }
  if (!out->failures.empty()) {
    out->exit_status = kExitViolation;
    out->verdict = Printf("%zu violation(s) found", out->failures.size());
  } else if (g_stop.load()) {
    out->exit_status = kExitCannotRun;
    out->verdict = "interrupted before the budget was spent; no violation so far";
  } else if (!error_stage.empty()) {
    out->exit_status = kExitCannotRun;
    out->verdict = "a stage could not run (" + error_stage + ")";
  } else {
    out->exit_status = kExitClean;
    out->verdict = "clean: no violation in " + Seconds(out->elapsed);
  }
}

}  // namespace

}  // namespace wsaf::campaign

int RunCampaignCommand(int argc, char** argv) {
  using namespace wsaf::campaign;
  Options opt;
  if (int rc = ParseOptions(argc, argv, &opt)) return rc < 0 ? kExitClean : rc;
  std::string error;
  if (!PrepareReportDir(opt, &error)) {
    std::fprintf(stderr, "campaign: cannot write the report: %s\n", error.c_str());
    return kExitCannotRun;
  }
  InstallSignals();
  Outcome out;
  out.started_at = LocalTime();
  if (opt.zoo) {
    RunZoo(opt, &g_stop, &out);
  } else {
    RunOne(opt, &out);
  }
  PrintSummary(out, opt);
  std::string json_path = JoinPath(opt.report_dir, "report.json");
  if (!WriteText(opt.report_html, RenderHtmlReport(out, opt), &error) ||
      !WriteText(json_path, RenderJsonReport(out, opt), &error)) {
    std::fprintf(stderr, "campaign: %s\n", error.c_str());
    return kExitCannotRun;
  }
  if (!opt.junit.empty() && !WriteText(opt.junit, RenderJunitReport(out, opt), &error)) {
    std::fprintf(stderr, "campaign: --junit: %s\n", error.c_str());
    return kExitCannotRun;
  }
  if (!opt.markdown.empty() && !AppendText(opt.markdown, RenderMarkdownSummary(out, opt), &error)) {
    std::fprintf(stderr, "campaign: --markdown: %s\n", error.c_str());
    return kExitCannotRun;
  }
  std::printf("report: %s  (json: %s)\n", opt.report_html.c_str(), Shown(json_path).c_str());
  std::printf("exit status %d: %s\n", out.exit_status, out.verdict.c_str());
  return out.exit_status;
}
