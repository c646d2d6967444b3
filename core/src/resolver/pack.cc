// Packing lookup results into the caller's buffer (see pack.h for the contract).
//
// Layout, in this order:
//   [0, sizeof(T))        the struct itself (hostent / servent / protoent)
//   pad                   0..alignof(char*)-1 bytes, so the next byte has an ABSOLUTE address
//                         aligned for char*
//   pointer arrays        h_aliases then h_addr_list; s_aliases; p_aliases (NULL-terminated)
//   addresses             h_length bytes each (hostent only; aligned for char*, so for in_addr
//                         and in6_addr too, because they follow whole pointer arrays)
//   strings               name, aliases in order, s_proto (servent only), each NUL-terminated
//   slack                 the rest of the reserved size, zero-filled
//
// Alignment decision. Winsock callers hand us `char buf[MAXGETHOSTSTRUCT]`, which need not be
// aligned, and the struct must sit at offset 0 regardless. Pointer arrays are aligned by their
// absolute address (what the reader dereferences), never by their offset. The SIZE, however, must
// not depend on where the buffer happens to live: the simulation replays runs and compares the
// completion message (whose lParam carries the size) across processes with different heaps. So
// the size always reserves the worst-case pad, alignof(char*) - 1 bytes, whatever the address:
//   * the size is a pure function of the input (a NULL/0 size query gives the same number);
//   * a buffer of exactly that size succeeds at every address, and size - 1 fails at every
//     address (even where the actual layout would have fitted): fits iff buflen >= size;
//   * the unused part of the reservation is zero-filled, so every byte of [buf, buf + size) is
//     written and the contents depend only on the input and on (buf mod alignof(char*)).
//
// Input limits (absurd input is refused or trimmed deterministically, never trusted):
//   * NULL names, aliases arrays and s_proto are treated as "" / empty.
//   * At most kMaxListEntries (1024) aliases and 1024 addresses are packed; entries past that
//     are dropped. The walk stops at the cap, so an unterminated source array is never overrun
//     by more than the cap.
//   * hostent: h_length must be 4 with AF_INET or 16 with AF_INET6. Anything else, or a size
//     that would overflow size_t, is INVALID INPUT and returns {false, 0}: no size can make it
//     fit, and the caller must report a failure rather than ask for a bigger buffer.
//   * src must not overlap buf.
#include "resolver/pack.h"

#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace wsaf {
namespace {

constexpr std::size_t kPtrAlign = alignof(char*);
constexpr std::size_t kPtrSize = sizeof(char*);
constexpr std::size_t kMaxListEntries = 1024;
constexpr std::size_t kMaxPad = kPtrAlign - 1;

static_assert((kPtrAlign & (kPtrAlign - 1)) == 0, "pointer alignment must be a power of two");

std::uintptr_t Addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// Returns how many entries of a NULL-terminated list to pack (NULL list: none).
std::size_t CountEntries(char* const* list) {
  std::size_t n = 0;
  if (list == nullptr) return 0;
  while (n < kMaxListEntries && list[n] != nullptr) ++n;
  return n;
}

const char* OrEmpty(const char* s) { return s != nullptr ? s : ""; }

// Accumulates a size and remembers whether it ever overflowed.
class Sizer {
 public:
  explicit Sizer(std::size_t start) : total_(start) {}
  void Add(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() - total_) {
      overflow_ = true;
      return;
    }
    total_ += n;
  }
  void AddArray(std::size_t entries) {
    // entries <= kMaxListEntries, so this product cannot overflow.
    Add((entries + 1) * kPtrSize);
  }
  void AddString(const char* s) {
    std::size_t len = std::strlen(s);
    if (len == std::numeric_limits<std::size_t>::max()) {
      overflow_ = true;
      return;
    }
    Add(len + 1);
  }
  void AddStrings(char* const* list, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) AddString(list[i]);
  }
  // {false, 0} on overflow: invalid input.
  bool ok() const { return !overflow_; }
  std::size_t total() const { return total_; }

 private:
  std::size_t total_;
  bool overflow_ = false;
};

// Bump allocator over a buffer already known to be large enough (the sizing pass ran first).
// Writes go through memcpy so that an unaligned buf is never dereferenced as a wider type.
class Writer {
 public:
  Writer(char* buf, std::size_t size) : buf_(buf), size_(size) {}

