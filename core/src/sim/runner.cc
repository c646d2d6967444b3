#include "sim/runner.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sim/feedback.h"
#include "sim/scenario.h"
#include "sim/scheduler.h"
#include "sim/tsan_reports.h"
#include "sim/tape_version.h"

namespace wsaf::sim {

namespace {

// Every atomic a point: a run takes about three times the steps it took with the named sites
// alone (a 1.1 hook loop waiting out a 30 s timeout, say), so its step budget is larger.
constexpr uint64_t kAtomicPointsStepFactor = 4;

RunResult Execute(const RunSettings& given, Strategy* strategy, bool keep_preemptions) {
  RunSettings settings = given;
  if (settings.atomic_points) settings.scenario.max_steps *= kAtomicPointsStepFactor;
  SchedulerOptions opts;
  opts.max_steps = settings.scenario.max_steps;
  opts.record_step_hashes = settings.step_hashes;
  opts.memory = settings.memory;
  opts.atomic_points = settings.atomic_points;
  opts.record_preemptions = keep_preemptions;
  Scheduler scheduler(strategy, opts);
  RunResult result;
  {
    World world(settings.scenario, &scheduler);
    const uint64_t races_before = TsanReportCount();
    WatchTsanReports(&world.run());
    RunScenario(world);
    WatchTsanReports(nullptr);
    world.CheckQuiescence();
    if (TsanReportCount() != races_before && !world.violated()) {
      // The race came after the events logged by then: the violation names the next one (the
      // call the racing access was part of), or the last event when none followed.
      const std::size_t n = world.run().events.size();
      const std::size_t before = EventsBeforeFirstTsanReport();
      Violation v;
      v.invariant = "data-race";
      v.event_index = n == 0 ? 0 : (before < n ? before : n - 1);
      v.handle = n == 0 ? 0 : world.run().events[v.event_index].handle;
      v.detail = "ThreadSanitizer reported a data race between two simulated threads after event #" +
                 std::to_string(before == SIZE_MAX ? n : before) +
                 " (its report, with both stacks, is printed above on stderr)";
      world.SetViolation(v);
    }
    result.violation = world.violation();
    result.coverage = world.checker().coverage();
    result.coverage.atomic_points = settings.atomic_points;
    result.run = std::move(world.run());
  }
  result.tape = scheduler.TakeTape();
  result.step_hashes = scheduler.TakeStepHashes();
  result.steps = scheduler.steps();
  result.decisions = scheduler.decisions();
  result.preemptions = scheduler.TakePreemptions();
  result.buffered_stores = scheduler.buffered_stores();
  return result;
}

}  // namespace

RunResult RunOnce(const RunSettings& settings, Strategy* strategy, uint64_t run_index) {
  strategy->NewExecution(run_index);
  RunResult result = Execute(settings, strategy, RunIsObserved());
  DeliverRunFeedback(result);  // to the strategy that asked for it (feedback.h)
  return result;
}

void RecycleRun(RunResult&& r) { KeepSpareEvents(std::move(r.run.events)); }

RunResult ReplayTape(const RunSettings& settings, const std::vector<uint8_t>& tape) {
  std::unique_ptr<Strategy> replay = MakeReplayStrategy(tape);
  replay->NewExecution(0);
  return Execute(settings, replay.get(), /*keep_preemptions=*/true);
}

std::vector<uint8_t> ShrinkTape(const RunSettings& settings, const std::vector<uint8_t>& tape,
                                const std::string& invariant, int max_attempts, double max_seconds,
                                ShrinkStats* stats) {
  auto start_time = std::chrono::steady_clock::now();
  auto out_of_time = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count() >
           max_seconds;
  };
  std::vector<uint8_t> best = tape;
  stats->original_bytes = tape.size();
  stats->original_events = ReplayTape(settings, tape).run.events.size();
  auto fails = [&](const std::vector<uint8_t>& candidate, RunResult* out) {
    ++stats->attempts;
    *out = ReplayTape(settings, candidate);
    return out->violation && out->violation->invariant == invariant;
  };
  RunResult r;
  // Chunk removal, halving the chunk size (ddmin's complement step).
  for (std::size_t chunk = best.size() / 2; chunk >= 1 && stats->attempts < max_attempts && !out_of_time(); chunk /= 2) {
    for (std::size_t start = 0; start < best.size() && stats->attempts < max_attempts && !out_of_time();) {
      std::vector<uint8_t> candidate(best.begin(), best.begin() + start);
      std::size_t end = std::min(best.size(), start + chunk);
      candidate.insert(candidate.end(), best.begin() + end, best.end());
      if (fails(candidate, &r)) {
        best = r.tape.size() < candidate.size() ? r.tape : candidate;  // the replay's own record
      } else {
        start += chunk;
      }
    }
  }
  // Zeroing: each remaining decision to its quiet value.
  for (std::size_t i = 0; i < best.size() && stats->attempts < max_attempts && !out_of_time(); ++i) {
    if (best[i] == 0) continue;
    std::vector<uint8_t> candidate = best;
    candidate[i] = 0;
    if (fails(candidate, &r)) best = r.tape.size() <= candidate.size() ? r.tape : candidate;
  }
  // Trailing decisions the run never reads are noise.
  RunResult last = ReplayTape(settings, best);
  if (last.tape.size() < best.size()) best.resize(last.tape.size());
  stats->shrunk_bytes = best.size();
  stats->shrunk_events = last.run.events.size();
  return best;
}

