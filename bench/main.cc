// wsafault_bench: the cancel benchmarks of issue 6, ours beside glibc, libuv, a mutex-map
// baseline and a lock-free floor, in one binary and one run.
//
//   wsafault_bench [--wsaf_smoke] [--wsaf_long] [--wsaf_table_limit=N] [Google Benchmark flags]
//     --wsaf_smoke          small arguments only (ctest runs this with --benchmark_min_time=0.01)
//     --wsaf_long           also BM_WsafMemory_Canceled/10000000
//     --wsaf_table_limit=N  caps the task table at N slots (TaskTable::SetCapacityLimit), to see
//                           what a full table does to the numbers
//
// Benchmarks run in registration order: the cheap single-thread pairs first, while the table
// is small and its free list in order; the million-request occupancy and memory runs last,
// because they leave the table grown (it never shrinks).
#include <ares.h>
#include <gnu/libc-version.h>
#include <uv.h>

#include <cstdio>
#include <string>

#include "bench_common.h"

int main(int argc, char** argv) {
  wsaf_bench::ParseFlags(&argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
    std::fprintf(stderr, "wsafault_bench: ares_library_init failed\n");
    return 1;
  }
  std::string error;
  if (!wsaf_bench::BenchEnv::Get().Init(&error)) {
    std::fprintf(stderr, "wsafault_bench: %s\n", error.c_str());
    return 1;
  }
  benchmark::AddCustomContext("c-ares", ares_version(nullptr));
  benchmark::AddCustomContext("glibc", gnu_get_libc_version());
  benchmark::AddCustomContext("libuv", uv_version_string());
  // Which wsafault this measured (issue 13: the release preset, without the planted bugs).
#if defined(WSAFAULT_MUTANTS)
  const char* mutants = "planted bugs compiled in (WSAFAULT_MUTANTS=ON, inert)";
#else
  const char* mutants = "no planted bugs (WSAFAULT_MUTANTS=OFF)";
#endif
#if defined(WSAFAULT_NO_SIM_HOOKS)
  const char* hooks = "the production library (simulation hooks compiled out)";
#else
  const char* hooks = "the library with the simulation's hooks (one test of g_hooks per seam)";
#endif
  benchmark::AddCustomContext("wsafault_build",
                              std::string(WSAF_BENCH_BUILD_TYPE) + ", " + mutants + ", " + hooks);

  wsaf_bench::RegisterPairBenchmarks();
  wsaf_bench::RegisterPeerBenchmarks();
  wsaf_bench::RegisterDispatchBenchmarks();
  wsaf_bench::RegisterEndToEndBenchmarks();
  wsaf_bench::RegisterLoadBenchmarks();
  wsaf_bench::RegisterOccupancyBenchmarks();

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  wsaf_bench::BenchEnv::Get().Shutdown();
  ares_library_cleanup();
  return 0;
}
