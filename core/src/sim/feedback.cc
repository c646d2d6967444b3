// Features of a run (feedback.h).
#include "sim/feedback.h"

#include <cstring>

#include "sim/runner.h"

namespace wsaf::sim {

namespace {

thread_local RunObserver* t_observer = nullptr;

uint64_t Key(FeatureClass c, uint64_t low) { return (static_cast<uint64_t>(c) << 56) | (low & ((1ull << 56) - 1)); }

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xBF58476D1CE4E5B9ull;
}

uint64_t HashText(const char* s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; s != nullptr && *s != '\0'; ++s) h = (h ^ static_cast<unsigned char>(*s)) * 0x100000001b3ull;
  return h;
}

// A site of the event log: what was done, on which kind of request, by which side.
uint64_t EventSite(const Event& e, int resolver_thread) {
  return (static_cast<uint64_t>(e.type) << 16) | (static_cast<uint64_t>(e.kind + 1) << 8) |
         (e.thread == resolver_thread ? 1u : 0u);
}

struct LastTouch {
  int thread = -1;
  uint64_t site = 0;
};

// Objects the log names: request slots by handle, windows by index, and the session.
void CollectOrderPairs(const Run& run, std::vector<uint64_t>* out) {
  constexpr std::size_t kWindows = 64;
  std::vector<std::pair<uint64_t, LastTouch>> slots;  // few live requests: a linear scan
  LastTouch windows[kWindows];
  LastTouch session;
  auto touch = [&](uint64_t object_class, LastTouch* last, const Event& e) {
    uint64_t site = EventSite(e, run.app_threads);
    if (last->thread >= 0 && last->thread != e.thread) {
      out->push_back(Key(FeatureClass::kOrderPair, Mix(Mix(object_class, last->site), site)));
    }
    last->thread = e.thread;
    last->site = site;
  };
  for (const Event& e : run.events) {
    if (e.type == EventType::kThreadEnd) continue;
    if (e.handle != 0) {
      LastTouch* last = nullptr;
      for (auto& s : slots) {
        if (s.first == e.handle) last = &s.second;
      }
      if (last == nullptr) {
        slots.emplace_back(e.handle, LastTouch{});
        last = &slots.back().second;
      }
      touch(1, last, e);
    }
    if (e.window >= 0 && static_cast<std::size_t>(e.window) < kWindows) touch(2, &windows[e.window], e);
    if (e.type == EventType::kStartup || e.type == EventType::kCleanup || e.type == EventType::kNetworkDown) {
      touch(3, &session, e);
    }
  }
}

uint64_t PointSite(const Preemption& p) {
  if (p.site != seam::Site::kCount) return 0x5100 + static_cast<uint64_t>(p.site);
  return Mix(Mix(HashText(p.func), static_cast<uint64_t>(p.line)), static_cast<uint64_t>(p.op));
}

void CollectPreemptionPairs(const std::vector<Preemption>& ps, std::vector<uint64_t>* out) {
  for (std::size_t i = 0; i + 1 < ps.size(); ++i) {
    // p[i]: `from` stopped before its operation and `to` ran; the next switch away from `to`
    // says where `to` stopped: everything it did in between ran before `from`'s operation.
    for (std::size_t j = i + 1; j < ps.size() && j < i + 4; ++j) {
      if (ps[j].from != ps[i].to) continue;
      out->push_back(Key(FeatureClass::kPreemptionPair, Mix(PointSite(ps[i]), PointSite(ps[j]))));
      break;
    }
  }
}

}  // namespace

void CollectFeatures(const RunResult& r, std::vector<uint64_t>* out) {
  const check::Coverage& c = r.coverage;
  c.calls.ForEachNonZero([out](int cell, uint32_t) { out->push_back(Key(FeatureClass::kCall, cell)); });
  for (std::size_t i = 0; i < c.transitions.size(); ++i) {
    if (c.transitions[i] != 0) out->push_back(Key(FeatureClass::kTransition, i));
  }
  for (std::size_t i = 0; i < c.message_errors.size(); ++i) {
    if (c.message_errors[i] != 0) out->push_back(Key(FeatureClass::kMessageError, i));
  }
  CollectOrderPairs(r.run, out);
  CollectPreemptionPairs(r.preemptions, out);
}

int FeatureSet::Add(const std::vector<uint64_t>& features) {
  int added = 0;
  for (uint64_t f : features) {
    if (seen_.insert(f).second) {
      ++added;
      ++counts_[static_cast<int>(ClassOf(f))];
    }
  }
  return added;
}

void ObserveNextRun(RunObserver* observer) { t_observer = observer; }

bool RunIsObserved() { return t_observer != nullptr; }

void DeliverRunFeedback(const RunResult& result) {
  RunObserver* o = t_observer;
  t_observer = nullptr;
  if (o != nullptr) o->Observe(result);
}

}  // namespace wsaf::sim