long long AuditDeterminism(const RunSettings& settings, const std::vector<uint8_t>& tape,
                           const std::vector<uint64_t>* expected) {
  RunSettings s = settings;
  s.step_hashes = true;
  RunResult a = ReplayTape(s, tape);
  RunResult b = ReplayTape(s, tape);
  auto first_diff = [](const std::vector<uint64_t>& x, const std::vector<uint64_t>& y) -> long long {
    std::size_t n = std::min(x.size(), y.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (x[i] != y[i]) return static_cast<long long>(i);
    }
    return x.size() == y.size() ? -1 : static_cast<long long>(n);
  };
  long long d = first_diff(a.step_hashes, b.step_hashes);
  if (d >= 0 || expected == nullptr) return d;
  return first_diff(a.step_hashes, *expected);
}

bool WriteTapeFile(const std::string& path, const TapeFile& file, std::string* error) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    *error = "cannot write " + path;
    return false;
  }
  out << "wsafault-tape " << kTapeFormatVersion << "\n";
  out << "scenario " << file.scenario << "\n";
  out << "scenario-version " << ScenarioVersion(file.scenario) << "\n";
  out << "commit " << BuildCommit() << "\n";
  out << "mutant " << MutantName(file.mutant) << "\n";
  out << "faults";
  bool any = false;
  for (int f = 0; f < static_cast<int>(SimFault::kCount); ++f) {
    if (file.allowed_faults & (1u << f)) {
      out << (any ? "," : " ") << SimFaultName(static_cast<SimFault>(f));
      any = true;
    }
  }
  out << (any ? "\n" : " none\n");
  if (file.memory != MemoryModel::kSc) out << "memory " << MemoryModelName(file.memory) << "\n";
  if (file.atomic_points) out << "points atomics\n";
  out << "tape ";
  static const char kHex[] = "0123456789abcdef";
  for (uint8_t b : file.tape) out << kHex[b >> 4] << kHex[b & 15];
  out << "\n";
  if (!out) *error = "write failed: " + path;
  return static_cast<bool>(out);
}

namespace {

bool ParseHex(const std::string& hex, std::vector<uint8_t>* out) {
  if (hex.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->clear();
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<uint8_t>(hi * 16 + lo));
  }
  return true;
}

bool ParseHeader(const std::string& text, TapeFile* file, std::string* error) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // the magic line
  int lineno = 1;
  bool have_tape = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::size_t sp = line.find(' ');
    std::string key = line.substr(0, sp), value = sp == std::string::npos ? "" : line.substr(sp + 1);
    bool ok = true;
    if (key == "scenario") {
      ScenarioConfig c;
      ok = LookupScenario(value, &c);
      file->scenario = value;
    } else if (key == "scenario-version") {
      char* end = nullptr;
      long n = std::strtol(value.c_str(), &end, 10);
      ok = !value.empty() && *end == '\0' && n >= 1 && n <= 1000000;
      file->scenario_version = static_cast<int>(n);
    } else if (key == "commit") {
      file->commit = value;
    } else if (key == "mutant") {
      ok = ParseMutant(value.c_str(), &file->mutant);
    } else if (key == "faults") {
      std::string why;
      ok = ParseSimFaults(value, &file->allowed_faults, &why);
    } else if (key == "memory") {
      ok = ParseMemoryModel(value, &file->memory);
    } else if (key == "points") {
      ok = value == "atomics" || value == "sites";
      file->atomic_points = value == "atomics";
    } else if (key == "tape") {
      ok = ParseHex(value, &file->tape);
      have_tape = ok;
    } else {
      ok = false;
    }
    if (!ok) {
      *error = "line " + std::to_string(lineno) + ": bad '" + key + "' entry";
      return false;
    }
  }
  if (!have_tape) *error = "no 'tape' line";
  if (have_tape && file->scenario_version == 0) {
    *error = "no 'scenario-version' line";
    return false;
  }
  return have_tape && TapeVersionCurrent(file->scenario, file->scenario_version, file->commit, error);
}

}  // namespace

bool ReadTapeFile(const std::string& path, TapeFile* file, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot open " + path;
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > (16u << 20)) {
    *error = path + " is larger than 16 MiB";
    return false;
  }
  const std::string magic = "wsafault-tape " + std::to_string(kTapeFormatVersion) + "\n";
  if (text.rfind("wsafault-tape ", 0) == 0 && text.rfind(magic, 0) != 0) {
    std::string first = text.substr(0, std::min(text.find('\n'), std::size_t{40}));
    *error = path + ": a tape file in an older or unknown format ('" + first + "'; this build reads format " +
             std::to_string(kTapeFormatVersion) + ", which records the scenario's version): re-record it";
    return false;
  }
  if (text.rfind(magic, 0) == 0) {
    if (!ParseHeader(text, file, error)) {
      *error = path + ": " + *error;
      return false;
    }
    return true;
  }
  file->raw = true;
  file->tape.assign(text.begin(), text.end());
  return true;
}

}  // namespace wsaf::sim
