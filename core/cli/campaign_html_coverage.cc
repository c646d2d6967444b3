// The coverage section of the report, against what SPEC.md allows (check/coverage.h): the
// figures hit / allowed per table and overall, every allowed cell never hit listed as an
// untested rule with its SPEC.md section, the cells unreachable by design with their reason,
// then the matrices. In a matrix only allowed cells are cells (td.cell, hit or miss: what the
// page script and report.json count); a cell SPEC.md does not allow is blank, or marked
// "outside" if a run hit it anyway (a tolerance of the model, or a simulated fault's error).
#include <set>
#include <string>
#include <tuple>

#include "campaign.h"
#include "campaign_util.h"
#include "check/coverage.h"

namespace wsaf::campaign {

namespace {

using CellKey = std::tuple<int, int, int, int>;  // table, a, b, c

std::set<CellKey> AllowedKeys() {
  std::set<CellKey> keys;
  for (const check::AllowedCell& c : check::AllowedCells()) {
    keys.insert({static_cast<int>(c.table), c.a, c.b, c.c});
  }
  return keys;
}

std::string Cell(bool allowed, uint32_t n, const std::string& what) {
  std::string count = n >= 100000 ? Printf("%uk", n / 1000) : std::to_string(n);
  if (!allowed) {
    if (n == 0) return "<td class=\"na\"></td>";
    return "<td class=\"outside\" title=\"" + HtmlEscape(what) + " (not in SPEC.md's allowed set): " +
           std::to_string(n) + "\">" + count + "</td>";
  }
  if (n == 0) return "<td class=\"cell miss\" title=\"" + HtmlEscape(what) + ": untested\"></td>";
  return "<td class=\"cell hit\" title=\"" + HtmlEscape(what) + ": " + std::to_string(n) + "\">" + count + "</td>";
}

std::string OutcomeHeader() {
  std::string h;
  for (int slot = 0; slot < check::kOutcomeSlots; ++slot) {
    h += "<th class=\"out\">" + HtmlEscape(check::OutcomeSlotName(slot)) + "</th>";
  }
  return h + "</tr>\n";
}

std::string CallTable(const check::Coverage& c, const std::set<CellKey>& allowed, check::ApiCall call,
                      const check::TableFigures& fig) {
  std::string name = check::ApiCallName(call);
  const int t = static_cast<int>(check::CellTable::kCall), a = static_cast<int>(call);
  std::string h = std::string("<details class=\"call\"") + (fig.hit < fig.allowed - fig.unreachable ? " open" : "") +
                  "><summary><b>" + HtmlEscape(name) + "</b> " +
                  Printf("%d of %d allowed cells hit, %s calls", fig.hit, fig.allowed, Count(fig.calls).c_str()) +
                  "</summary>\n";
  h += "<table class=\"matrix\" id=\"cov-call-" + HtmlEscape(name) + "\"><tr><th>condition \\ outcome</th>" +
       OutcomeHeader();
  for (int cond = 0; cond < check::kConditions; ++cond) {
    bool any = false;
    for (int slot = 0; slot < check::kOutcomeSlots; ++slot) {
      any |= allowed.count({t, a, cond, slot}) != 0 ||
             c.calls[(a * check::kConditions + cond) * check::kOutcomeSlots + slot] != 0;
    }
    if (!any) continue;  // a condition this call never meets
    std::string cname = check::ConditionName(static_cast<check::Condition>(cond));
    h += "<tr class=\"row\"><th class=\"cond\">" + HtmlEscape(cname) + "</th>";
    for (int slot = 0; slot < check::kOutcomeSlots; ++slot) {
      uint32_t n = c.calls[(a * check::kConditions + cond) * check::kOutcomeSlots + slot];
      h += Cell(allowed.count({t, a, cond, slot}) != 0, n, name + " / " + cname + " / " + check::OutcomeSlotName(slot));
    }
    h += "</tr>\n";
  }
  return h + "</table></details>\n";
}

std::string TransitionTable(const check::Coverage& c, const std::set<CellKey>& allowed) {
  const int t = static_cast<int>(check::CellTable::kTransition);
  std::string h = "<table class=\"matrix\" id=\"cov-transitions\"><tr><th>from \\ to</th>";
  for (int to = 0; to < check::kModelStates; ++to) {
    h += "<th class=\"out\">" + HtmlEscape(check::ModelStateName(static_cast<check::ModelState>(to))) + "</th>";
  }
  h += "</tr>\n";
  for (int from = 0; from < check::kModelStates; ++from) {
    auto f = static_cast<check::ModelState>(from);
    h += "<tr class=\"row\"><th class=\"cond\">" + HtmlEscape(check::ModelStateName(f)) + "</th>";
    for (int to = 0; to < check::kModelStates; ++to) {
      auto s = static_cast<check::ModelState>(to);
      h += Cell(allowed.count({t, from, to, 0}) != 0, c.TransitionCount(f, s),
                std::string(check::ModelStateName(f)) + " -> " + check::ModelStateName(s));
    }
    h += "</tr>\n";
  }
  return h + "</table>\n";
}

std::string MessageErrorTable(const check::Coverage& c, const std::set<CellKey>& allowed) {
  const int t = static_cast<int>(check::CellTable::kMessageError);
  std::string h = "<table class=\"matrix\" id=\"cov-message-errors\"><tr><th>kind \\ error</th>" + OutcomeHeader();
  for (int kind = 0; kind < check::kRequestKinds; ++kind) {
    h += "<tr class=\"row\"><th class=\"cond\">" + HtmlEscape(check::KindName(kind)) + "</th>";
    for (int slot = 0; slot < check::kOutcomeSlots; ++slot) {
      h += Cell(allowed.count({t, kind, slot, 0}) != 0, c.message_errors[kind * check::kOutcomeSlots + slot],
                std::string(check::KindName(kind)) + " message " + check::OutcomeSlotName(slot));
    }
    h += "</tr>\n";
  }
  return h + "</table>\n";
}

std::string RuleList(const char* id, const std::vector<const check::AllowedCell*>& cells, bool why) {
  std::string h = std::string("<table class=\"rules\" id=\"") + id + "\"><tr><th>table</th><th>cell</th><th>SPEC.md</th>" +
                  (why ? "<th>why no scenario reaches it</th>" : "") + "</tr>\n";
  for (const check::AllowedCell* c : cells) {
    h += "<tr class=\"rule\"><td>" + HtmlEscape(check::TableName(*c)) + "</td><td>" + HtmlEscape(check::CellName(*c)) +
         "</td><td>" + HtmlEscape(c->section) + "</td>" + (why ? "<td>" + HtmlEscape(c->unreachable) + "</td>" : "") +
         "</tr>\n";
  }
  return h + "</table>\n";
}

}  // namespace

std::string RenderCoverageHtml(const check::Coverage& c) {
  check::CoverageReport r = check::Summarize(c);
  std::set<CellKey> allowed = AllowedKeys();
  auto fig = [](const check::TableFigures& t) { return Printf("<b>%d</b> of %d", t.hit, t.allowed); };
  std::string h = "<p id=\"cov-summary\">Against what SPEC.md allows: " + fig(r.overall) + " allowed cells hit (calls " +
                  fig(r.calls) + ", lifecycle transitions " + fig(r.transitions) + ", message errors " +
                  fig(r.messages) + "); " + Printf("%zu untested, %zu unreachable by design", r.untested.size(),
                                                   r.unreachable.size()) +
                  "; " + Count(c.calls_checked) + " calls judged against the model, " + Count(c.messages) +
                  " completion messages checked. <span id=\"cov-js-summary\" class=\"muted\"></span></p>\n";
  h += "<h3>Untested rules</h3>\n";
  h += r.untested.empty() ? "<p id=\"cov-untested\">Every reachable allowed cell was hit.</p>\n"
                          : RuleList("cov-untested", r.untested, false);
  h += "<details><summary>Unreachable by design (" + std::to_string(r.unreachable.size()) + ")</summary>\n" +
       RuleList("cov-unreachable", r.unreachable, true) + "</details>\n";
  if (!r.unreachable_hit.empty()) {
    h += "<p id=\"cov-unreachable-hit\"><b>Reached although marked unreachable by design</b> (the reason no longer "
         "holds; check/coverage_space.cc needs the entry removed):</p>\n" +
         RuleList("cov-unreachable-hit-list", r.unreachable_hit, true);
  }
  if (!r.outside.empty()) {
    h += "<p class=\"muted\" id=\"cov-outside\">" + std::to_string(r.outside.size()) +
         " cells were hit outside the allowed set: tolerances of the model (it cannot tell which instant a call "
         "saw) or error codes a simulated fault put into messages of a kind SPEC.md does not name them for; "
         "marked <i>outside</i> in the matrices.</p>\n";
  }
  h += "<p><label><input type=\"checkbox\" id=\"cov-hide-empty\"> hide rows nothing reached</label></p>\n";
  h += "<div id=\"coverage-matrix\">\n<h3>Per table</h3>\n<table class=\"figures\" id=\"cov-tables\"><tr><th>table</th>"
       "<th>hit</th><th>allowed</th><th>unreachable</th><th>count</th></tr>\n";
  for (const check::TableFigures& t : r.tables) {
    h += "<tr><td>" + HtmlEscape(t.name) + "</td><td>" + std::to_string(t.hit) + "</td><td>" +
         std::to_string(t.allowed) + "</td><td>" + std::to_string(t.unreachable) + "</td><td>" + Count(t.calls) +
         "</td></tr>\n";
  }
  h += "</table>\n<h3>API calls: condition x outcome</h3>\n";
  for (int call = 0; call < check::kApiCalls; ++call) {
    std::string name = check::ApiCallName(static_cast<check::ApiCall>(call));
    check::TableFigures f;
    for (const check::TableFigures& t : r.tables) {
      if (t.name == name) f = t;
    }
    h += CallTable(c, allowed, static_cast<check::ApiCall>(call), f);
  }
  h += "<h3>Request lifecycle transitions</h3>\n" + TransitionTable(c, allowed);
  h += "<h3>Error codes in completion messages, per kind</h3>\n" + MessageErrorTable(c, allowed);
  return h + "</div>\n";
}

}  // namespace wsaf::campaign
