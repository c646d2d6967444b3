// Reading a GuardedBuffer (sim/events.h) the way the buffer rules need: are the guards intact,
// is a range still the canary, where is the first changed byte.
//
// These read live memory: the Checker calls them when an event is logged, before any other
// logical thread runs, so that what they see is the buffer at that instant.
//
// Thread safety: pure functions of the buffer.
#ifndef WSAFAULT_CHECK_BUFFER_INSPECT_H_
#define WSAFAULT_CHECK_BUFFER_INSPECT_H_

#include <cstddef>
#include <string>
#include <vector>

#include "sim/events.h"

namespace wsaf::check {

inline constexpr std::size_t kNoChange = static_cast<std::size_t>(-1);

// Offset into GuardedBuffer::bytes of the first guard byte that is not the canary, or kNoChange.
std::size_t FirstBrokenGuard(const sim::GuardedBuffer& b);
// Offset into bytes of the first byte at or after data offset `from` (guards included) that is
// not the canary, or kNoChange. from = 0: the whole buffer.
std::size_t FirstTouched(const sim::GuardedBuffer& b, std::size_t from);
// "byte 12 of the data", "guard byte 3 after the data", for reports.
std::string DescribeOffset(const sim::GuardedBuffer& b, std::size_t offset);
// Offset of the first byte that differs from `snapshot` (a copy of bytes), or kNoChange.
std::size_t FirstDifference(const sim::GuardedBuffer& b, const std::vector<unsigned char>& snapshot);

}  // namespace wsaf::check

#endif  // WSAFAULT_CHECK_BUFFER_INSPECT_H_
