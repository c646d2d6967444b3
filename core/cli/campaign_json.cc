// report.json: the same figures for CI dashboards. Schema (version 1):
//   {version, tool, mode, mutant, seed, runs_per_stage, repeat, budget_sec, elapsed_sec, exit_status, verdict, started_at,
//    stages: [{id, title, group, lane, state, budget_sec, elapsed_sec, unit, runs, rate_per_sec,
//              failures, first_failure_sec, runs_to_first_failure, note, command}],
//    coverage: {call_cells_hit, call_cells_total, transitions_hit, transitions_total,
//               message_errors_hit, message_errors_total, calls_checked, messages,
//               cells: [{category, a, b, c, count}],
//               spec: {overall, calls, transitions, messages, tables: [{table, hit, allowed,
//                      unreachable, count}], untested: [{table, cell, section}],
//                      unreachable: [{table, cell, section, why}], outside: [{category, a, b, c,
//                      count}]}},
//    (the totals count the cells SPEC.md allows, check/coverage.h, not the matrix's product)
//    failures: [{stage, group, invariant, detail, scenario, mutant, after_sec, wall_sec, runs,
//                tape_bytes, original_tape_bytes, tape_hex, tape_path, replay}],
//    zoo: [{bug, description, found, first_stage, after_sec, runs, tape_bytes,
//           stages: {<stage id>: {state, found_after_sec, runs}}}]}
#include <string>

#include "campaign.h"
#include "campaign_util.h"

