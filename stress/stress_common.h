// Small pieces every part of the stress driver uses: the clock, random numbers, counters,
// Winsock error names, and what kind of build this is.
//
// Thread safety: Rng is per thread. Counter has one writer (its thread) and any readers.
#ifndef WSAFAULT_STRESS_STRESS_COMMON_H_
#define WSAFAULT_STRESS_STRESS_COMMON_H_

#include <atomic>
#include <cstdint>

namespace wsaf::stress {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitizerBuild = true;
#else
constexpr bool kSanitizerBuild = false;
#endif
#else
constexpr bool kSanitizerBuild = false;
#endif

// Microseconds since the run started (steady clock).
int64_t NowUs();
void ResetClock();

// splitmix64: tiny, fast, and good enough to pick operations; seeded per thread.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>((Next() >> 32) * n >> 32); }
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }

 private:
  uint64_t state_;
};

// A statistic written by one thread and read by the progress line: relaxed load + store, no
// read-modify-write, so the hot path stays a plain add while TSan still sees an atomic.
class Counter {
 public:
  void Add(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// The Winsock codes the driver counts, in table order, then "other".
constexpr int kErrorSlots = 15;
int ErrorSlot(int error);
int ErrorOfSlot(int slot);  // -1 for "other"
const char* ErrorName(int error);

}  // namespace wsaf::stress

#endif  // WSAFAULT_STRESS_STRESS_COMMON_H_
