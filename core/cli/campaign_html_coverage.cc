// The coverage matrix of the report: for each API call the model judges, a table of the model
// conditions it met (rows) by the outcomes it answered (columns), every cell present and marked
// hit (with its count) or not; then the lifecycle transitions (from x to) and the error codes
// completion messages carried. A cell that stays empty is a rule of SPEC.md no run exercised.
#include <string>

#include "campaign.h"
#include "campaign_util.h"
#include "check/reference_model.h"

namespace wsaf::campaign {

namespace {

std::string Cell(uint32_t n, const std::string& what) {
  if (n == 0) return "<td class=\"cell miss\"></td>";
  return "<td class=\"cell hit\" title=\"" + HtmlEscape(what) + ": " + std::to_string(n) + "\">" +
         (n >= 100000 ? Printf("%uk", n / 1000) : std::to_string(n)) + "</td>";
}

std::string CallTable(const check::Coverage& c, check::ApiCall call) {
  std::string name = check::ApiCallName(call);
  int hits = 0;
  uint64_t total = 0;
  for (int cond = 0; cond < check::kConditions; ++cond) {
    for (int slot = 0; slot < check::kOutcomeSlots; ++slot) {
      uint32_t n = c.calls[(static_cast<int>(call) * check::kConditions + cond) * check::kOutcomeSlots + slot];
      hits += n != 0;
      total += n;
    }
  }
  std::string h = std::string("<details class=\"call\"") + (hits > 0 ? " open" : "") + "><summary><b>" +
                  HtmlEscape(name) + "</b> " +
                  Printf("%d cells hit, %s calls", hits, Count(total).c_str()) + "</summary>\n";
  h += "<table class=\"matrix\" id=\"cov-call-" + HtmlEscape(name) + "\"><tr><th>condition \\ outcome</th>";
  for (int slot = 0; slot < check::kOutcomeSlots; ++slot) {
    h += "<th class=\"out\">" + HtmlEscape(check::OutcomeSlotName(slot)) + "</th>";
  }
  h += "</tr>\n";
  for (int cond = 0; cond < check::kConditions; ++cond) {
    std::string cname = check::ConditionName(static_cast<check::Condition>(cond));
    h += "<tr class=\"row\"><th class=\"cond\">" + HtmlEscape(cname) + "</th>";
    for (int slot = 0; slot < check::kOutcomeSlots; ++slot) {
      uint32_t n = c.calls[(static_cast<int>(call) * check::kConditions + cond) * check::kOutcomeSlots + slot];
      h += Cell(n, name + " x " + cname + " x " + check::OutcomeSlotName(slot));
    }
    h += "</tr>\n";
  }
  return h + "</table></details>\n";
}

std::string TransitionTable(const check::Coverage& c) {
  std::string h = "<table class=\"matrix\" id=\"cov-transitions\"><tr><th>from \\ to</th>";
  for (int to = 0; to < check::kModelStates; ++to) {
    h += "<th class=\"out\">" + HtmlEscape(check::ModelStateName(static_cast<check::ModelState>(to))) + "</th>";
  }
  h += "</tr>\n";
  for (int from = 0; from < check::kModelStates; ++from) {
    auto f = static_cast<check::ModelState>(from);
    h += "<tr class=\"row\"><th class=\"cond\">" + HtmlEscape(check::ModelStateName(f)) + "</th>";
    for (int to = 0; to < check::kModelStates; ++to) {
      auto t = static_cast<check::ModelState>(to);
      h += Cell(c.TransitionCount(f, t), std::string(check::ModelStateName(f)) + " -> " + check::ModelStateName(t));
    }
    h += "</tr>\n";
  }
  return h + "</table>\n";
}

std::string MessageErrorTable(const check::Coverage& c) {
  std::string h = "<table class=\"matrix\" id=\"cov-message-errors\"><tr><th></th>";
  for (int slot = 0; slot < check::kOutcomeSlots; ++slot) {
    h += "<th class=\"out\">" + HtmlEscape(check::OutcomeSlotName(slot)) + "</th>";
  }
  h += "</tr>\n<tr class=\"row\"><th class=\"cond\">completion messages</th>";
  for (int slot = 0; slot < check::kOutcomeSlots; ++slot) {
    h += Cell(c.message_errors[slot], "message error " + check::OutcomeSlotName(slot));
  }
  return h + "</tr></table>\n";
}

}  // namespace

std::string RenderCoverageHtml(const check::Coverage& c) {
  std::string h = Printf(
      "<p id=\"cov-summary\"><b>%d</b> of %d call x condition x outcome cells hit, <b>%d</b> of %d lifecycle "
      "transitions, <b>%d</b> of %d message error codes; %s calls judged against the model, %s completion "
      "messages checked. <span id=\"cov-js-summary\" class=\"muted\"></span></p>\n",
      c.DistinctCalls(), check::kApiCalls * check::kConditions * check::kOutcomeSlots, c.DistinctTransitions(),
      check::kModelStates * check::kModelStates, c.DistinctMessageErrors(), check::kOutcomeSlots,
      Count(c.calls_checked).c_str(), Count(c.messages).c_str());
  h += "<p><label><input type=\"checkbox\" id=\"cov-hide-empty\"> hide rows nothing reached</label></p>\n";
  h += "<div id=\"coverage-matrix\">\n<h3>API calls: condition x outcome</h3>\n";
  for (int call = 0; call < check::kApiCalls; ++call) h += CallTable(c, static_cast<check::ApiCall>(call));
  h += "<h3>Request lifecycle transitions</h3>\n" + TransitionTable(c);
  h += "<h3>Error codes in completion messages</h3>\n" + MessageErrorTable(c);
  return h + "</div>\n";
}

}  // namespace wsaf::campaign
