// The timelines: the text report shows the violation's neighbourhood and every event of its
// handle with the model state, the SVG is well formed and marks the violating step, and the
// HTML page is self-contained.
#include "check/timeline.h"

#include <gtest/gtest.h>

#include <string>

#include "check/checker.h"
#include "check/reference_model.h"
#include "sim/events.h"

namespace wsaf::check {
namespace {

using sim::Event;
using sim::EventType;

constexpr uint64_t kH1 = 0x400001;
constexpr uint64_t kH2 = 0x800002;

Event Make(int thread, EventType type) {
  Event e;
  e.thread = thread;
  e.type = type;
  return e;
}

void Append(sim::Run* run, Event e) {
  e.step = run->events.size() * 2;
  e.time_ms = static_cast<int64_t>(run->events.size()) * 5;
  run->events.push_back(e);
}

Event Completion(int thread, uint64_t handle, int error) {
  Event e = Make(thread, EventType::kPeek);
  e.arg = PM_NOREMOVE;
  e.result = 1;
  e.msg_message = kCompletionMsg;
  e.msg_wparam = handle;
  e.msg_lparam = static_cast<int64_t>(WSAMAKEASYNCREPLY(0, error));
  return e;
}

// T0 starts kH1 and kH2; the resolver answers kH1; T1 sees its message queued; T0 cancels it
// and gets WSAEINVAL, which SPEC forbids (WSAEALREADY while queued). `filler` unrelated events
// separate the start of kH1 from the rest.
sim::Run ViolatingRun(int filler) {
  sim::Run run;
  run.app_threads = 2;
  Event startup = Make(0, EventType::kStartup);
  startup.arg = MAKEWORD(2, 2);
  Append(&run, startup);
  Event window = Make(0, EventType::kCreateWindow);
  window.window = 0;
  window.result = TRUE;
  Append(&run, window);
  for (uint64_t h : {kH1, kH2}) {
    Event start = Make(0, EventType::kStart);
    start.kind = 0;
    start.window = 0;
    start.buflen = 0;
    start.handle = h;
    Append(&run, start);
  }
  for (int i = 0; i < filler; ++i) Append(&run, Make(1, EventType::kPostUser));
  Event begin = Make(2, EventType::kResolverBegin);
  begin.handle = kH1;
  begin.answer.error = WSAHOST_NOT_FOUND;
  Append(&run, begin);
  Event end = Make(2, EventType::kResolverEnd);
  end.handle = kH1;
  Append(&run, end);
  Append(&run, Completion(1, kH1, WSAHOST_NOT_FOUND));
  Append(&run, Make(0, EventType::kPeek));
  Event cancel = Make(0, EventType::kCancel);
  cancel.handle = kH1;
  cancel.result = SOCKET_ERROR;
  cancel.error = WSAEINVAL;
  Append(&run, cancel);
  for (int i = 0; i < filler; ++i) Append(&run, Make(1, EventType::kPostUser));
  Append(&run, Make(0, EventType::kThreadEnd));
  Append(&run, Make(1, EventType::kThreadEnd));
  return run;
}

sim::Violation CheckRun(sim::Run* run) {
  Checker checker(run);
  for (std::size_t i = 0; i < run->events.size(); ++i) {
    if (!checker.OnEvent(i)) return checker.violation();
  }
  EXPECT_FALSE(checker.AtEnd()) << "the run was meant to break a rule";
  return checker.violation();
}

std::size_t Count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

TEST(TimelineTest, TextMarksTheViolationAndShowsModelStates) {
  sim::Run run = ViolatingRun(0);
  sim::Violation v = CheckRun(&run);
  ASSERT_EQ(v.invariant, kInvApiResult);
  std::string text = RenderTimelineText(run, &v, 3);
  EXPECT_EQ(text.find("VIOLATION api-result at #" + std::to_string(v.event_index)), 0u) << text;
  EXPECT_NE(text.find(v.detail), std::string::npos);
  std::string marked = "* #" + std::to_string(v.event_index) + " ";
  ASSERT_NE(text.find(marked), std::string::npos) << text;
  std::string line = text.substr(text.find(marked));
  line = line.substr(0, line.find('\n'));
  EXPECT_NE(line.find("WSACancelAsyncRequest(0x400001) -> SOCKET_ERROR, WSAEINVAL"), std::string::npos) << line;
  EXPECT_NE(line.find("T0"), std::string::npos) << line;
  EXPECT_NE(text.find("[SEEN-QUEUED]"), std::string::npos) << text;
  EXPECT_NE(text.find("resolver: deliver 0x400001 (answer WSAHOST_NOT_FOUND)"), std::string::npos);
  std::string all = RenderTimelineText(run, nullptr, 0);
  EXPECT_NE(all.find("[refs 1, epoch 0, Winsock 2.2, network up]"), std::string::npos) << all;
  EXPECT_EQ(Count(text, "\n* "), 1u);
}

TEST(TimelineTest, TextKeepsTheContextAndEveryEventOfTheHandle) {
  sim::Run run = ViolatingRun(20);
  sim::Violation v = CheckRun(&run);
  ASSERT_EQ(v.invariant, kInvApiResult);
  std::string text = RenderTimelineText(run, &v, 2);
  // kH1's start is far from the violation but belongs to its handle; kH2's start does not.
  EXPECT_NE(text.find("-> 0x400001"), std::string::npos) << text;
  EXPECT_EQ(text.find("-> 0x800002"), std::string::npos) << text;
  EXPECT_NE(text.find("    ...\n"), std::string::npos);
  EXPECT_LT(Count(text, "PostMessage"), 20u);
  std::string all = RenderTimelineText(run, nullptr, 0);
  EXPECT_EQ(all.find("VIOLATION"), std::string::npos);
  EXPECT_EQ(Count(all, "PostMessage"), 40u);
  EXPECT_NE(all.find("timeline: " + std::to_string(run.events.size()) + " of "), std::string::npos);
}

TEST(TimelineTest, SvgIsWellFormedAndMarksTheViolation) {
  sim::Run run = ViolatingRun(3);
  sim::Violation v = CheckRun(&run);
  std::string svg = RenderTimelineSvg(run, &v);
  ASSERT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(Count(svg, "<svg"), Count(svg, "</svg>"));
  EXPECT_EQ(Count(svg, "<g"), Count(svg, "</g>"));
  EXPECT_EQ(Count(svg, "<title>"), Count(svg, "</title>"));
  EXPECT_EQ(Count(svg, "<circle"), Count(svg, "</circle>"));
  EXPECT_EQ(Count(svg, "<text"), Count(svg, "</text>"));
  EXPECT_EQ(Count(svg, "<circle"), run.events.size());
  EXPECT_EQ(Count(svg, "violation-mark"), 2u);  // the style rule and the one mark
  EXPECT_NE(svg.find("class=\"violation-line\""), std::string::npos);
  EXPECT_NE(svg.find(">resolver</text>"), std::string::npos);
  // Two requests, two bars; the tooltip of the cancel names it.
  EXPECT_EQ(Count(svg, "<polyline"), 2u);
  EXPECT_NE(svg.find("WSACancelAsyncRequest(0x400001) -&gt; SOCKET_ERROR, WSAEINVAL"), std::string::npos);
  // No stray markup from the text escaped into attributes or content.
  EXPECT_EQ(svg.find("->"), std::string::npos);
  std::string clean = RenderTimelineSvg(run, nullptr);
  EXPECT_EQ(clean.find("class=\"violation-line\""), std::string::npos);
  EXPECT_EQ(Count(clean, "<g"), Count(clean, "</g>"));
}

TEST(TimelineTest, HtmlIsSelfContained) {
  sim::Run run = ViolatingRun(2);
  sim::Violation v = CheckRun(&run);
  std::string html = RenderTimelineHtml(run, &v);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("</html>"), std::string::npos);
  EXPECT_NE(html.find("api-result"), std::string::npos);
  std::string without_ns = html;
  const std::string ns = "http://www.w3.org/2000/svg";
  for (std::size_t at; (at = without_ns.find(ns)) != std::string::npos;) without_ns.erase(at, ns.size());
  EXPECT_EQ(without_ns.find("http://"), std::string::npos);
  EXPECT_EQ(without_ns.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
}

TEST(TimelineTest, EmptyRunRenders) {
  sim::Run run;
  EXPECT_NE(RenderTimelineText(run, nullptr, 5).find("timeline: 0 of 0 events"), std::string::npos);
  std::string svg = RenderTimelineSvg(run, nullptr);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_EQ(Count(svg, "<g"), Count(svg, "</g>"));
}

}  // namespace
}  // namespace wsaf::check
