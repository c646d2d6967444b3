// The timeline as a picture: SVG lanes per thread, request lifecycles across them, and an HTML
// page that wraps the SVG together with the text timeline.
#include <algorithm>
#include <string>
#include <vector>

#include "check/event_format.h"
#include "check/names.h"
#include "check/reference_model.h"
#include "check/timeline.h"

namespace wsaf::check {

using sim::Event;
using sim::EventType;

namespace {

constexpr int kLeft = 70;    // lane labels
constexpr int kTop = 34;     // axis
constexpr int kLaneH = 36;
constexpr int kRowH = 12;    // one request bar
constexpr int kRight = 110;  // room for the last request's label

std::string Escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

struct Layout {
  int lanes = 1;
  double dx = 14;
  int width = 0;
  int rows_top = 0;
  int height = 0;
  double X(std::size_t i) const { return kLeft + 12 + dx * static_cast<double>(i); }
  double LaneY(int lane) const { return kTop + lane * kLaneH + kLaneH / 2.0; }
  double RowY(std::size_t row) const { return rows_top + static_cast<double>(row) * kRowH + kRowH / 2.0; }
};

int LaneOf(const Layout& l, int thread) {
  return thread >= 0 && thread < l.lanes ? thread : l.lanes - 1;
}

const char* MarkClass(const Event& e) {
  switch (e.type) {
    case EventType::kStart: return "ev-start";
    case EventType::kCancel: return "ev-cancel";
    case EventType::kPeek:
    case EventType::kGet: return HasCompletionMessage(e) ? "ev-message" : "ev-pump";
    case EventType::kResolverBegin:
    case EventType::kResolverEnd: return "ev-resolver";
    case EventType::kStartup:
    case EventType::kCleanup:
    case EventType::kNetworkDown: return "ev-session";
    case EventType::kBlockingCall:
    case EventType::kHookCall:
    case EventType::kHookCancel: return "ev-blocking";
    default: return "ev-other";
  }
}

// How a request ended and at which event (the bar's right end).
struct Ending {
  const char* css;
  const char* what;
  std::size_t at;
};

Ending EndingOf(const sim::Run& run, const ReferenceModel& m, const Request& r) {
  std::size_t last = run.events.empty() ? 0 : run.events.size() - 1;
  if (r.cancel_ok != kNever) return {"req-canceled", "canceled", r.cancel_ok};
  if (r.removed != kNever) return {"req-delivered", "delivered", r.removed};
  HandleView v = m.ViewAt(r, last);
  std::size_t f = m.EpochEnd(r.epoch);
  if (v.swallowed) return {"req-swallowed", "swallowed by the final cleanup", f};
  if (v.window_gone) {
    std::size_t gone = r.window < 0 ? r.start : m.WindowDestroyed(r.window);
    return {"req-orphaned", "orphaned (window gone)", std::max(gone, r.end == kNever ? gone : r.end)};
  }
  if (v.stale) return {"req-swallowed", "session ended", f};
  return {"req-open", "never delivered", last};
}

void AppendStyle(std::string* out) {
  *out +=
      "<style>"
      ".lane{fill:#f4f6f8}.lane-alt{fill:#eaeef2}.label{fill:#222;font-weight:bold}"
      ".tick{stroke:#bbb;stroke-width:0.5}.ticklabel{fill:#666;font-size:9px}"
      ".mark{stroke:#222;stroke-width:0.6}.ev-start{fill:#2f6fd0}.ev-cancel{fill:#e67e22}"
      ".ev-message{fill:#27ae60}.ev-pump{fill:#c8e6c9}.ev-resolver{fill:#7f8c8d}"
      ".ev-session{fill:#111}.ev-blocking{fill:#9b59b6}.ev-other{fill:#ddd}"
      "polyline.path{fill:none;stroke-width:1.2;opacity:0.55}"
      ".req-delivered{stroke:#27ae60;fill:#27ae60}.req-canceled{stroke:#888;fill:#aaa}"
      ".req-swallowed{stroke:#d68910;fill:#f0b041}.req-orphaned{stroke:#8e44ad;fill:#b07cc6}"
      ".req-open{stroke:#c0392b;fill:#e6a19a}"
      ".violation-line{stroke:#d00;stroke-width:1.5;stroke-dasharray:4 3}"
      ".violation-mark{fill:#d00;stroke:#600;stroke-width:1}.violation-text{fill:#d00;font-weight:bold}"
      "</style>\n";
}

void AppendLanes(const sim::Run& run, const Layout& l, std::string* out) {
  *out += "<g class=\"lanes\">\n";
  for (int lane = 0; lane < l.lanes; ++lane) {
    int y = kTop + lane * kLaneH;
    *out += "<rect class=\"" + std::string(lane % 2 ? "lane-alt" : "lane") + "\" x=\"0\" y=\"" +
            std::to_string(y) + "\" width=\"" + std::to_string(l.width) + "\" height=\"" +
            std::to_string(kLaneH) + "\"/>\n";
    std::string name = lane == l.lanes - 1 ? "resolver" : ThreadLabel(run, lane);
    *out += "<text class=\"label\" x=\"8\" y=\"" + Num(l.LaneY(lane) + 4) + "\">" + Escape(name) + "</text>\n";
  }
  *out += "</g>\n<g class=\"axis\">\n";
  std::size_t every = l.dx >= 10 ? 10 : 50;
  for (std::size_t i = 0; i < run.events.size(); i += every) {
    std::string x = Num(l.X(i));
    *out += "<line class=\"tick\" x1=\"" + x + "\" y1=\"" + std::to_string(kTop - 6) + "\" x2=\"" + x +
            "\" y2=\"" + std::to_string(l.height - 4) + "\"/>\n";
    *out += "<text class=\"ticklabel\" x=\"" + x + "\" y=\"" + std::to_string(kTop - 10) + "\">#" +
            std::to_string(i) + " s" + std::to_string(run.events[i].step) + "</text>\n";
  }
  *out += "</g>\n";
}

void AppendRequests(const sim::Run& run, const ReferenceModel& m, const Layout& l, std::string* out) {
  *out += "<g class=\"requests\">\n";
  std::size_t row = 0;
  for (const Request& r : m.requests()) {
    if (!r.app) continue;
    Ending end = EndingOf(run, m, r);
    std::string title = DescribeRequest(run, r) + ": " + end.what;
    if (r.begin != kNever) title += "; resolver #" + std::to_string(r.begin);
    *out += "<g class=\"" + std::string(end.css) + "\"><title>" + Escape(title) + "</title>\n";
    // The lifecycle across the lanes: start, resolver, observations, cancel.
    std::vector<std::size_t> steps = {r.start, r.begin, r.end, r.seen, r.removed, r.cancel_ok};
    std::sort(steps.begin(), steps.end());
    std::string points;
    for (std::size_t s : steps) {
      if (s == kNever) continue;
      points += Num(l.X(s)) + "," + Num(l.LaneY(LaneOf(l, run.events[s].thread))) + " ";
    }
    *out += "<polyline class=\"path " + std::string(end.css) + "\" points=\"" + points + "\"/>\n";
    double x0 = l.X(r.start), x1 = std::max(l.X(end.at), x0 + 3);
    *out += "<rect class=\"" + std::string(end.css) + "\" x=\"" + Num(x0) + "\" y=\"" +
            Num(l.RowY(row) - kRowH / 2.0 + 2) + "\" width=\"" + Num(x1 - x0) + "\" height=\"" +
            std::to_string(kRowH - 4) + "\" rx=\"2\"/>\n";
    *out += "<text class=\"ticklabel\" x=\"" + Num(x1 + 4) + "\" y=\"" + Num(l.RowY(row) + 3) + "\">" +
            Escape(HandleString(r.handle)) + "</text>\n</g>\n";
    ++row;
  }
  *out += "</g>\n";
}

void AppendEvents(const sim::Run& run, const ReferenceModel& m, const Layout& l,
                  const sim::Violation* v, std::string* out) {
  *out += "<g class=\"events\">\n";
  for (std::size_t i = 0; i < run.events.size(); ++i) {
    const Event& e = run.events[i];
    bool bad = v != nullptr && v->event_index == i;
    *out += "<circle class=\"" + std::string(bad ? "violation-mark" : std::string("mark ") + MarkClass(e)) +
            "\" cx=\"" + Num(l.X(i)) + "\" cy=\"" + Num(l.LaneY(LaneOf(l, e.thread))) + "\" r=\"" +
            (bad ? "7" : "4") + "\"><title>" + Escape(TimelineLine(run, m, i)) + "</title></circle>\n";
  }
  *out += "</g>\n";
  if (v == nullptr || v->event_index >= run.events.size()) return;
  std::string x = Num(l.X(v->event_index));
  *out += "<g class=\"violation\"><title>" + Escape(v->invariant + ": " + v->detail) + "</title>\n";
  *out += "<line class=\"violation-line\" x1=\"" + x + "\" y1=\"" + std::to_string(kTop) + "\" x2=\"" + x +
          "\" y2=\"" + std::to_string(l.height - 4) + "\"/>\n";
  *out += "<text class=\"violation-text\" x=\"" + Num(l.X(v->event_index) + 6) + "\" y=\"" +
          std::to_string(l.height - 8) + "\">" + Escape(v->invariant) + " at #" +
          std::to_string(v->event_index) + "</text>\n</g>\n";
}

Layout MakeLayout(const sim::Run& run, const ReferenceModel& m) {
  Layout l;
  int threads = run.app_threads;
  for (const Event& e : run.events) threads = std::max(threads, e.thread == run.app_threads ? 0 : e.thread + 1);
  l.lanes = threads + 1;  // the resolver's lane is last
  std::size_t n = std::max<std::size_t>(run.events.size(), 1);
  l.dx = std::clamp(1400.0 / static_cast<double>(n), 4.0, 18.0);
  l.width = static_cast<int>(l.X(n) + kRight);
  std::size_t rows = 0;
  for (const Request& r : m.requests()) rows += r.app;
  l.rows_top = kTop + l.lanes * kLaneH + 14;
  l.height = l.rows_top + static_cast<int>(rows) * kRowH + 24;
  return l;
}

}  // namespace

std::string RenderTimelineSvg(const sim::Run& run, const sim::Violation* v) {
  ReferenceModel m(&run);
  for (std::size_t i = 0; i < run.events.size(); ++i) m.Observe(i);
  Layout l = MakeLayout(run, m);
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(l.width) +
                    "\" height=\"" + std::to_string(l.height) + "\" viewBox=\"0 0 " +
                    std::to_string(l.width) + " " + std::to_string(l.height) +
                    "\" font-family=\"monospace\" font-size=\"11\">\n";
  out += "<title>" + Escape(v != nullptr ? "wsafault run: " + v->invariant : std::string("wsafault run")) +
         "</title>\n";
  AppendStyle(&out);
  AppendLanes(run, l, &out);
  AppendRequests(run, m, l, &out);
  AppendEvents(run, m, l, v, &out);
  out += "</svg>\n";
  return out;
}

std::string RenderTimelineHtml(const sim::Run& run, const sim::Violation* v) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>wsafault timeline</title>\n"
      "<style>body{font-family:sans-serif;margin:1em;color:#222}"
      ".violation{color:#b00;border:1px solid #e99;background:#fff4f4;padding:0.5em}"
      ".box{overflow-x:auto;border:1px solid #ddd;margin:1em 0}"
      "pre{font-size:12px;background:#f8f8f8;padding:0.5em;overflow-x:auto}"
      ".key span{display:inline-block;margin-right:1.2em}</style>\n</head>\n<body>\n"
      "<h1>wsafault run timeline</h1>\n";
  if (v != nullptr) {
    out += "<p class=\"violation\"><b>" + Escape(v->invariant) + "</b> at event #" +
           std::to_string(v->event_index) +
           (v->handle != 0 ? " (handle " + Escape(HandleString(v->handle)) + ")" : std::string()) + "<br>" +
           Escape(v->detail) + "</p>\n";
  } else {
    out += "<p>No violation.</p>\n";
  }
  out += "<p class=\"key\"><span>lanes: application threads, then the resolver</span>"
         "<span>bars: requests (green delivered, grey canceled, orange swallowed, purple orphaned, "
         "red never delivered)</span><span>hover a mark for its event</span></p>\n";
  out += "<div class=\"box\">\n" + RenderTimelineSvg(run, v) + "</div>\n";
  out += "<h2>Events</h2>\n<pre>" + Escape(RenderTimelineText(run, v, run.events.size())) + "</pre>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace wsaf::check
