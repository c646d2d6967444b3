// Coverage counts against the allowed cells: figures per table and overall, the untested
// rules, and the text and JSON the reports print.
#include <algorithm>
#include <cstdio>
#include <set>

#include "check/coverage.h"

namespace wsaf::check {

namespace {

void Count(TableFigures* t, bool unreachable, uint32_t n) {
  ++t->allowed;
  t->hit += n != 0;
  t->unreachable += unreachable;
  t->calls += n;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (static_cast<unsigned char>(ch) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", ch);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string FiguresJson(const TableFigures& t) {
  return "{\"table\":" + JsonString(t.name) + ",\"hit\":" + std::to_string(t.hit) +
         ",\"allowed\":" + std::to_string(t.allowed) + ",\"unreachable\":" + std::to_string(t.unreachable) +
         ",\"count\":" + std::to_string(t.calls) + "}";
}

std::string CellJson(const AllowedCell& c) {
  std::string j = "{\"table\":" + JsonString(TableName(c)) + ",\"cell\":" + JsonString(CellName(c)) +
                  ",\"section\":" + JsonString(c.section);
  if (c.unreachable != nullptr) j += ",\"why\":" + JsonString(c.unreachable);
  return j + "}";
}

}  // namespace

bool UnreachableIn(const AllowedCell& cell, const Coverage& c) {
  return cell.unreachable != nullptr && !(cell.sites_only && c.atomic_points);
}

CoverageReport Summarize(const Coverage& c) {
  CoverageReport r;
  r.calls.name = "calls";
  r.transitions.name = "lifecycle transitions";
  r.messages.name = "message errors";
  r.overall.name = "overall";
  // Cells in the allowed set, by their index in the count arrays, to find the hits outside it.
  std::set<std::pair<int, int>> allowed;
  for (const AllowedCell& cell : AllowedCells()) {
    uint32_t n = CountOf(c, cell);
    std::string name = TableName(cell);
    if (r.tables.empty() || r.tables.back().name != name) {
      r.tables.push_back(TableFigures());
      r.tables.back().name = name;
    }
    const bool unreachable = UnreachableIn(cell, c);
    Count(&r.tables.back(), unreachable, n);
    TableFigures* total = cell.table == CellTable::kCall         ? &r.calls
                          : cell.table == CellTable::kTransition ? &r.transitions
                                                                 : &r.messages;
    Count(total, unreachable, n);
    Count(&r.overall, unreachable, n);
    if (unreachable) {
      r.unreachable.push_back(&cell);
      if (n != 0) r.unreachable_hit.push_back(&cell);
    }
    else if (n == 0) r.untested.push_back(&cell);
    int index = cell.table == CellTable::kCall         ? (cell.a * kConditions + cell.b) * kOutcomeSlots + cell.c
                : cell.table == CellTable::kTransition ? cell.a * kModelStates + cell.b
                                                       : cell.a * kOutcomeSlots + cell.b;
    allowed.insert({static_cast<int>(cell.table), index});
  }
  auto outside = [&](CellTable t, int index) { return allowed.count({static_cast<int>(t), index}) == 0; };
  for (int call = 0; call < kApiCalls; ++call) {
    for (int cond = 0; cond < kConditions; ++cond) {
      for (int slot = 0; slot < kOutcomeSlots; ++slot) {
        int index = (call * kConditions + cond) * kOutcomeSlots + slot;
        if (c.calls[index] == 0 || !outside(CellTable::kCall, index)) continue;
        r.outside.push_back({"call", ApiCallName(static_cast<ApiCall>(call)),
                             ConditionName(static_cast<Condition>(cond)), OutcomeSlotName(slot), c.calls[index]});
      }
    }
  }
  for (int index = 0; index < kModelStates * kModelStates; ++index) {
    if (c.transitions[index] == 0 || !outside(CellTable::kTransition, index)) continue;
    r.outside.push_back({"transition", ModelStateName(static_cast<ModelState>(index / kModelStates)),
                         ModelStateName(static_cast<ModelState>(index % kModelStates)), "", c.transitions[index]});
  }
  for (int index = 0; index < kRequestKinds * kOutcomeSlots; ++index) {
    if (c.message_errors[index] == 0 || !outside(CellTable::kMessageError, index)) continue;
    r.outside.push_back({"message-error", OutcomeSlotName(index % kOutcomeSlots), KindName(index / kOutcomeSlots),
                         "", c.message_errors[index]});
  }
  return r;
}

std::string CoverageSummaryLine(const CoverageReport& r) {
  auto fig = [](const TableFigures& t) { return std::to_string(t.hit) + "/" + std::to_string(t.allowed); };
  std::string s = "coverage against SPEC.md: " + std::to_string(r.overall.hit) + " of " +
                  std::to_string(r.overall.allowed) + " allowed cells hit (calls " + fig(r.calls) +
                  ", lifecycle transitions " + fig(r.transitions) + ", message errors " + fig(r.messages) + "); " +
                  std::to_string(r.unreachable.size()) + " unreachable by design, " +
                  std::to_string(r.untested.size()) + " untested";
  if (!r.outside.empty()) s += ", " + std::to_string(r.outside.size()) + " hit outside the allowed set";
  return s;
}

std::string UntestedRulesText(const CoverageReport& r, std::size_t max) {
  std::string s;
  for (std::size_t i = 0; i < r.untested.size() && i < max; ++i) {
    s += "  untested: " + CellName(*r.untested[i]) + "  (SPEC.md: " + r.untested[i]->section + ")\n";
  }
  if (r.untested.size() > max) s += "  ... and " + std::to_string(r.untested.size() - max) + " more\n";
  for (const AllowedCell* c : r.unreachable_hit) {
    s += "  hit although unreachable by design (the reason in coverage_space.cc is stale): " + CellName(*c) + "\n";
  }
  // A few of the hits outside the allowed set (the report and the JSON list them all).
  const std::size_t shown = std::min<std::size_t>(max, 3);
  for (std::size_t i = 0; i < r.outside.size() && i < shown; ++i) {
    const CoverageEntry& e = r.outside[i];
    s += "  outside the allowed set: " + e.category + " " + e.a + (e.b.empty() ? "" : " / " + e.b) +
         (e.c.empty() ? "" : " / " + e.c) + " (" + std::to_string(e.count) + ")\n";
  }
  if (shown > 0 && r.outside.size() > shown) {
    s += "  ... and " + std::to_string(r.outside.size() - shown) + " more outside the allowed set\n";
  }
  return s;
}

std::string TableFiguresText(const CoverageReport& r, std::size_t width) {
  std::string s, line;
  for (const TableFigures& t : r.tables) {
    std::string item = t.name + " " + std::to_string(t.hit) + "/" + std::to_string(t.allowed);
    if (!line.empty() && line.size() + item.size() + 2 > width) {
      s += "  " + line + ",\n";
      line.clear();
    }
    line += (line.empty() ? "" : ", ") + item;
  }
  return line.empty() ? s : s + "  " + line + "\n";
}

std::string CoverageReportJson(const CoverageReport& r) {
  std::string j = "{\"overall\":" + FiguresJson(r.overall) + ",\"calls\":" + FiguresJson(r.calls) +
                  ",\"transitions\":" + FiguresJson(r.transitions) + ",\"messages\":" + FiguresJson(r.messages) +
                  ",\"tables\":[";
  for (std::size_t i = 0; i < r.tables.size(); ++i) j += (i ? "," : "") + FiguresJson(r.tables[i]);
  j += "],\"untested\":[";
  for (std::size_t i = 0; i < r.untested.size(); ++i) j += (i ? "," : "") + CellJson(*r.untested[i]);
  j += "],\"unreachable\":[";
  for (std::size_t i = 0; i < r.unreachable.size(); ++i) j += (i ? "," : "") + CellJson(*r.unreachable[i]);
  j += "],\"unreachable_hit\":[";
  for (std::size_t i = 0; i < r.unreachable_hit.size(); ++i) j += (i ? "," : "") + CellJson(*r.unreachable_hit[i]);
  j += "],\"outside\":[";
  for (std::size_t i = 0; i < r.outside.size(); ++i) {
    const CoverageEntry& e = r.outside[i];
    j += std::string(i ? "," : "") + "{\"category\":" + JsonString(e.category) + ",\"a\":" + JsonString(e.a) +
         ",\"b\":" + JsonString(e.b) + ",\"c\":" + JsonString(e.c) + ",\"count\":" + std::to_string(e.count) + "}";
  }
  return j + "]}";
}

}  // namespace wsaf::check
