// A run as people read it: a text timeline (one line per event) for terminals and reports, and
// a picture (SVG, or an HTML page around it) with one lane per thread and each request's
// lifecycle drawn across the lanes.
//
// Text: "  #12   step 40      120ms  T1  WSACancelAsyncRequest(0x400001) -> SOCKET_ERROR,
// WSAEALREADY  [SEEN-QUEUED]" — event index, scheduler step, virtual time, thread, the call,
// what it returned, and the model state of the event's request after it (the session for
// startup, cleanup and network events). With a violation, only the `context` events either side
// of it and every event of its handle are shown; the violating event is marked "*" and the
// report begins with the invariant and its detail.
//
// Picture: self-contained (inline SVG and CSS, no script, no external reference; the only URL
// is the SVG namespace). Marks carry their text line as a tooltip (<title>); the violating step
// is drawn in red.
//
// Thread safety: pure functions of the run (they replay a ReferenceModel of their own).
#ifndef WSAFAULT_CHECK_TIMELINE_H_
#define WSAFAULT_CHECK_TIMELINE_H_

#include <cstddef>
#include <string>

#include "sim/events.h"

namespace wsaf::check {

// `v` may be null: then every event is shown.
std::string RenderTimelineText(const sim::Run& run, const sim::Violation* v, std::size_t context);
std::string RenderTimelineSvg(const sim::Run& run, const sim::Violation* v);
std::string RenderTimelineHtml(const sim::Run& run, const sim::Violation* v);

// One event's line without the marker (what the tooltips show). `model` has observed the run.
class ReferenceModel;
std::string TimelineLine(const sim::Run& run, const ReferenceModel& model, std::size_t index);

}  // namespace wsaf::check

#endif  // WSAFAULT_CHECK_TIMELINE_H_