  char* Take(std::size_t n) {
    char* p = buf_ + pos_;
    pos_ += n;
    return p;
  }
  void AlignForPointers() {
    std::size_t pad = (kPtrAlign - Addr(buf_ + pos_) % kPtrAlign) % kPtrAlign;
    std::memset(Take(pad), 0, pad);
  }
  char* PutBytes(const void* src, std::size_t n) {
    char* p = Take(n);
    std::memcpy(p, src, n);
    return p;
  }
  char* PutString(const char* s) { return PutBytes(s, std::strlen(s) + 1); }
  static void SetSlot(char* array, std::size_t i, const char* value) {
    std::memcpy(array + i * kPtrSize, &value, kPtrSize);
  }
  // Copies n strings, storing their addresses in array[0..n) and NULL in array[n].
  void PutStringList(char* array, char* const* list, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) SetSlot(array, i, PutString(list[i]));
    SetSlot(array, n, nullptr);
  }
  // Zero-fills the unused tail of the reservation; returns the reserved size.
  std::size_t Finish() {
    std::memset(buf_ + pos_, 0, size_ - pos_);
    return size_;
  }

 private:
  char* buf_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

template <typename T>
void PutStruct(char* buf, const T& s) {
  std::memcpy(buf, &s, sizeof(T));
}

// The common decision: size query, too small, or go ahead (size is the reserved size).
bool ShouldWrite(const char* buf, std::size_t buflen, std::size_t size) {
  return buf != nullptr && buflen >= size;
}

bool HostLengthValid(int addrtype, int length) {
  return (addrtype == AF_INET && length == 4) || (addrtype == AF_INET6 && length == 16);
}

}  // namespace

PackResult PackHostent(const hostent& src, char* buf, std::size_t buflen) {
  if (!HostLengthValid(src.h_addrtype, src.h_length)) return {false, 0};
  const char* name = OrEmpty(src.h_name);
  const std::size_t n_aliases = CountEntries(src.h_aliases);
  const std::size_t n_addrs = CountEntries(src.h_addr_list);
  const std::size_t addr_len = static_cast<std::size_t>(src.h_length);

  Sizer sizer(sizeof(hostent) + kMaxPad);
  sizer.AddArray(n_aliases);
  sizer.AddArray(n_addrs);
  sizer.Add(n_addrs * addr_len);  // <= 1024 * 16, no overflow
  sizer.AddString(name);
  sizer.AddStrings(src.h_aliases, n_aliases);
  if (!sizer.ok()) return {false, 0};
  const std::size_t size = sizer.total();
  if (!ShouldWrite(buf, buflen, size)) return {false, size};

  Writer w(buf, size);
  w.Take(sizeof(hostent));
  w.AlignForPointers();
  char* alias_array = w.Take((n_aliases + 1) * kPtrSize);
  char* addr_array = w.Take((n_addrs + 1) * kPtrSize);
  for (std::size_t i = 0; i < n_addrs; ++i) {
    Writer::SetSlot(addr_array, i, w.PutBytes(src.h_addr_list[i], addr_len));
  }
  Writer::SetSlot(addr_array, n_addrs, nullptr);
  hostent out{};
  out.h_name = w.PutString(name);
  w.PutStringList(alias_array, src.h_aliases, n_aliases);
  out.h_aliases = reinterpret_cast<char**>(alias_array);
  out.h_addrtype = src.h_addrtype;
  out.h_length = src.h_length;
  out.h_addr_list = reinterpret_cast<char**>(addr_array);
  PutStruct(buf, out);
  return {true, w.Finish()};
}

PackResult PackServent(const servent& src, char* buf, std::size_t buflen) {
  const char* name = OrEmpty(src.s_name);
  const char* proto = OrEmpty(src.s_proto);
  const std::size_t n_aliases = CountEntries(src.s_aliases);

  Sizer sizer(sizeof(servent) + kMaxPad);
  sizer.AddArray(n_aliases);
  sizer.AddString(name);
  sizer.AddStrings(src.s_aliases, n_aliases);
  sizer.AddString(proto);
  if (!sizer.ok()) return {false, 0};
  const std::size_t size = sizer.total();
  if (!ShouldWrite(buf, buflen, size)) return {false, size};

  Writer w(buf, size);
  w.Take(sizeof(servent));
  w.AlignForPointers();
  char* alias_array = w.Take((n_aliases + 1) * kPtrSize);
  servent out{};
  out.s_name = w.PutString(name);
  w.PutStringList(alias_array, src.s_aliases, n_aliases);
  out.s_aliases = reinterpret_cast<char**>(alias_array);
  out.s_port = src.s_port;  // byte order is the caller's business
  out.s_proto = w.PutString(proto);
  PutStruct(buf, out);
  return {true, w.Finish()};
}

PackResult PackProtoent(const protoent& src, char* buf, std::size_t buflen) {
  const char* name = OrEmpty(src.p_name);
  const std::size_t n_aliases = CountEntries(src.p_aliases);

  Sizer sizer(sizeof(protoent) + kMaxPad);
  sizer.AddArray(n_aliases);
  sizer.AddString(name);
  sizer.AddStrings(src.p_aliases, n_aliases);
  if (!sizer.ok()) return {false, 0};
  const std::size_t size = sizer.total();
  if (!ShouldWrite(buf, buflen, size)) return {false, size};

  Writer w(buf, size);
  w.Take(sizeof(protoent));
  w.AlignForPointers();
  char* alias_array = w.Take((n_aliases + 1) * kPtrSize);
  protoent out{};
  out.p_name = w.PutString(name);
  w.PutStringList(alias_array, src.p_aliases, n_aliases);
  out.p_aliases = reinterpret_cast<char**>(alias_array);
  out.p_proto = src.p_proto;
  PutStruct(buf, out);
  return {true, w.Finish()};
}

