#include "sim/world.h"

#include <cstdio>

#include <algorithm>
#include <sstream>

#include "sim/sim_resolver.h"

namespace wsaf::sim {

namespace {
constexpr const char* kSimFaultNames[] = {
    "slot-alloc-fail", "resolver-error", "resolver-timeout", "resolver-delay", "queue-full",
    "network-down",    "cleanup",        "window-destroy",   "blocking",
};
static_assert(sizeof(kSimFaultNames) / sizeof(kSimFaultNames[0]) ==
              static_cast<int>(SimFault::kCount));
thread_local std::vector<Event> t_spare_events;

}  // namespace

void KeepSpareEvents(std::vector<Event>&& events) {
  if (events.capacity() <= t_spare_events.capacity()) return;
  events.clear();
  t_spare_events = std::move(events);
}

const char* SimFaultName(SimFault f) {
  int i = static_cast<int>(f);
  return i < static_cast<int>(SimFault::kCount) ? kSimFaultNames[i] : "?";
}

bool ParseSimFaults(const std::string& csv, uint32_t* mask, std::string* error) {
  if (csv == "all") {
    *mask = kAllSimFaults;
    return true;
  }
  *mask = 0;
  if (csv == "none" || csv.empty()) return true;
  std::stringstream in(csv);
  std::string name;
  while (std::getline(in, name, ',')) {
    bool found = false;
    for (int i = 0; i < static_cast<int>(SimFault::kCount); ++i) {
      if (name == kSimFaultNames[i]) {
        *mask |= 1u << i;
        found = true;
      }
    }
    if (!found) {
      *error = "unknown fault '" + name + "'; known: all, none";
      for (const char* n : kSimFaultNames) *error += std::string(", ") + n;
      return false;
    }
  }
  return true;
}

std::vector<std::string> ScenarioNames(bool include_long) {
  std::vector<std::string> names = {"standard", "cancel-race", "cleanup", "blocking", "tiny"};
  if (include_long) names.push_back("handle-wrap");
  return names;
}

std::vector<std::string> CoverageScenarioNames() {
  std::vector<std::string> names = ScenarioNames();
  names.push_back("spec-rules");
  return names;
}

bool LookupScenario(const std::string& name, ScenarioConfig* out) {
  ScenarioConfig c;
  c.name = name;
  if (name == "standard") {
    // three application threads, twenty operations each, every operation in the mix
  } else if (name == "cancel-race") {
    c.app_threads = 2;
    c.ops_per_thread = 12;
    c.w_post = c.w_session = c.w_network = c.w_window = c.w_blocking = 0;
    c.allowed_faults = 1u << static_cast<int>(SimFault::kResolverDelay);
  } else if (name == "cleanup") {
    c.ops_per_thread = 14;
    c.w_session = 20;
    c.w_window = 8;
  } else if (name == "blocking") {
    c.app_threads = 2;
    c.ops_per_thread = 10;
    c.w_blocking = 25;
  } else if (name == "tiny") {
    c.app_threads = 2;
    c.ops_per_thread = 3;
    c.initial_windows = 1;
    c.w_post = c.w_session = c.w_network = c.w_window = c.w_blocking = 0;
    c.allowed_faults = 0;
  } else if (name == "spec-rules") {
    // Every public call, in every session kind: the standard mix plus NULL WSADATA, 1.1-only
    // calls outside and inside hooks, the per-thread last error, filtered GetMessage.
    c.ops_per_thread = 16;
    c.spec_ops = true;
    c.w_session = 10;
    c.w_window = 5;
    c.w_blocking = 10;
    c.w_blocking_api = 6;
    c.w_last_error = 4;
  } else if (name == "handle-wrap") {
    // One thread, one slot, enough start+cancel pairs to take a slot through 2^16 generations:
    // handles must still never repeat.
    c.app_threads = 1;
    c.ops_per_thread = 600000;
    c.initial_windows = 1;
    c.table_slots = 1;
    c.w_post = c.w_session = c.w_network = c.w_window = c.w_blocking = 0;
    c.w_start = c.w_cancel = c.w_peek = 1;
    c.cancel_last_only = true;
    c.cycle_ops = true;
    c.allowed_faults = 0;
    c.max_steps = 20000000;
  } else {
    return false;
  }
  *out = c;
  return true;
}

World::World(const ScenarioConfig& config, Scheduler* scheduler)
    : config_(config), scheduler_(scheduler), checker_(&run_) {
  auto resolver = std::make_unique<SimResolver>(this);
  resolver_ = resolver.get();
  engine_.SetBackend(std::move(resolver));
  engine_.table.SetCapacityLimit(config.table_slots);
  run_.app_threads = config.app_threads;
  // Capacity for a typical run (a few events per operation), capped for the long scenarios.
  const std::size_t ops = static_cast<std::size_t>(config.app_threads) * config.ops_per_thread;
  const std::size_t events = std::min<std::size_t>(ops * 4 + 64, 4096);
  const std::size_t requests = std::min<std::size_t>(ops + 8, 1024);
  run_.events = std::move(t_spare_events);
  t_spare_events = std::vector<Event>();
  run_.events.clear();
  run_.events.reserve(events);
  run_.buffers.reserve(requests);
  issued_.reserve(requests);
  checker_.Reserve(events, requests);
}

World::~World() = default;

void World::CheckQuiescence() {
  if (violation_) return;
  TaskTable& table = engine_.table;
  uint32_t counts[6];
  table.CountStates(counts);
  const int stranded = static_cast<int>(counts[static_cast<int>(SlotState::kPending)] +
                                        counts[static_cast<int>(SlotState::kCanceled)] +
                                        counts[static_cast<int>(SlotState::kCompleting)] +
                                        counts[static_cast<int>(SlotState::kQueued)]);
  if (stranded == 0) return;
  Violation v;
  v.invariant = "slot-accounting";
  v.event_index = run_.events.empty() ? 0 : run_.events.size() - 1;
  for (uint32_t i = 0; i < table.capacity(); ++i) {
    SlotState st = table.StateOfSlot(i);
    if (st == SlotState::kFree || st == SlotState::kDone) continue;
    v.handle = table.HandleOf(i);
    char first[96];
    std::snprintf(first, sizeof first, "slot %u (handle 0x%llx) is %s", i,
                  static_cast<unsigned long long>(v.handle), SlotStateName(st));
    v.detail = std::string("after the liveness phase every request has drained, yet ") +
               std::to_string(stranded) + " slot(s) are not FREE or DONE (" +
               std::to_string(counts[static_cast<int>(SlotState::kPending)]) + " PENDING, " +
               std::to_string(counts[static_cast<int>(SlotState::kCanceled)]) + " CANCELED, " +
               std::to_string(counts[static_cast<int>(SlotState::kCompleting)]) + " COMPLETING, " +
               std::to_string(counts[static_cast<int>(SlotState::kQueued)]) + " QUEUED); first: " + first;
    break;
  }
  violation_ = std::move(v);
}

void World::Log(Event e) {
  e.step = scheduler_->steps();
  e.time_ms = scheduler_->NowMs();
  int t = scheduler_->current();
  e.thread = t < 0 ? 0 : t;
  e.network_down = engine_.network_down.Peek();  // the log observes: no scheduling point
  run_.events.push_back(e);
  if (violation_) return;
  if (!checker_.OnEvent(run_.events.size() - 1)) violation_ = checker_.violation();
}

int World::AddWindow(HWND hwnd) {
  windows_.push_back(hwnd);
  run_.windows = static_cast<int>(windows_.size());
  return static_cast<int>(windows_.size()) - 1;
}

int World::WindowIndex(HWND hwnd) const {
  for (std::size_t i = 0; i < windows_.size(); ++i) {
    if (windows_[i] == hwnd) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace wsaf::sim
