#include "buffers.h"

#include <cstdlib>
#include <cstring>

namespace wsaf::stress {

Buffer NewBuffer(int len, int offset, bool exact, bool null_buffer, uint8_t canary) {
  Buffer b;
  b.canary = canary;
  b.len = len;
  if (null_buffer) return b;
  int alloc = len + (exact ? 0 : kGuard);
  // malloc(0) may return null; one byte keeps "buffer given" distinct from "size query".
  b.mem =
      static_cast<char*>(std::malloc(static_cast<std::size_t>(offset + (alloc > 0 ? alloc : 1))));
  if (b.mem == nullptr) std::abort();
  b.buf = b.mem + offset;
  b.alloc = alloc;
  std::memset(b.mem, canary, static_cast<std::size_t>(offset + alloc));
  return b;
}

int FirstDamage(const Buffer& b, int from) {
  if (b.buf == nullptr) return -1;
  const auto* p = reinterpret_cast<const unsigned char*>(b.buf);
  for (int i = from < 0 ? 0 : from; i < b.alloc; ++i) {
    if (p[i] != b.canary) return i;
  }
  return -1;
}

uint64_t Digest(const Buffer& b) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  const auto* p = reinterpret_cast<const unsigned char*>(b.buf);
  for (int i = 0; i < b.alloc; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

void FreeBuffer(Buffer* b) {
  std::free(b->mem);
  b->mem = nullptr;
  b->buf = nullptr;
}

}  // namespace wsaf::stress
