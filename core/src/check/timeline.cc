// The text timeline.
#include "check/timeline.h"

#include <cinttypes>
#include <cstdio>

#include "check/event_format.h"
#include "check/names.h"
#include "check/reference_model.h"

namespace wsaf::check {

using sim::Event;
using sim::EventType;

namespace {

uint64_t HandleOf(const Event& e) {
  if (e.type == EventType::kPeek || e.type == EventType::kGet) {
    return HasCompletionMessage(e) ? e.msg_wparam : 0;
  }
  return e.handle;
}

// The model state the line shows after event `index`.
std::string StateAfter(const sim::Run& run, const ReferenceModel& model, std::size_t index) {
  const Event& e = run.events[index];
  switch (e.type) {
    case EventType::kStartup:
    case EventType::kCleanup:
    case EventType::kNetworkDown: return DescribeGlobal(model.GlobalAfter(index));
    case EventType::kCreateWindow:
    case EventType::kDestroyWindow: {
      if (e.window < 0) return "";
      std::size_t gone = model.WindowDestroyed(e.window);
      return "window " + std::to_string(e.window) + (gone != kNever && gone <= index ? " gone" : " alive");
    }
    default: break;
  }
  uint64_t h = HandleOf(e);
  const Request* r = h != 0 ? model.Find(h) : nullptr;
  if (r == nullptr) return "";
  if (!r->app) return "not returned by any start";
  return DescribeView(model.ViewAt(*r, index));
}

bool Touches(const Event& e, uint64_t handle) { return handle != 0 && HandleOf(e) == handle; }

}  // namespace

std::string TimelineLine(const sim::Run& run, const ReferenceModel& model, std::size_t index) {
  const Event& e = run.events[index];
  std::string call = DescribeCall(e);
  std::string result = DescribeResult(e);
  std::string state = StateAfter(run, model, index);
  char head[96];
  std::snprintf(head, sizeof head, "#%-5zu step %-7" PRIu64 " %7" PRId64 "ms  %-3s ", index, e.step,
                e.time_ms, ThreadLabel(run, e.thread).c_str());
  std::string line = head + call;
  if (!result.empty()) line += " -> " + result;
  if (!state.empty()) line += "  [" + state + "]";
  return line;
}

std::string RenderTimelineText(const sim::Run& run, const sim::Violation* v, std::size_t context) {
  ReferenceModel model(&run);
  for (std::size_t i = 0; i < run.events.size(); ++i) model.Observe(i);
  std::string out;
  if (v != nullptr) {
    out += "VIOLATION " + v->invariant + " at #" + std::to_string(v->event_index);
    if (v->handle != 0) out += " (handle " + HandleString(v->handle) + ")";
    out += "\n  " + v->detail + "\n";
  }
  // The violating request's window: its creation and destruction are part of its story (a
  // request stranded in a destroyed window, a message posted after DestroyWindow).
  int window = -1;
  for (const Event& e : run.events) {
    if (v != nullptr && Touches(e, v->handle) && e.window >= 0) {
      window = e.window;
      break;
    }
  }
  std::size_t shown = 0;
  std::string lines;
  bool gap = false;
  for (std::size_t i = 0; i < run.events.size(); ++i) {
    const Event& e = run.events[i];
    bool marked = v != nullptr && i == v->event_index;
    bool near = v == nullptr || (i + context >= v->event_index && i <= v->event_index + context);
    bool its_window = window >= 0 && e.window == window &&
                      (e.type == EventType::kCreateWindow || e.type == EventType::kDestroyWindow);
    if (!near && !its_window && !(v != nullptr && Touches(e, v->handle))) {
      gap = true;
      continue;
    }
    if (gap && shown > 0) lines += "    ...\n";
    gap = false;
    ++shown;
    lines += (marked ? "* " : "  ") + TimelineLine(run, model, i) + "\n";
  }
  if (gap && shown > 0) lines += "    ...\n";
  out += "timeline: " + std::to_string(shown) + " of " + std::to_string(run.events.size()) + " events";
  out += v != nullptr ? " (* marks the violating event)\n" : "\n";
  return out + lines;
}

}  // namespace wsaf::check
