// ThreadSanitizer inside the simulation (the tsan preset, WSAF_SIM_TSAN): a data race between
// two simulated threads is a TSan report on a tape. TSan calls __tsan_on_report for every report
// it prints; the runner compares the count before and after a run, and a run that added one is
// a "data-race" violation, shrunk and replayed like any other (TSan prints its report again on
// every replay: equal stacks and addresses are not suppressed in this binary).
//
// Thread safety: the count is bumped by TSan on the thread that races (the simulation's one OS
// thread); read it on that thread.
#ifndef WSAFAULT_SIM_TSAN_REPORTS_H_
#define WSAFAULT_SIM_TSAN_REPORTS_H_

#include <cstddef>
#include <cstdint>

namespace wsaf::sim {

struct Run;

// Reports TSan has printed in this process (always 0 outside the tsan preset).
uint64_t TsanReportCount();

// The run being watched: a report notes how many of its events were logged by then (the race
// happened after the last of them), once per watch. Null stops watching.
void WatchTsanReports(const Run* run);
// Events logged before the watched run's first report; SIZE_MAX when none came.
std::size_t EventsBeforeFirstTsanReport();

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_TSAN_REPORTS_H_
