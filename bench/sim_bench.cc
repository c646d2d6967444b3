// The deterministic simulation's speed: decisions and complete runs per second on the
// standard scenario (three application threads, twenty operations each), with the checker on,
// beside the bare scheduler (no table, no checker) as the floor.
#include <benchmark/benchmark.h>

#include "sim/runner.h"
#include "sim/scheduler.h"

namespace {

// range(0): 0 standard, 1 tiny. range(1): the scheduling points and memory model, 0 the named
// sites alone under SC (every tape before issue 11), 1 every atomic a point under SC, 2 every
// atomic a point under x86-TSO store buffers (the default of wsafault sim and the campaign).
void BM_SimRun_Standard(benchmark::State& state) {
  wsaf::sim::RunSettings settings;
  wsaf::sim::LookupScenario(state.range(0) == 0 ? "standard" : "tiny", &settings.scenario);
  settings.atomic_points = state.range(1) >= 1;
  if (state.range(1) == 2) settings.memory = wsaf::sim::MemoryModel::kTso;
  auto strategy = wsaf::sim::MakeRandomStrategy(1);
  uint64_t run = 0, decisions = 0, steps = 0;
  for (auto _ : state) {
    wsaf::sim::RunResult r = wsaf::sim::RunOnce(settings, strategy.get(), run++);
    decisions += r.decisions;
    steps += r.steps;
    benchmark::DoNotOptimize(r.violation);
    wsaf::sim::RecycleRun(std::move(r));
  }
  state.SetItemsProcessed(static_cast<int64_t>(run));
  state.counters["decisions_per_s"] =
      benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
  state.counters["steps_per_run"] = static_cast<double>(steps) / static_cast<double>(run);
}
BENCHMARK(BM_SimRun_Standard)
    ->ArgNames({"tiny", "points"})
    ->ArgsProduct({{0, 1}, {0, 1, 2}})
    ->Unit(benchmark::kMicrosecond);

// The floor: three logical threads that only hit scheduling points, twenty each.
void BM_SimScheduler_Baseline(benchmark::State& state) {
  auto strategy = wsaf::sim::MakeRandomStrategy(1);
  uint64_t run = 0, decisions = 0;
  for (auto _ : state) {
    strategy->NewExecution(run++);
    wsaf::sim::Scheduler s(strategy.get(), wsaf::sim::SchedulerOptions{});
    for (int t = 0; t < 3; ++t) {
      s.Spawn("t", [&s] {
        for (int i = 0; i < 20; ++i) s.Point(wsaf::seam::Site::kLock);
      });
    }
    s.Run();
    decisions += s.decisions();
  }
  state.SetItemsProcessed(static_cast<int64_t>(run));
  state.counters["decisions_per_s"] =
      benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SimScheduler_Baseline)->Unit(benchmark::kMicrosecond);

}  // namespace
