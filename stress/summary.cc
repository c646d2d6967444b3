// The controller's reporting: the live progress line, soak samples and their trend, and the
// summary table at the end.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "api/engine.h"
#include "controller.h"
#include "table/task_table.h"

namespace wsaf::stress {

namespace {

const char* BuildName() {
#if defined(__SANITIZE_ADDRESS__)
  return "asan";
#elif defined(__SANITIZE_THREAD__)
  return "tsan";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return "asan";
#elif __has_feature(thread_sanitizer)
  return "tsan";
#else
  return "plain";
#endif
#else
  return "plain";
#endif
}

void SumInto(const Counter& from, Counter* to) { to->Add(from.Get()); }

template <std::size_t N>
void SumArray(const Counter (&from)[N], Counter (&to)[N]) {
  for (std::size_t i = 0; i < N; ++i) to[i].Add(from[i].Get());
}

uint64_t SumOf(const Counter* c, int n) {
  uint64_t total = 0;
  for (int i = 0; i < n; ++i) total += c[i].Get();
  return total;
}

// "name count, name count, ..." for the nonzero error slots.
std::string BySlot(const Counter (&c)[kErrorSlots]) {
  std::string out;
  for (int i = 0; i < kErrorSlots; ++i) {
    if (c[i].Get() == 0) continue;
    char part[64];
    int e = ErrorOfSlot(i);
    std::snprintf(part, sizeof(part), "%s%s %" PRIu64, out.empty() ? "" : ", ",
                  e < 0 ? "other" : ErrorName(e), c[i].Get());
    out += part;
  }
  return out.empty() ? "-" : out;
}

}  // namespace

long CurrentRssKb() {
  long pages_total = 0, pages_resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  if (std::fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) pages_resident = 0;
  std::fclose(f);
  return pages_resident * (sysconf(_SC_PAGESIZE) / 1024);
}

long PeakRssKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

void Controller::Sum(ThreadStats* t) const {
  for (const auto& wp : workers_) {
    const ThreadStats& s = wp->stats();
    SumInto(s.ops, &t->ops);
    SumArray(s.starts, t->starts);
    SumArray(s.start_failures, t->start_failures);
    SumInto(s.bad_arg_starts, &t->bad_arg_starts);
    SumArray(s.cancels, t->cancels);
    SumArray(s.cancel_moments, t->cancel_moments);
    SumArray(s.messages, t->messages);
    SumInto(s.helper_messages, &t->helper_messages);
    SumInto(s.noise, &t->noise);
    SumInto(s.gets, &t->gets);
    SumInto(s.windows_destroyed, &t->windows_destroyed);
    SumInto(s.nested_startups, &t->nested_startups);
    SumInto(s.floods, &t->floods);
    SumInto(s.bursts, &t->bursts);
    SumInto(s.late_checks, &t->late_checks);
    SumInto(s.freed_at_once, &t->freed_at_once);
    SumInto(s.swallowed, &t->swallowed);
    SumInto(s.orphaned, &t->orphaned);
  }
}

void Controller::Progress(bool last) {
  ThreadStats t;
  Sum(&t);
  int64_t now = NowUs();
  uint64_t ops = t.ops.Get();
  double dt = static_cast<double>(now - last_progress_us_) / 1e6;
  double rate = dt > 0 ? static_cast<double>(ops - last_progress_ops_) / dt : 0;
  last_progress_us_ = now;
  last_progress_ops_ = ops;
  uint64_t won = t.cancels[ErrorSlot(0)].Get();
  uint64_t lost = t.cancels[ErrorSlot(WSAEALREADY)].Get() + t.cancels[ErrorSlot(WSAEINVAL)].Get();
  std::fprintf(stderr,
               "%s[%7.1fs] ops %" PRIu64 " (%.0f/s)  starts %" PRIu64 "  cancels won %" PRIu64
               " lost %" PRIu64 "  messages %" PRIu64 "  violations %d  %-14s%s",
               tty_ ? "\r" : "", static_cast<double>(now) / 1e6, ops, rate,
               SumOf(t.starts, static_cast<int>(Kind::kCount)), won, lost,
               SumOf(t.messages, kErrorSlots), run_.reporter.count(), phase_,
               tty_ && !last ? "" : "\n");
  std::fflush(stderr);
}

void Controller::TakeSample() {
  uint32_t counts[6];
  CurrentEngine().table.CountStates(counts);
  uint32_t cap = CurrentEngine().table.capacity();
  uint32_t idle =
      counts[static_cast<int>(SlotState::kFree)] + counts[static_cast<int>(SlotState::kDone)];
  ThreadStats t;
  Sum(&t);
  Sample s{static_cast<double>(NowUs()) / 1e6,
           CurrentRssKb(),
           cap,
           cap - idle,
           run_.ledger.LiveCount(),
           t.ops.Get()};
  samples_.push_back(s);
  if (samples_.size() > 1) {
    std::fprintf(
        stderr, "%ssample %7.1fs: rss %ld KiB, slots %u (in use %u), ledger %zu, ops %" PRIu64 "\n",
        tty_ ? "\n" : "", s.t_s, s.rss_kb, s.capacity, s.in_use, s.ledger_live, s.ops);
  }
  next_sample_us_ = NowUs() + static_cast<int64_t>(run_.opts.sample_every_s * 1e6);
}

// Least-squares slope of RSS over the second half of the samples: the first half includes
// warm-up (the slot table and the allocator's arenas grow to their working size).
void Controller::PrintTrend() {
  if (samples_.size() < 4) {
    std::printf("trend          too few samples (%zu)\n", samples_.size());
    return;
  }
  std::size_t from = samples_.size() / 2;
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  long rss_min = samples_[0].rss_kb, rss_max = samples_[0].rss_kb;
  uint32_t cap_max = 0;
  for (std::size_t i = 0; i < samples_.size(); ++i) {
    const Sample& s = samples_[i];
    rss_min = std::min(rss_min, s.rss_kb);
    rss_max = std::max(rss_max, s.rss_kb);
    cap_max = std::max(cap_max, s.capacity);
    if (i < from) continue;
    double x = s.t_s / 60, y = static_cast<double>(s.rss_kb);
    n += 1;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  double slope = (n * sxx - sx * sx) != 0 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
  const Sample& first = samples_[from];
  const Sample& last = samples_.back();
  double growth = first.rss_kb > 0 ? 100.0 * static_cast<double>(last.rss_kb - first.rss_kb) /
                                         static_cast<double>(first.rss_kb)
                                   : 0;
  std::printf("samples        %zu every %.1f s; RSS %ld..%ld KiB; slot capacity max %u\n",
              samples_.size(), run_.opts.sample_every_s, rss_min, rss_max, cap_max);
  std::printf(
      "trend (2nd half) RSS %+.0f KiB/min (%+.1f%% from %ld to %ld KiB), slots %u -> %u, "
      "in use %u -> %u: %s\n",
      slope, growth, first.rss_kb, last.rss_kb, first.capacity, last.capacity, first.in_use,
      last.in_use, growth < 10 && last.capacity <= first.capacity ? "flat" : "GROWING");
}

void Controller::PrintSummary() {
  ThreadStats t;
  Sum(&t);
  double secs = static_cast<double>(NowUs()) / 1e6;
  const Options& o = run_.opts;
  std::printf("\n==== wsafault stress summary ====\n");
  std::printf("seed %" PRIu64 "  threads %d  elapsed %.2f s  mutant %s  faults %s  build %s\n",
              o.seed, o.threads, secs, MutantName(o.mutant), o.faults ? "on" : "off", BuildName());
  double load_secs = static_cast<double>(load_end_us_) / 1e6;
  std::printf("ops            %" PRIu64 "  (%.0f ops/s over %.2f s of load)\n", t.ops.Get(),
              load_secs > 0 ? static_cast<double>(t.ops.Get()) / load_secs : 0, load_secs);
  std::printf("starts         %" PRIu64 ":", SumOf(t.starts, static_cast<int>(Kind::kCount)));
  for (int k = 0; k < static_cast<int>(Kind::kCount); ++k) {
    std::printf(" %s %" PRIu64, KindName(static_cast<Kind>(k)), t.starts[k].Get());
  }
  std::printf("\nstart failures %s (bad-argument starts: %" PRIu64 ")\n",
              BySlot(t.start_failures).c_str(), t.bad_arg_starts.Get());
  std::printf("cancels        %" PRIu64 ": won (0) %" PRIu64 ", WSAEALREADY %" PRIu64
              ", WSAEINVAL %" PRIu64 "; all answers: %s\n",
              SumOf(t.cancels, kErrorSlots), t.cancels[ErrorSlot(0)].Get(),
              t.cancels[ErrorSlot(WSAEALREADY)].Get(), t.cancels[ErrorSlot(WSAEINVAL)].Get(),
              BySlot(t.cancels).c_str());
  std::printf("  by moment    ");
  for (int m = 0; m < static_cast<int>(CancelMoment::kCount); ++m) {
    std::printf("%s%s %" PRIu64, m ? ", " : "", MomentName(static_cast<CancelMoment>(m)),
                t.cancel_moments[m].Get());
  }
  std::printf("\nmessages       %" PRIu64 ": %s (removed by helpers %" PRIu64
              ", GetMessage calls %" PRIu64 ", application messages %" PRIu64 ")\n",
              SumOf(t.messages, kErrorSlots), BySlot(t.messages).c_str(), t.helper_messages.Get(),
              t.gets.Get(), t.noise.Get());
  std::printf("lifecycle      windows destroyed %" PRIu64 " (requests orphaned %" PRIu64
              "), nested startups %" PRIu64 ", floods %" PRIu64 ", bursts %" PRIu64
              ", swallowed by final cleanups %" PRIu64 "\n",
              t.windows_destroyed.Get(), t.orphaned.Get(), t.nested_startups.Get(), t.floods.Get(),
              t.bursts.Get(), t.swallowed.Get());
  std::printf("buffers        late checks %" PRIu64 ", freed at once after a won cancel %" PRIu64
              " (share %.2f)\n",
              t.late_checks.Get(), t.freed_at_once.Get(), run_.free_canceled);
  std::printf("phases         quiet final cleanups %" PRIu64 ", raced final cleanups %" PRIu64
              " (%" PRIu64 " sessions after them with a small request limit), network down %" PRIu64
              ", DNS fault switches %" PRIu64 ", GetMessage nudges %" PRIu64 "\n",
              quiet_cleanups_, racing_cleanups_, limited_sessions_, netdowns_, fault_switches_,
              nudges_);
  uint32_t counts[6];
  CurrentEngine().table.CountStates(counts);
  std::printf("slots          capacity %u (given back %u):", CurrentEngine().table.capacity(),
              CurrentEngine().table.given_back());
  for (int s = 0; s < 6; ++s)
    std::printf(" %s %u", SlotStateName(static_cast<SlotState>(s)), counts[s]);
  dns::ServerStats ds = server_.stats();
  std::printf("\nDNS server     udp %" PRIu64 ", tcp %" PRIu64 ", answered %" PRIu64
              ", dropped %" PRIu64 "\n",
              ds.udp_queries, ds.tcp_queries, ds.answered, ds.dropped);
  std::printf("handles        highest slot generation %" PRIu64
              " (a 16-bit generation wraps at 65536)\n",
              run_.handles.max_generation());
  std::printf("RSS            current %ld KiB, peak %ld KiB\n", CurrentRssKb(), PeakRssKb());
  if (sampling_) PrintTrend();
  std::printf("violations     %d\n", run_.reporter.count());
  std::fflush(stdout);
}

}  // namespace wsaf::stress
