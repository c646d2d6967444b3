// The HTML report: one self-contained file (inline CSS, SVG and a small script; no URL but the
// SVG namespace), readable offline and from a CI artifact. The script only adds conveniences
// (cell totals counted in the page, hiding empty rows, copy buttons) and marks the body
// data-rendered="yes", which the browser test looks for.
#include <algorithm>
#include <string>

#include "campaign.h"
#include "campaign_util.h"

namespace wsaf::campaign {

namespace {

constexpr std::size_t kTapeHexBytes = 4096;  // longer tapes are shown cut (the file has it all)

const char kStyle[] =
    "body{font-family:system-ui,sans-serif;margin:1.2em 2em;color:#222;max-width:1400px}"
    "h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left}"
    "th{background:#f0f2f5}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".verdict{padding:.6em 1em;border-radius:4px;font-weight:bold}.ok{background:#e7f6e9;color:#17652a}"
    ".bad{background:#fdecea;color:#a11}.warn{background:#fff6e0;color:#7a5200}"
    ".st-FOUND{color:#b00;font-weight:bold}.st-clean{color:#17652a}.st-skipped,.st-waiting{color:#888}"
    ".st-error{color:#a60;font-weight:bold}"
    "pre{background:#f7f7f9;border:1px solid #e3e3e8;padding:.5em;overflow-x:auto;font-size:12px}"
    "pre.tape{white-space:pre-wrap;word-break:break-all;max-height:12em}"
    ".failure{border:1px solid #e99;border-radius:4px;padding:.2em 1em 1em;margin:1em 0;background:#fffafa}"
    ".timeline{overflow-x:auto;border:1px solid #ddd;background:#fff;margin:.5em 0}"
    "code.cmd{background:#272822;color:#f8f8f2;padding:.3em .5em;display:inline-block;border-radius:3px}"
    "button.copy{margin-left:.5em;font-size:11px}"
    "table.matrix td.cell{width:2.6em;text-align:right;font-size:11px;padding:1px 3px}"
    "table.matrix td.hit{background:#b9e4c0}table.matrix td.miss{background:#fafafa;color:#ccc}"
    "table.matrix th.out{writing-mode:vertical-rl;transform:rotate(180deg);font-size:10px;font-weight:normal}"
    "table.matrix th.cond{font-size:11px;font-weight:normal;white-space:nowrap}"
    "details{margin:.4em 0}summary{cursor:pointer}.muted{color:#777}";

const char kScript[] = R"JS(
(function () {
  var cells = document.querySelectorAll('table.matrix td.cell');
  var hit = document.querySelectorAll('table.matrix td.hit');
  var sum = document.getElementById('cov-js-summary');
  if (sum) sum.textContent = hit.length + ' of ' + cells.length +
      ' matrix cells hit (counted by the page script)';
  var box = document.getElementById('cov-hide-empty');
  if (box) box.addEventListener('change', function () {
    document.querySelectorAll('table.matrix tr.row').forEach(function (tr) {
      tr.style.display = box.checked && !tr.querySelector('td.hit') ? 'none' : '';
    });
  });
  document.querySelectorAll('button.copy').forEach(function (b) {
    b.addEventListener('click', function () {
      var text = document.getElementById(b.getAttribute('data-for')).textContent;
      if (navigator.clipboard) navigator.clipboard.writeText(text);
    });
  });
  document.body.setAttribute('data-rendered', 'yes');
})();
)JS";

std::string Td(const std::string& text, const char* cls = nullptr) {
  return std::string("<td") + (cls ? std::string(" class=\"") + cls + "\"" : std::string()) + ">" +
         HtmlEscape(text) + "</td>";
}

std::string Extra(const Stage& s) {
  if (s.lane == 0) {
    return Printf("%d call cells, %d transitions, %d message errors", s.coverage.DistinctCalls(),
                  s.coverage.DistinctTransitions(), s.coverage.DistinctMessageErrors());
  }
  if (s.group == Group::kFuzzing && s.fuzz_cov > 0) {
    return "cov " + Count(s.fuzz_cov) + ", features " + Count(s.fuzz_features) + ", corpus " + Count(s.fuzz_corpus);
  }
  return s.exit_code >= 0 ? Printf("exit %d", s.exit_code) : "";
}

std::string FiguresTable(const Outcome& out) {
  std::string h = "<table id=\"figures\"><tr><th>stage</th><th>lane</th><th>result</th><th>time</th><th>budget</th>"
                  "<th>runs / execs / ops</th><th>rate</th><th>failures</th><th>to first failure</th>"
                  "<th>coverage</th><th>note</th></tr>\n";
  for (const Stage& s : out.stages) {
    bool ran = s.state != State::kSkipped && s.state != State::kWaiting;
    std::string state_cls = std::string("st-") + StateName(s.state);
    h += "<tr id=\"stage-" + HtmlEscape(s.id) + "\" class=\"stage\">" + Td(s.title) +
         Td(s.lane == 0 ? "sim (in-process)" : "child") + Td(StateName(s.state), state_cls.c_str()) +
         Td(ran ? Seconds(s.Elapsed(0)) : "-", "num") + Td(ran ? Seconds(s.budget) : "-", "num") +
         Td(ran ? Count(s.runs) + " " + s.unit : "-", "num") + Td(ran ? Rate(s.rate) : "-", "num") +
         Td(std::to_string(s.failures), "num") +
         Td(s.found_after >= 0 ? Seconds(s.found_after) + ", " + Count(s.runs_to_find) + " " + s.unit : "-", "num") +
         Td(Extra(s)) + "<td>" + HtmlEscape(s.note);
    if (!s.command.empty()) h += "<details><summary>command</summary><pre>" + HtmlEscape(s.command) + "</pre></details>";
    h += "</td></tr>\n";
  }
  return h + "</table>\n";
}

// Stages as bars on their lanes over the campaign's time, a red tick at each first failure.
std::string StageChart(const Outcome& out, double budget) {
  const int kLeft = 130, kWidth = 760, kRow = 22, kTop = 24;
  double span = budget;
  for (const Stage& s : out.stages) span = std::max(span, s.end);
  span = std::max(span, 1.0);
  int rows = static_cast<int>(out.stages.size());
  int height = kTop + rows * kRow + 10;
  std::string svg = Printf("<svg id=\"stage-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                           "font-family=\"sans-serif\" font-size=\"11\">\n", kLeft + kWidth + 20, height);
  for (int t = 0; t <= 10; ++t) {
    double x = kLeft + kWidth * t / 10.0;
    svg += Printf("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                  "<text x=\"%.1f\" y=\"14\" fill=\"#666\" text-anchor=\"middle\">%.0fs</text>\n",
                  x, kTop - 4, x, height - 6, x, span * t / 10.0);
  }
  for (int i = 0; i < rows; ++i) {
    const Stage& s = out.stages[i];
    int y = kTop + i * kRow;
    svg += Printf("<text x=\"4\" y=\"%d\" fill=\"#222\">%s</text>\n", y + 14, HtmlEscape(s.title).c_str());
    if (s.start < 0) continue;
    double x0 = kLeft + kWidth * s.start / span;
    double x1 = kLeft + kWidth * std::max(s.end, s.start) / span;
    const char* fill = s.state == State::kFound ? "#e57373" : (s.state == State::kError ? "#ffb74d" : "#81c784");
    svg += Printf("<rect class=\"stage-bar\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
                  "<title>%s: %s, %s</title></rect>\n", x0, y + 3, std::max(1.5, x1 - x0), kRow - 6, fill,
                  HtmlEscape(s.title).c_str(), StateName(s.state), Seconds(s.Elapsed(0)).c_str());
    if (s.found_after >= 0) {
      double xf = kLeft + kWidth * (s.start + s.found_after) / span;
      svg += Printf("<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#b00\" stroke-width=\"2\"/>\n", xf,
                    y + 1, xf, y + kRow - 1);
    }
  }
  return svg + "</svg>\n";
}

// When the stage's curve last rose (its stage-local seconds).
double LastGain(const Stage& s) {
  double when = 0;
  int best = 0;
  for (const auto& [t, cells] : s.coverage_series) {
    if (cells > best) {
      best = cells;
      when = t;
    }
  }
  return when;
}

// Allowed cells of SPEC.md hit against each simulation stage's own time: one line per stage,
// flat where it stopped finding anything new.
std::string CoverageChart(const Outcome& out) {
  const int kLeft = 50, kWidth = 760, kHeight = 200, kTop = 10, kLegend = 18;
  static const char* kColors[] = {"#1565c0", "#2e7d32", "#c62828", "#6a1b9a", "#ef6c00", "#00838f"};
  double span = 1;
  int lines = 0;
  const int allowed = static_cast<int>(check::AllowedCells().size());
  int low = allowed;  // the axis starts just below the lowest first point: the rises stay visible
  for (const Stage& s : out.stages) {
    if (s.coverage_series.empty()) continue;
    span = std::max(span, s.coverage_series.back().first);
    low = std::min(low, s.coverage_series.front().second);
    ++lines;
  }
  if (lines == 0) return "";
  low = std::max(0, (low - 10) / 10 * 10);
  int height = kTop + kHeight + 24 + lines * kLegend;
  std::string svg = Printf("<svg id=\"coverage-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                           "font-family=\"sans-serif\" font-size=\"11\">\n", kLeft + kWidth + 20, height);
  auto x = [&](double t) { return kLeft + kWidth * t / span; };
  auto y = [&](int cells) {
    return kTop + kHeight - kHeight * static_cast<double>(cells - low) / std::max(1, allowed - low);
  };
  for (int k = 0; k <= 4; ++k) {
    int cells = low + (allowed - low) * k / 4;
    svg += Printf("<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"4\" y=\"%.1f\" "
                  "fill=\"#666\">%d</text>\n", kLeft, y(cells), kLeft + kWidth, y(cells), y(cells) + 4, cells);
  }
  for (int t = 0; t <= 10; ++t) {
    svg += Printf("<text x=\"%.1f\" y=\"%d\" fill=\"#666\" text-anchor=\"middle\">%.1fs</text>\n", x(span * t / 10),
                  kTop + kHeight + 14, span * t / 10);
  }
  int n = 0;
  for (const Stage& s : out.stages) {
    if (s.coverage_series.empty()) continue;
    const char* color = kColors[n % 6];
    std::string points;
    for (const auto& [t, cells] : s.coverage_series) {
      points += Printf("%s%.1f,%.1f", points.empty() ? "" : " ", x(t), y(cells));
    }
    svg += Printf("<polyline class=\"coverage-line\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\">"
                  "<title>%s: %d of %d allowed cells after %s</title></polyline>\n",
                  color, points.c_str(), HtmlEscape(s.title).c_str(), s.coverage_series.back().second, allowed,
                  Seconds(s.coverage_series.back().first).c_str());
    int ly = kTop + kHeight + 24 + n * kLegend;
    svg += Printf("<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"3\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
                  "fill=\"#222\">%s: %d of %d allowed cells, the last new one after %s</text>\n",
                  kLeft, ly + 6, color, kLeft + 18, ly + 10, HtmlEscape(s.title).c_str(), s.coverage_series.back().second,
                  allowed, Seconds(LastGain(s)).c_str());
    ++n;
  }
  return svg + "</svg>\n";
}

std::string FailureSection(const Failure& f, int n) {
  std::string id = Printf("failure-%d", n);
  std::string h = "<section class=\"failure\" id=\"" + id + "\">\n<h3>" + Printf("%d. ", n) +
                  HtmlEscape(f.invariant) + "</h3>\n<table class=\"facts\">";
  h += "<tr><th>found by</th>" + Td(std::string(GroupName(f.group)) + " (" + f.stage_id + ")") + "</tr>";
  h += "<tr><th>invariant broken</th><td class=\"invariant\">" + HtmlEscape(f.invariant) + "</td></tr>";
  if (!f.detail.empty()) h += "<tr><th>detail</th>" + Td(f.detail) + "</tr>";
  if (!f.scenario.empty()) h += "<tr><th>scenario</th>" + Td(f.scenario) + "</tr>";
  h += "<tr><th>planted bug</th>" + Td(f.mutant) + "</tr>";
  h += "<tr><th>detected after</th>" + Td(Seconds(f.after) + " of the stage (" + Seconds(f.wall) +
                                         " of the run), " + Count(f.runs) + " runs") + "</tr></table>\n";
  h += "<p>replay: <code class=\"cmd replay\" id=\"" + id + "-replay\">" + HtmlEscape(f.replay) +
       "</code><button class=\"copy\" data-for=\"" + id + "-replay\">copy</button></p>\n";
  if (!f.tape.empty()) {
    bool shrunk = f.original_tape_bytes > f.tape.size();
    h += Printf("<p>%s: %zu bytes", shrunk ? "shrunk tape" : "tape", f.tape.size()) +
         (shrunk ? Printf(" (from %zu)", f.original_tape_bytes) : std::string()) +
         (f.tape_path.empty() ? std::string() : ", file " + HtmlEscape(f.tape_path)) + "</p>\n";
    h += "<pre class=\"tape\" id=\"" + id + "-tape\">" + Hex(f.tape, kTapeHexBytes) + "</pre>\n";
  }
  if (!f.timeline_svg.empty()) {
    h += "<p>timeline" + (f.timeline_note.empty() ? std::string() : " (" + HtmlEscape(f.timeline_note) + ")") +
         ":</p>\n<div class=\"timeline\" id=\"" + id + "-timeline\">\n" + f.timeline_svg + "</div>\n";
  } else if (!f.timeline_note.empty()) {
    h += "<p class=\"muted\">" + HtmlEscape(f.timeline_note) + "</p>\n";
  }
  if (!f.timeline_text.empty()) {
    h += "<details><summary>timeline as text</summary><pre>" + HtmlEscape(f.timeline_text) + "</pre></details>\n";
  }
  if (!f.log_excerpt.empty()) {
    h += "<details open><summary>report of the run</summary><pre class=\"log\">" + HtmlEscape(f.log_excerpt) +
         "</pre></details>\n";
  }
  return h + "</section>\n";
}

std::string ZooTable(const Outcome& out) {
  static constexpr Group kGroups[] = {Group::kSimPos, Group::kSimRandom, Group::kSimPct, Group::kFuzzing, Group::kStressAsan,
                                      Group::kStressTsan, Group::kSimTsan};
  std::string h = "<table id=\"zoo-table\"><tr><th>bug</th><th>description</th><th>found first by</th><th>after</th>"
                  "<th>runs</th><th>shrunk tape</th>";
  for (Group g : kGroups) h += std::string("<th>") + GroupName(g) + "</th>";
  h += "</tr>\n";
  for (const ZooRow& row : out.zoo) {
    h += std::string("<tr class=\"zoo-row\" id=\"zoo-") + MutantName(row.mutant) + "\">" + Td(MutantName(row.mutant)) +
         Td(MutantDescription(row.mutant));
    if (row.first >= 0) {
      const Failure& f = row.failures[row.first];
      std::size_t best = 0;
      for (const Failure& g : row.failures) {
        if (!g.tape.empty() && (best == 0 || g.tape.size() < best)) best = g.tape.size();
      }
      h += Td(GroupName(f.group), "st-FOUND") + Td(Seconds(f.wall), "num") + Td(Count(f.runs), "num") +
           Td(best > 0 ? Printf("%zu bytes", best) : "-", "num");
    } else {
      h += "<td class=\"st-error\">NOT FOUND</td><td>-</td><td>-</td><td>-</td>";
    }
    for (Group g : kGroups) {
      std::string cell = "-";
      for (const Stage& s : row.stages) {
        if (s.group != g) continue;
        if (s.found_after >= 0) {
          cell = Seconds(s.found_after) + ", " + Count(s.runs_to_find) + " " + s.unit;
          break;
        }
        if (s.state == State::kDone) cell = "missed (" + Seconds(s.Elapsed(0)) + ")";
      }
      h += Td(cell, "num");
    }
    h += "</tr>\n";
  }
  return h + "</table>\n<p class=\"muted\">after: wall time from the start of the bug's campaign; per-stage "
             "columns: that stage's own time and runs to its first detection.</p>\n";
}

}  // namespace

std::string RenderHtmlReport(const Outcome& out, const Options& opt) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<title>wsafault campaign report</title>\n<style>";
  h += kStyle;
  h += "</style>\n</head>\n<body>\n<h1>wsafault " + std::string(out.mode == "zoo" ? "bug zoo" : "campaign") +
       " report</h1>\n";
  const char* cls = out.exit_status == kExitClean ? "ok" : (out.exit_status == kExitViolation ? "bad" : "warn");
  if (out.mode == "zoo") cls = out.exit_status == kExitClean ? "ok" : "bad";
  h += "<p class=\"verdict " + std::string(cls) + "\" id=\"verdict\">" + HtmlEscape(out.verdict) +
       Printf(" (exit status %d)", out.exit_status) + "</p>\n";
  h += "<p id=\"meta\">started " + HtmlEscape(out.started_at) + ", mode " + HtmlEscape(out.mode) +
       ", planted bug " + HtmlEscape(out.mutant) + Printf(", seed %llu, budget %s%s, elapsed %s",
                                                         static_cast<unsigned long long>(opt.seed),
                                                         Seconds(opt.time_sec).c_str(),
                                                         out.mode == "zoo" ? " per bug" : "",
                                                         Seconds(out.elapsed).c_str()) + "</p>\n";
  h += "<p id=\"repeat\">repeat this campaign: <code>" + HtmlEscape(opt.repeat) + "</code></p>\n";
  h += "<h2 id=\"figures-heading\">Figures per stage</h2>\n";
  if (out.mode == "zoo") h += "<p class=\"muted\">Totals over every bug of the zoo.</p>\n";
  h += FiguresTable(out);
  if (out.mode != "zoo") h += "<div class=\"timeline\">" + StageChart(out, opt.time_sec) + "</div>\n";
  if (out.mode != "zoo") {
    std::string chart = CoverageChart(out);
    if (!chart.empty()) {
      h += "<h3 id=\"coverage-time-heading\">Coverage against time, per simulation stage</h3>\n<div class=\"timeline\">" +
           chart + "</div>\n";
    }
  }
  if (out.mode == "zoo") h += "<h2>The bug zoo</h2>\n" + ZooTable(out);
  h += "<h2 id=\"coverage-heading\">Coverage of SPEC.md (simulation)</h2>\n" + RenderCoverageHtml(out.coverage);
  h += Printf("<h2 id=\"failures-heading\">Failures (%zu)</h2>\n<div id=\"failures\">\n", out.failures.size());
  if (out.failures.empty()) h += "<p>No stage found a violation.</p>\n";
  int n = 0;
  for (const Failure& f : out.failures) h += FailureSection(f, ++n);
  h += "</div>\n<script>";
  h += kScript;
  h += "</script>\n</body>\n</html>\n";
  return h;
}

}  // namespace wsaf::campaign