// ---- Validation ---------------------------------------------------------------------------
//
// Everything is judged by integer addresses (comparing unrelated pointers with < is
// unspecified) and read with memcpy (a corrupted buffer may hold misaligned pointers, and buf
// itself may be unaligned). Pointed-to data must lie in the area after the struct,
// [buf + sizeof(T), buf + len): the packer never points into the struct, so such a pointer is
// corruption.

namespace {

class Checker {
 public:
  Checker(const char* buf, std::size_t len, std::size_t header)
      : lo_(Addr(buf) + header), hi_(Addr(buf) + len) {}

  // [p, p + n) lies in the data area.
  bool Contains(const char* p, std::size_t n) const {
    const std::uintptr_t a = Addr(p);
    return p != nullptr && a >= lo_ && a <= hi_ && n <= hi_ - a;
  }

  bool String(const char* s, const char** why) const {
    if (s == nullptr) return Fail(why, "string pointer is NULL");
    if (!Contains(s, 1)) return Fail(why, "string points outside the buffer");
    if (std::memchr(s, '\0', hi_ - Addr(s)) == nullptr) {
      return Fail(why, "string is not NUL-terminated inside the buffer");
    }
    return true;
  }

  // Walks a pointer array; calls entry_ok(entry) for each non-NULL entry.
  template <typename EntryOk>
  bool Array(char* const* array, EntryOk entry_ok, const char** why) const {
    if (array == nullptr) return Fail(why, "pointer array is NULL");
    if (Addr(array) % kPtrAlign != 0) return Fail(why, "pointer array is misaligned");
    // Integer arithmetic: a pointer stepped past the buffer would already be undefined.
    for (std::uintptr_t slot = Addr(array);; slot += kPtrSize) {
      if (!Contains(reinterpret_cast<const char*>(slot), kPtrSize)) {
        return Fail(why, "pointer array leaves the buffer before its NULL terminator");
      }
      const char* entry = nullptr;
      std::memcpy(&entry, reinterpret_cast<const char*>(slot), kPtrSize);
      if (entry == nullptr) return true;
      if (!entry_ok(entry)) return false;
    }
  }

  static bool Fail(const char** why, const char* reason) {
    if (why != nullptr) *why = reason;
    return false;
  }

 private:
  std::uintptr_t lo_;
  std::uintptr_t hi_;
};

// Copies the struct out of the buffer when it fits.
template <typename T>
bool LoadStruct(const char* buf, std::size_t len, T* out, const char** why) {
  if (buf == nullptr) return Checker::Fail(why, "buffer is NULL");
  if (len < sizeof(T)) return Checker::Fail(why, "buffer is smaller than the struct");
  std::memcpy(out, buf, sizeof(T));
  return true;
}

bool StringList(const Checker& c, char* const* array, const char** why) {
  return c.Array(
      array, [&](const char* s) { return c.String(s, why); }, why);
}

}  // namespace

bool ValidatePackedHostent(const char* buf, std::size_t len, const char** why) {
  hostent h{};
  if (!LoadStruct(buf, len, &h, why)) return false;
  if (!HostLengthValid(h.h_addrtype, h.h_length)) {
    return Checker::Fail(why, "h_addrtype/h_length is not AF_INET/4 or AF_INET6/16");
  }
  const Checker c(buf, len, sizeof(hostent));
  if (!c.String(h.h_name, why)) return false;
  if (!StringList(c, h.h_aliases, why)) return false;
  const std::size_t addr_len = static_cast<std::size_t>(h.h_length);
  auto addr_ok = [&](const char* a) {
    return c.Contains(a, addr_len) || Checker::Fail(why, "address lies outside the buffer");
  };
  return c.Array(h.h_addr_list, addr_ok, why);
}

bool ValidatePackedServent(const char* buf, std::size_t len, const char** why) {
  servent s{};
  if (!LoadStruct(buf, len, &s, why)) return false;
  const Checker c(buf, len, sizeof(servent));
  return c.String(s.s_name, why) && StringList(c, s.s_aliases, why) && c.String(s.s_proto, why);
}

bool ValidatePackedProtoent(const char* buf, std::size_t len, const char** why) {
  protoent p{};
  if (!LoadStruct(buf, len, &p, why)) return false;
  const Checker c(buf, len, sizeof(protoent));
  return c.String(p.p_name, why) && StringList(c, p.p_aliases, why);
}

}  // namespace wsaf
