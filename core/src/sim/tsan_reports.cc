#include "sim/tsan_reports.h"

#include <cstdint>

#include "sim/events.h"

namespace wsaf::sim {

uint64_t g_tsan_reports = 0;  // bumped by __tsan_on_report below
const Run* g_watched = nullptr;
std::size_t g_events_before_first = SIZE_MAX;

uint64_t TsanReportCount() { return g_tsan_reports; }

void WatchTsanReports(const Run* run) {
  if (run != nullptr) g_events_before_first = SIZE_MAX;  // a new watch; stopping keeps the note
  g_watched = run;
}

std::size_t EventsBeforeFirstTsanReport() { return g_events_before_first; }

void NoteTsanReport() {
  ++g_tsan_reports;
  if (g_watched != nullptr && g_events_before_first == SIZE_MAX) g_events_before_first = g_watched->events.size();
}

}  // namespace wsaf::sim

#if defined(WSAF_SIM_TSAN)
// TSan's weak hooks (compiler-rt tsan_rtl_report.cpp, tsan_flags.cpp).
extern "C" void __tsan_on_report(const void* /*report*/) { wsaf::sim::NoteTsanReport(); }
// A replay of a racing tape must report again, so the shrinker keeps the race: no dedup.
extern "C" const char* __tsan_default_options() {
  return "suppress_equal_stacks=0:suppress_equal_addresses=0:halt_on_error=0";
}
#endif
