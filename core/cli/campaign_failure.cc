// Turning a failing tape into what the report shows: the replayed run's text timeline and its
// picture. A run of hundreds of thousands of events (handle-wrap) would make a picture of
// hundreds of megabytes, so long runs are drawn as a window: the events around the violation
// plus the violating handle's own history.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "campaign.h"
#include "campaign_util.h"
#include "check/timeline.h"
#include "sim/runner.h"

namespace wsaf::campaign {

namespace {

constexpr std::size_t kMaxPictureEvents = 1500;
constexpr std::size_t kWindowBefore = 90;
constexpr std::size_t kWindowAfter = 10;
constexpr std::size_t kHandleHistory = 24;  // first and last events of the violating handle

// A sub-run of the events that matter; `v` is re-indexed into it.
sim::Run WindowOf(const sim::Run& run, const sim::Violation& v, sim::Violation* out_v, std::string* note) {
  std::size_t vi = std::min(v.event_index, run.events.size() - 1);
  std::set<std::size_t> keep;
  std::size_t lo = vi > kWindowBefore ? vi - kWindowBefore : 0;
  std::size_t hi = std::min(run.events.size(), vi + kWindowAfter + 1);
  for (std::size_t i = lo; i < hi; ++i) keep.insert(i);
  if (v.handle != 0) {
    std::vector<std::size_t> mine;
    for (std::size_t i = 0; i < run.events.size(); ++i) {
      if (run.events[i].handle == v.handle && (i < lo || i >= hi)) mine.push_back(i);
    }
    for (std::size_t k = 0; k < mine.size(); ++k) {
      if (k < kHandleHistory / 2 || k + kHandleHistory / 2 >= mine.size()) keep.insert(mine[k]);
    }
  }
  sim::Run w;
  w.buffers = run.buffers;
  w.app_threads = run.app_threads;
  w.windows = run.windows;
  *out_v = v;
  for (std::size_t i : keep) {
    if (i == vi) out_v->event_index = w.events.size();
    w.events.push_back(run.events[i]);
  }
  *note = Printf("a window of %zu of the run's %s events: #%zu..#%zu and the history of the "
                 "violating handle (lifecycle bars of requests started earlier are cut)",
                 w.events.size(), Count(run.events.size()).c_str(), lo, hi - 1);
  return w;
}

}  // namespace

// Fills the failure's timelines from a replay of `tape`.
void DrawFailure(const sim::RunSettings& settings, const std::vector<uint8_t>& tape, Failure* f) {
  sim::RunResult shown = sim::ReplayTape(settings, tape);
  if (!shown.violation) {
    f->timeline_note = "the replay of the tape did not reproduce the violation";
    f->timeline_text = check::RenderTimelineText(shown.run, nullptr, 40);
    return;
  }
  const sim::Violation& v = *shown.violation;
  f->timeline_text = check::RenderTimelineText(shown.run, &v, 12);
  if (shown.run.events.size() <= kMaxPictureEvents) {
    f->timeline_svg = check::RenderTimelineSvg(shown.run, &v);
    return;
  }
  sim::Violation wv;
  sim::Run window = WindowOf(shown.run, v, &wv, &f->timeline_note);
  f->timeline_svg = check::RenderTimelineSvg(window, &wv);
}

void CompleteFailures(const Options& opt, std::vector<Failure>* failures) {
  (void)opt;
  for (Failure& f : *failures) {
    if (!f.timeline_svg.empty() || !f.tape.empty() || f.tape_path.empty()) continue;
    sim::TapeFile file;
    std::string error;
    if (!sim::ReadTapeFile(f.tape_path, &file, &error)) {
      f.timeline_note = "cannot read the tape: " + error;
      continue;
    }
    // After a crash in this process the simulator is not trusted to draw a timeline, but a
    // child's tape (the TSan lane's) is only a file: it is still reported.
    if (SimulationCrashed()) {
      f.tape = file.tape;
      f.scenario = file.scenario;
      f.timeline_note = "no timeline: the simulation crashed in this process";
      continue;
    }
    sim::RunSettings settings;
    if (!sim::LookupScenario(file.scenario, &settings.scenario)) {
      f.timeline_note = "unknown scenario " + file.scenario;
      continue;
    }
    settings.scenario.allowed_faults &= file.allowed_faults;
    SelectMutant(file.mutant);
    f.tape = file.tape;
    f.scenario = file.scenario;
    DrawFailure(settings, file.tape, &f);
  }
}

}  // namespace wsaf::campaign