namespace wsaf::campaign {

namespace {

std::string Q(const std::string& s) { return "\"" + JsonEscape(s) + "\""; }
std::string N(double v) { return Printf("%.3f", v); }
std::string U(uint64_t v) { return std::to_string(v); }

// [[seconds, cells], ...]: the stage's coverage curve (simulation stages; [] for the others).
std::string Series(const Stage& s) {
  std::string j = "[";
  for (std::size_t i = 0; i < s.coverage_series.size(); ++i) {
    j += (i ? ",[" : "[") + N(s.coverage_series[i].first) + "," + std::to_string(s.coverage_series[i].second) + "]";
  }
  return j + "]";
}

std::string StageJson(const Stage& s) {
  return "{\"id\":" + Q(s.id) + ",\"title\":" + Q(s.title) + ",\"group\":" + Q(GroupId(s.group)) +
         ",\"lane\":" + std::to_string(s.lane) + ",\"state\":" + Q(StateName(s.state)) +
         ",\"budget_sec\":" + N(s.budget) + ",\"elapsed_sec\":" + N(s.Elapsed(0)) + ",\"unit\":" + Q(s.unit) +
         ",\"runs\":" + U(s.runs) + ",\"rate_per_sec\":" + N(s.rate) + ",\"failures\":" + std::to_string(s.failures) +
         ",\"first_failure_sec\":" + (s.found_after >= 0 ? N(s.found_after) : "null") +
         ",\"runs_to_first_failure\":" + (s.found_after >= 0 ? U(s.runs_to_find) : "null") +
         ",\"note\":" + Q(s.note) + ",\"command\":" + Q(s.command) + ",\"coverage_series\":" + Series(s) + "}";
}

std::string FailureJson(const Failure& f) {
  return "{\"stage\":" + Q(f.stage_id) + ",\"group\":" + Q(GroupId(f.group)) + ",\"invariant\":" + Q(f.invariant) +
         ",\"detail\":" + Q(f.detail) + ",\"scenario\":" + Q(f.scenario) + ",\"mutant\":" + Q(f.mutant) +
         ",\"after_sec\":" + N(f.after) + ",\"wall_sec\":" + N(f.wall) + ",\"runs\":" + U(f.runs) +
         ",\"tape_bytes\":" + U(f.tape.size()) + ",\"original_tape_bytes\":" + U(f.original_tape_bytes) +
         ",\"tape_hex\":" + Q(Hex(f.tape, 65536)) + ",\"tape_path\":" + Q(f.tape_path) +
         ",\"replay\":" + Q(f.replay) + "}";
}

std::string CoverageJson(const check::Coverage& c) {
  check::CoverageReport r = check::Summarize(c);
  std::string j = "{\"call_cells_hit\":" + std::to_string(r.calls.hit) + ",\"call_cells_total\":" +
                  std::to_string(r.calls.allowed) + ",\"transitions_hit\":" + std::to_string(r.transitions.hit) +
                  ",\"transitions_total\":" + std::to_string(r.transitions.allowed) +
                  ",\"message_errors_hit\":" + std::to_string(r.messages.hit) +
                  ",\"message_errors_total\":" + std::to_string(r.messages.allowed) +
                  ",\"spec\":" + check::CoverageReportJson(r) +
                  ",\"calls_checked\":" + U(c.calls_checked) + ",\"messages\":" + U(c.messages) + ",\"cells\":[";
  bool first = true;
  for (const check::CoverageEntry& e : c.List()) {
    j += std::string(first ? "" : ",") + "{\"category\":" + Q(e.category) + ",\"a\":" + Q(e.a) + ",\"b\":" + Q(e.b) +
         ",\"c\":" + Q(e.c) + ",\"count\":" + U(e.count) + "}";
    first = false;
  }
  return j + "]}";
}

std::string ZooJson(const ZooRow& row) {
  std::string j = "{\"bug\":" + Q(MutantName(row.mutant)) + ",\"description\":" + Q(MutantDescription(row.mutant)) +
                  ",\"found\":" + (row.first >= 0 ? "true" : "false");
  if (row.first >= 0) {
    const Failure& f = row.failures[row.first];
    std::size_t best = 0;
    for (const Failure& g : row.failures) {
      if (!g.tape.empty() && (best == 0 || g.tape.size() < best)) best = g.tape.size();
    }
    j += ",\"first_stage\":" + Q(GroupId(f.group)) + ",\"after_sec\":" + N(f.wall) + ",\"runs\":" + U(f.runs) +
         ",\"tape_bytes\":" + (best > 0 ? U(best) : "null");
  } else {
    j += ",\"first_stage\":null,\"after_sec\":null,\"runs\":null,\"tape_bytes\":null";
  }
  j += ",\"stages\":{";
  bool first = true;
  for (const Stage& s : row.stages) {
    j += std::string(first ? "" : ",") + Q(s.id) + ":{\"state\":" + Q(StateName(s.state)) +
         ",\"found_after_sec\":" + (s.found_after >= 0 ? N(s.found_after) : "null") + ",\"runs\":" +
         U(s.found_after >= 0 ? s.runs_to_find : s.runs) + "}";
    first = false;
  }
  return j + "}}";
}

}  // namespace

std::string RenderJsonReport(const Outcome& out, const Options& opt) {
  std::string j = "{\"version\":1,\"tool\":\"wsafault campaign\",\"mode\":" + Q(out.mode) + ",\"mutant\":" +
                  Q(out.mutant) + ",\"seed\":" + U(opt.seed) + ",\"runs_per_stage\":" + U(opt.runs_per_stage) +
                  ",\"repeat\":" + Q(opt.repeat) + ",\"budget_sec\":" + N(opt.time_sec) +
                  ",\"elapsed_sec\":" + N(out.elapsed) + ",\"exit_status\":" + std::to_string(out.exit_status) +
                  ",\"verdict\":" + Q(out.verdict) + ",\"started_at\":" + Q(out.started_at) + ",\n\"stages\":[";
  for (std::size_t i = 0; i < out.stages.size(); ++i) j += (i ? ",\n" : "\n") + StageJson(out.stages[i]);
  j += "],\n\"coverage\":" + CoverageJson(out.coverage) + ",\n\"failures\":[";
  for (std::size_t i = 0; i < out.failures.size(); ++i) j += (i ? ",\n" : "\n") + FailureJson(out.failures[i]);
  j += "],\n\"zoo\":[";
  for (std::size_t i = 0; i < out.zoo.size(); ++i) j += (i ? ",\n" : "\n") + ZooJson(out.zoo[i]);
  return j + "]}\n";
}

}  // namespace wsaf::campaign
