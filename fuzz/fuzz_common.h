// Helpers shared by the fuzz targets: a failure report that libFuzzer turns into a saved
// crash, a little input reader, and the packing checks every target runs on its results.
//
// Thread safety: none needed; a fuzz target runs one input at a time on one thread.
#ifndef WSAFAULT_FUZZ_FUZZ_COMMON_H_
#define WSAFAULT_FUZZ_FUZZ_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "resolver/pack.h"

namespace wsaf::fuzz {

// Prints "<target>: <invariant>: <detail>" and aborts, so libFuzzer keeps the input.
[[noreturn]] inline void Fail(const char* target, const std::string& invariant,
                              const std::string& detail) {
  std::fprintf(stderr, "\n==WSAFAULT== %s: invariant violated: %s\n==WSAFAULT== detail: %s\n",
               target, invariant.c_str(), detail.c_str());
  std::fflush(stderr);
  std::abort();
}

// Reads the input front to back; past the end every read answers 0 / empty.
class Reader {
 public:
  Reader(const uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  uint16_t U16() {
    uint16_t lo = Byte();
    return static_cast<uint16_t>(lo | (Byte() << 8));
  }
  // Up to `max` bytes (fewer when the input runs out).
  std::string Bytes(std::size_t max) {
    std::size_t n = std::min(max, size_ - pos_);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  std::string Rest() { return Bytes(size_ - pos_); }
  std::size_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// A caller buffer at a chosen misalignment with canary bytes around it.
class CanaryBuffer {
 public:
  static constexpr unsigned char kCanary = 0xA5;
  static constexpr std::size_t kGuard = 64;
  CanaryBuffer(std::size_t len, std::size_t misalign)
      : bytes_(kGuard + misalign + len + kGuard, kCanary), start_(kGuard + misalign), len_(len) {}
  char* data() { return reinterpret_cast<char*>(bytes_.data() + start_); }
  std::size_t len() const { return len_; }
  bool Untouched() const {
    for (unsigned char b : bytes_) {
      if (b != kCanary) return false;
    }
    return true;
  }
  bool GuardsIntact() const {
    for (std::size_t i = 0; i < bytes_.size(); ++i) {
      bool inside = i >= start_ && i < start_ + len_;
      if (!inside && bytes_[i] != kCanary) return false;
    }
    return true;
  }

 private:
  std::vector<unsigned char> bytes_;
  std::size_t start_;
  std::size_t len_;
};

// The packing contract (pack.h), checked for one source and one buffer size:
//   * a size query (NULL, 0) answers the size needed, or {false, 0} for unpackable input;
//   * size - 1 fails with the same size and leaves every byte (guards included) untouched;
//   * exactly size succeeds, writes only inside the buffer and validates;
//   * `buflen` behaves as "fits iff buflen >= size".
// `same` compares the packed copy with the source. Returns the size needed (0: unpackable).
template <typename T, typename PackFn, typename ValidateFn, typename SameFn>
std::size_t CheckPacking(const char* target, const T& src, PackFn pack, ValidateFn validate,
                         SameFn same, std::size_t buflen, std::size_t misalign) {
  const PackResult need = pack(src, nullptr, 0);
  if (need.fits) Fail(target, "pack-size-query", "a NULL/0 size query claimed to fit");
  if (need.size == 0) return 0;
  auto attempt = [&](std::size_t len) {
    CanaryBuffer buf(len, misalign);
    const PackResult r = pack(src, len == 0 ? nullptr : buf.data(), len);
    if (len < need.size) {
      if (r.fits || r.size != need.size) {
        Fail(target, "pack-enobufs-size",
             "buffer of " + std::to_string(len) + " bytes: fits=" + std::to_string(r.fits) +
                 " size=" + std::to_string(r.size) + ", expected the size " +
                 std::to_string(need.size) + " and no write");
      }
      if (!buf.Untouched()) {
        Fail(target, "pack-too-small-untouched",
             "a buffer of " + std::to_string(len) + " < " + std::to_string(need.size) +
                 " bytes was written");
      }
      return;
    }
    if (!r.fits || r.size != need.size) {
      Fail(target, "pack-fits",
           "buffer of " + std::to_string(len) + " >= " + std::to_string(need.size) +
               " bytes: fits=" + std::to_string(r.fits) + " size=" + std::to_string(r.size));
    }
    if (!buf.GuardsIntact()) {
      Fail(target, "pack-overflow", "bytes outside the " + std::to_string(len) +
                                        "-byte buffer were written");
    }
    const char* why = "";
    if (!validate(buf.data(), r.size, &why)) {
      Fail(target, "pack-validates", std::string("packed result does not validate: ") + why);
    }
    if (!same(buf.data())) Fail(target, "pack-faithful", "the packed copy differs from the source");
  };
  attempt(need.size - 1);
  attempt(need.size);
  if (buflen != need.size && buflen != need.size - 1) attempt(buflen);
  return need.size;
}

// Compares a packed NULL-terminated string list with a source list of n entries.
inline bool SameList(char* const* packed, char* const* src, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (packed[i] == nullptr || std::strcmp(packed[i], src[i]) != 0) return false;
  }
  return packed[n] == nullptr;
}

inline std::size_t CountList(char* const* list, std::size_t cap) {
  std::size_t n = 0;
  while (list != nullptr && n < cap && list[n] != nullptr) ++n;
  return n;
}

}  // namespace wsaf::fuzz

#endif  // WSAFAULT_FUZZ_FUZZ_COMMON_H_
