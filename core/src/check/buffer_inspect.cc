#include "check/buffer_inspect.h"

#include <cstdint>
#include <cstring>

namespace wsaf::check {

using sim::GuardedBuffer;

namespace {

// Word at a time (these scans run for every message and every resolver return), then the
// first differing byte of the word that differs.
std::size_t FirstNotCanary(const GuardedBuffer& b, std::size_t begin, std::size_t end) {
  if (end > b.bytes.size()) end = b.bytes.size();
  const unsigned char* p = b.bytes.data();
  constexpr uint64_t kWord = 0x0101010101010101ull * GuardedBuffer::kCanary;
  std::size_t i = begin;
  for (; i + sizeof(uint64_t) <= end; i += sizeof(uint64_t)) {
    uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    if (w != kWord) break;
  }
  for (; i < end; ++i) {
    if (p[i] != GuardedBuffer::kCanary) return i;
  }
  return kNoChange;
}

}  // namespace

std::size_t FirstBrokenGuard(const GuardedBuffer& b) {
  std::size_t data_end = GuardedBuffer::kGuard + static_cast<std::size_t>(b.len);
  std::size_t before = FirstNotCanary(b, 0, GuardedBuffer::kGuard);
  if (before != kNoChange) return before;
  return FirstNotCanary(b, data_end, b.bytes.size());
}

std::size_t FirstTouched(const GuardedBuffer& b, std::size_t from) {
  std::size_t before = FirstNotCanary(b, 0, GuardedBuffer::kGuard);
  if (before != kNoChange) return before;
  return FirstNotCanary(b, GuardedBuffer::kGuard + from, b.bytes.size());
}

std::string DescribeOffset(const GuardedBuffer& b, std::size_t offset) {
  std::size_t guard = GuardedBuffer::kGuard;
  std::size_t data_end = guard + static_cast<std::size_t>(b.len);
  if (offset < guard) return "guard byte " + std::to_string(guard - offset) + " before the data";
  if (offset >= data_end) return "guard byte " + std::to_string(offset - data_end) + " after the data";
  return "byte " + std::to_string(offset - guard) + " of the data";
}

std::size_t FirstDifference(const GuardedBuffer& b, const std::vector<unsigned char>& snapshot) {
  std::size_t n = b.bytes.size() < snapshot.size() ? b.bytes.size() : snapshot.size();
  if (n == 0 || std::memcmp(b.bytes.data(), snapshot.data(), n) == 0) {
    return b.bytes.size() == snapshot.size() ? kNoChange : n;
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (b.bytes[i] != snapshot[i]) return i;
  }
  return b.bytes.size() == snapshot.size() ? kNoChange : n;
}

}  // namespace wsaf::check
