// Result buffers with a canary: every byte the library may not write carries a known value,
// so a write that SPEC.md forbids (after a won cancel, after the final cleanup, past the
// reported size, into a buffer that was too small) shows up as a changed byte.
//
// A buffer is filled with its canary byte, plus kGuard bytes past the length the library is
// told (unless `exact`: then the allocation ends exactly at the length, so ASan reports an
// overrun where the guard would only show it later). `offset` misaligns the buffer on
// purpose: Winsock callers pass plain char arrays.
//
// Thread safety: a Buffer is plain data; whoever owns the request owns it.
#ifndef WSAFAULT_STRESS_BUFFERS_H_
#define WSAFAULT_STRESS_BUFFERS_H_

#include <cstdint>

namespace wsaf::stress {

struct Buffer {
  char* mem = nullptr;  // the allocation (null for a NULL/0 size query)
  char* buf = nullptr;  // what the library is given: mem + offset
  int len = 0;          // what the library is told
  int alloc = 0;        // bytes from buf to the end of the allocation
  uint8_t canary = 0;
};

constexpr int kGuard = 32;

// len == 0 with `null_buffer` makes a size query (buf == nullptr).
Buffer NewBuffer(int len, int offset, bool exact, bool null_buffer, uint8_t canary);
// The first offset in [from, alloc) that lost its canary, or -1.
int FirstDamage(const Buffer& b, int from);
// A digest of the whole allocation after buf: compared later to prove nothing wrote.
uint64_t Digest(const Buffer& b);
void FreeBuffer(Buffer* b);

}  // namespace wsaf::stress

#endif  // WSAFAULT_STRESS_BUFFERS_H_
