#include "sim/tsan_reports.h"

namespace wsaf::sim {

uint64_t g_tsan_reports = 0;  // bumped by __tsan_on_report below

uint64_t TsanReportCount() { return g_tsan_reports; }

}  // namespace wsaf::sim

#if defined(WSAF_SIM_TSAN)
// TSan's weak hooks (compiler-rt tsan_rtl_report.cpp, tsan_flags.cpp).
extern "C" void __tsan_on_report(const void* /*report*/) { ++wsaf::sim::g_tsan_reports; }
// A replay of a racing tape must report again, so the shrinker keeps the race: no dedup.
extern "C" const char* __tsan_default_options() {
  return "suppress_equal_stacks=0:suppress_equal_addresses=0:halt_on_error=0";
}
#endif
