// Packing results into caller buffers: layout, exact sizes, the untouched-buffer rule,
// alignment at every buffer address, and the validators' refusal of corrupted buffers.
#include "resolver/pack.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace wsaf {
namespace {

constexpr unsigned char kCanary = 0xA5;
constexpr std::size_t kPtr = sizeof(char*);
constexpr std::size_t kAlign = alignof(char*);

std::uintptr_t Addr(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

// Owns the strings and arrays a source hostent points to.
class HostSource {
 public:
  HostSource(int family, std::string name, std::vector<std::string> aliases, int n_addrs)
      : name_(std::move(name)), aliases_(std::move(aliases)) {
    const int len = family == AF_INET ? 4 : 16;
    for (int i = 0; i < n_addrs; ++i) {
      std::string a(len, '\0');
      for (int j = 0; j < len; ++j) a[j] = static_cast<char>(i * 31 + j + 1);
      addrs_.push_back(a);
    }
    for (std::string& a : aliases_) alias_ptrs_.push_back(a.data());
    alias_ptrs_.push_back(nullptr);
    for (std::string& a : addrs_) addr_ptrs_.push_back(a.data());
    addr_ptrs_.push_back(nullptr);
    ent_.h_name = name_.data();
    ent_.h_aliases = alias_ptrs_.data();
    ent_.h_addrtype = family;
    ent_.h_length = len;
    ent_.h_addr_list = addr_ptrs_.data();
  }
  HostSource(const HostSource&) = delete;
  HostSource& operator=(const HostSource&) = delete;

  const hostent& get() const { return ent_; }
  hostent& mutable_ent() { return ent_; }
  const std::vector<std::string>& aliases() const { return aliases_; }
  const std::vector<std::string>& addrs() const { return addrs_; }

 private:
  std::string name_;
  std::vector<std::string> aliases_;
  std::vector<std::string> addrs_;
  std::vector<char*> alias_ptrs_;
  std::vector<char*> addr_ptrs_;
  hostent ent_{};
};

std::vector<std::string> Names(const std::string& stem, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(stem + std::to_string(i));
  return out;
}

// A canary-filled backing store with room on both sides, so any stray write shows.
struct Arena {
  explicit Arena(std::size_t n) : bytes(n + 64, kCanary) {}
  // An address `misalign` bytes past an alignof(char*) boundary, 16 bytes into the store.
  char* At(std::size_t misalign) {
    std::uintptr_t base = Addr(bytes.data()) + 16;
    base = (base + kAlign - 1) / kAlign * kAlign;
    return bytes.data() + (base - Addr(bytes.data())) + misalign;
  }
  bool AllCanary() const {
    for (char c : bytes) {
      if (static_cast<unsigned char>(c) != kCanary) return false;
    }
    return true;
  }
  std::vector<char> bytes;
};

template <typename T>
T Load(const char* buf) {
  T out;
  std::memcpy(&out, buf, sizeof(T));
  return out;
}

const char* Slot(const char* array, std::size_t i) {
  const char* p = nullptr;
  std::memcpy(&p, array + i * kPtr, kPtr);
  return p;
}

// Independent of Validate*: the pointed-to range lies after the struct and before the end.
::testing::AssertionResult InData(const char* buf, std::size_t size, std::size_t header,
                                  const void* p, std::size_t n) {
  if (p == nullptr) return ::testing::AssertionFailure() << "NULL pointer";
  const std::uintptr_t a = Addr(p);
  if (a < Addr(buf) + header || a + n > Addr(buf) + size) {
    return ::testing::AssertionFailure()
           << "range at offset " << static_cast<long>(a - Addr(buf)) << " (+" << n << ") escapes ["
           << header << ", " << size << ")";
  }
  return ::testing::AssertionSuccess();
}

// Reads back a NULL-terminated string list, checking each pointer and the array's alignment.
std::vector<std::string> ReadStrings(const char* buf, std::size_t size, std::size_t header,
                                     char** array) {
  std::vector<std::string> out;
  const char* a = reinterpret_cast<const char*>(array);
  EXPECT_EQ(Addr(a) % kAlign, 0u) << "pointer array misaligned";
  for (std::size_t i = 0;; ++i) {
    const bool slot_inside = InData(buf, size, header, a + i * kPtr, kPtr);
    EXPECT_TRUE(slot_inside) << "alias slot " << i;
    if (!slot_inside) break;
    const char* s = Slot(a, i);
    if (s == nullptr) break;
    const bool string_inside = InData(buf, size, header, s, 1);
    EXPECT_TRUE(string_inside) << "alias " << i;
    if (!string_inside) break;  // strlen on a stray pointer would only muddy the report
    EXPECT_TRUE(InData(buf, size, header, s, std::strlen(s) + 1));
    out.emplace_back(s);
  }
  return out;
}

// Packs src at every misalignment and checks the round trip and the pointers directly.
void CheckHostRoundTrip(const HostSource& src) {
  const PackResult query = PackHostent(src.get(), nullptr, 0);
  ASSERT_FALSE(query.fits);
  ASSERT_GT(query.size, sizeof(hostent));
  for (std::size_t mis = 0; mis < kAlign; ++mis) {
    SCOPED_TRACE("misalignment " + std::to_string(mis));
    Arena arena(query.size + kAlign);
    char* buf = arena.At(mis);
    const PackResult r = PackHostent(src.get(), buf, query.size);
    ASSERT_TRUE(r.fits);
    ASSERT_EQ(r.size, query.size);
    const char* why = nullptr;
    EXPECT_TRUE(ValidatePackedHostent(buf, r.size, &why)) << why;

    const hostent h = Load<hostent>(buf);
    EXPECT_TRUE(InData(buf, r.size, sizeof(hostent), h.h_name, std::strlen(h.h_name) + 1));
    EXPECT_STREQ(h.h_name, src.get().h_name);
    EXPECT_EQ(h.h_addrtype, src.get().h_addrtype);
    EXPECT_EQ(h.h_length, src.get().h_length);
    EXPECT_EQ(ReadStrings(buf, r.size, sizeof(hostent), h.h_aliases), src.aliases());
    const char* list = reinterpret_cast<const char*>(h.h_addr_list);
    EXPECT_EQ(Addr(list) % kAlign, 0u);
    std::size_t i = 0;
    for (; Slot(list, i) != nullptr; ++i) {
      ASSERT_LT(i, src.addrs().size());
      const char* a = Slot(list, i);
      EXPECT_TRUE(InData(buf, r.size, sizeof(hostent), a, h.h_length));
      EXPECT_EQ(Addr(a) % 4, 0u) << "address not aligned for in_addr";
      EXPECT_EQ(std::string(a, h.h_length), src.addrs()[i]);
    }
    EXPECT_EQ(i, src.addrs().size());
    // Nothing beyond the reported size was written.
    for (std::size_t k = 0; k < 16; ++k) {
      EXPECT_EQ(static_cast<unsigned char>(buf[r.size + k]), kCanary);
    }
  }
}

TEST(PackHostent, RoundTripsAliasAndAddressCountsInBothFamilies) {
  for (int family : {AF_INET, AF_INET6}) {
    for (int n_aliases : {0, 1, 9}) {
      for (int n_addrs : {0, 1, 6}) {
        SCOPED_TRACE("family " + std::to_string(family) + " aliases " + std::to_string(n_aliases) +
                     " addrs " + std::to_string(n_addrs));
        HostSource src(family, "host.example", Names("alias", n_aliases), n_addrs);
        CheckHostRoundTrip(src);
      }
    }
  }
}

TEST(PackHostent, SizeIsExactAndTooSmallLeavesBufferUntouched) {
  HostSource src(AF_INET6, "exact.example", Names("a", 3), 4);
  const PackResult query = PackHostent(src.get(), nullptr, 0);
  ASSERT_FALSE(query.fits);
  for (std::size_t mis = 0; mis < kAlign; ++mis) {
    SCOPED_TRACE("misalignment " + std::to_string(mis));
    Arena arena(query.size + kAlign);
    const PackResult small = PackHostent(src.get(), arena.At(mis), query.size - 1);
    EXPECT_FALSE(small.fits);
    EXPECT_EQ(small.size, query.size);
    EXPECT_TRUE(arena.AllCanary()) << "a too-small buffer was written";
    for (std::size_t len : {std::size_t{0}, sizeof(hostent), query.size / 2}) {
      EXPECT_FALSE(PackHostent(src.get(), arena.At(mis), len).fits);
    }
    EXPECT_TRUE(arena.AllCanary());
    EXPECT_TRUE(PackHostent(src.get(), arena.At(mis), query.size).fits);
  }
}

TEST(PackHostent, SizeCountsEveryByteAndReservesWorstCasePad) {
  HostSource src(AF_INET, "abc", {"de", "f"}, 2);
  const std::size_t expected = sizeof(hostent) + (kAlign - 1) + 3 * kPtr /*aliases+NULL*/ +
                               3 * kPtr /*addrs+NULL*/ + 2 * 4 + 4 /*abc*/ + 3 /*de*/ + 2 /*f*/;
  EXPECT_EQ(PackHostent(src.get(), nullptr, 0).size, expected);
}

TEST(PackHostent, SizeQueryWithNullBufferNeverWrites) {
  HostSource src(AF_INET, "q.example", {}, 1);
  const PackResult a = PackHostent(src.get(), nullptr, 0);
  // NULL with a large length is still only a query: there is nowhere to write.
  const PackResult b = PackHostent(src.get(), nullptr, 1 << 20);
  EXPECT_FALSE(a.fits);
  EXPECT_FALSE(b.fits);
  EXPECT_EQ(a.size, b.size);
}

// Renders a packed hostent with pointers as offsets, so two packings can be compared.
std::string Describe(const char* buf) {
  const hostent h = Load<hostent>(buf);
  auto off = [buf](const void* p) { return std::to_string(Addr(p) - Addr(buf)); };
  std::string out = "name@" + off(h.h_name) + "=" + h.h_name + " aliases@" + off(h.h_aliases);
  for (std::size_t i = 0; Slot(reinterpret_cast<char*>(h.h_aliases), i); ++i) {
    const char* s = Slot(reinterpret_cast<char*>(h.h_aliases), i);
    out += " " + off(s) + "=" + s;
  }
  out += " addrs@" + off(h.h_addr_list);
  for (std::size_t i = 0; Slot(reinterpret_cast<char*>(h.h_addr_list), i); ++i) {
    out += " " + off(Slot(reinterpret_cast<char*>(h.h_addr_list), i));
  }
  return out;
}

TEST(PackHostent, DeterministicAcrossCallsAndBuffers) {
  HostSource src(AF_INET, "det.example", Names("d", 5), 3);
  const std::size_t size = PackHostent(src.get(), nullptr, 0).size;
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(PackHostent(src.get(), nullptr, 0).size, size);
  }
  for (std::size_t mis = 0; mis < kAlign; ++mis) {
    Arena a(size + kAlign);
    Arena b(size + kAlign + 40);  // a different heap block, same misalignment
    ASSERT_EQ(PackHostent(src.get(), a.At(mis), size).size, size);
    ASSERT_EQ(PackHostent(src.get(), b.At(mis), size).size, size);
    EXPECT_EQ(Describe(a.At(mis)), Describe(b.At(mis)));
    // Past the pointers, the data area is byte-for-byte identical.
    const std::size_t strings_at = Addr(Load<hostent>(a.At(mis)).h_name) - Addr(a.At(mis));
    EXPECT_EQ(std::memcmp(a.At(mis) + strings_at, b.At(mis) + strings_at, size - strings_at), 0);
  }
}

TEST(PackHostent, EveryReservedByteIsWrittenWhateverTheBufferHeld) {
  // The result must not depend on stale buffer contents (the slack is zero-filled too), so a
  // replay sees identical bytes.
  HostSource src(AF_INET, "slack.example", Names("s", 2), 1);
  const std::size_t size = PackHostent(src.get(), nullptr, 0).size;
  for (std::size_t mis = 0; mis < kAlign; ++mis) {
    Arena arena(size + kAlign);
    char* buf = arena.At(mis);
    std::memset(buf, 0xA5, size);
    ASSERT_TRUE(PackHostent(src.get(), buf, size).fits);
    const std::vector<char> first(buf, buf + size);
    std::memset(buf, 0x5A, size);
    ASSERT_TRUE(PackHostent(src.get(), buf, size).fits);
    EXPECT_EQ(std::vector<char>(buf, buf + size), first) << "misalignment " << mis;
  }
}

TEST(PackHostent, UnalignedBufferStillAlignsPointerArraysAbsolutely) {
  HostSource src(AF_INET6, "odd.example", Names("o", 2), 2);
  const std::size_t size = PackHostent(src.get(), nullptr, 0).size;
  Arena arena(size + kAlign);
  char* buf = arena.At(3);
  ASSERT_TRUE(PackHostent(src.get(), buf, size).fits);
  const hostent h = Load<hostent>(buf);
  EXPECT_EQ(Addr(h.h_aliases) % kAlign, 0u);
  EXPECT_EQ(Addr(h.h_addr_list) % kAlign, 0u);
  // The arrays follow the struct directly, after the smallest pad that aligns them.
  EXPECT_EQ(Addr(h.h_aliases) - Addr(buf), sizeof(hostent) + (kAlign - 3) % kAlign);
}

TEST(PackHostent, NullNameAndArraysBecomeEmpty) {
  hostent src{};
  src.h_addrtype = AF_INET;
  src.h_length = 4;
  const std::size_t size = PackHostent(src, nullptr, 0).size;
  std::vector<char> buf(size);
  ASSERT_TRUE(PackHostent(src, buf.data(), buf.size()).fits);
  EXPECT_TRUE(ValidatePackedHostent(buf.data(), buf.size(), nullptr));
  const hostent h = Load<hostent>(buf.data());
  EXPECT_STREQ(h.h_name, "");
  ASSERT_NE(h.h_aliases, nullptr);  // Winsock callers walk these without a NULL check
  EXPECT_EQ(h.h_aliases[0], nullptr);
  ASSERT_NE(h.h_addr_list, nullptr);
  EXPECT_EQ(h.h_addr_list[0], nullptr);
}

TEST(PackHostent, InvalidFamilyOrLengthIsRefusedWithSizeZero) {
  struct Case {
    int family;
    int length;
  };
  for (Case c : {Case{AF_INET, 16}, Case{AF_INET6, 4}, Case{AF_INET, 5}, Case{AF_UNIX, 4},
                 Case{AF_INET, -4}, Case{AF_INET, 0}}) {
    HostSource src(AF_INET, "bad.example", {"x"}, 1);
    src.mutable_ent().h_addrtype = c.family;
    src.mutable_ent().h_length = c.length;
    Arena arena(4096);
    const PackResult r = PackHostent(src.get(), arena.At(0), 4096);
    EXPECT_FALSE(r.fits);
    EXPECT_EQ(r.size, 0u) << "family " << c.family << " length " << c.length;
    EXPECT_TRUE(arena.AllCanary());
  }
}

TEST(PackHostent, CapsAliasesAndAddressesAt1024) {
  HostSource src(AF_INET, "many.example", Names("m", 1500), 1100);
  const std::size_t size = PackHostent(src.get(), nullptr, 0).size;
  std::vector<char> buf(size);
  ASSERT_TRUE(PackHostent(src.get(), buf.data(), buf.size()).fits);
  ASSERT_TRUE(ValidatePackedHostent(buf.data(), buf.size(), nullptr));
  const hostent h = Load<hostent>(buf.data());
  std::size_t n_aliases = 0;
  while (h.h_aliases[n_aliases] != nullptr) ++n_aliases;
  std::size_t n_addrs = 0;
  while (h.h_addr_list[n_addrs] != nullptr) ++n_addrs;
  EXPECT_EQ(n_aliases, 1024u);
  EXPECT_EQ(n_addrs, 1024u);
  EXPECT_STREQ(h.h_aliases[1023], "m1023");
}

TEST(PackHostent, UnterminatedListIsNotReadPastTheCap) {
  // Exactly 1024 entries and no terminator: the walk must stop at the cap (ASan would see).
  std::vector<std::string> names = Names("u", 1024);
  std::vector<char*> ptrs;
  for (std::string& n : names) ptrs.push_back(n.data());
  hostent src{};
  src.h_name = names[0].data();
  src.h_aliases = ptrs.data();
  src.h_addrtype = AF_INET;
  src.h_length = 4;
  const PackResult r = PackHostent(src, nullptr, 0);
  EXPECT_GT(r.size, 1024 * kPtr);
}

servent MakeServent(char* name, char** aliases, int port, char* proto) {
  servent s{};
  s.s_name = name;
  s.s_aliases = aliases;
  s.s_port = port;
  s.s_proto = proto;
  return s;
}

TEST(PackServent, RoundTripKeepsPortExactlyAsGiven) {
  std::string name = "http", proto = "tcp", a0 = "www", a1 = "www-http";
  std::vector<char*> aliases = {a0.data(), a1.data(), nullptr};
  for (int port : {static_cast<int>(htons(80)), 0x1234, 0}) {
    const servent src = MakeServent(name.data(), aliases.data(), port, proto.data());
    const PackResult q = PackServent(src, nullptr, 0);
    for (std::size_t mis = 0; mis < kAlign; ++mis) {
      Arena arena(q.size + kAlign);
      char* buf = arena.At(mis);
      ASSERT_FALSE(PackServent(src, buf, q.size - 1).fits);
      ASSERT_TRUE(arena.AllCanary());
      const PackResult r = PackServent(src, buf, q.size);
      ASSERT_TRUE(r.fits);
      EXPECT_EQ(r.size, q.size);
      const char* why = nullptr;
      EXPECT_TRUE(ValidatePackedServent(buf, r.size, &why)) << why;
      const servent s = Load<servent>(buf);
      EXPECT_STREQ(s.s_name, "http");
      EXPECT_EQ(s.s_port, port);
      EXPECT_TRUE(InData(buf, r.size, sizeof(servent), s.s_proto, 4));
      EXPECT_STREQ(s.s_proto, "tcp");
      EXPECT_EQ(ReadStrings(buf, r.size, sizeof(servent), s.s_aliases),
                (std::vector<std::string>{"www", "www-http"}));
    }
  }
}

TEST(PackServent, NullFieldsBecomeEmptyStrings) {
  const servent src = MakeServent(nullptr, nullptr, 7, nullptr);
  const PackResult q = PackServent(src, nullptr, 0);
  EXPECT_EQ(q.size, sizeof(servent) + (kAlign - 1) + kPtr + 1 + 1);
  std::vector<char> buf(q.size);
  ASSERT_TRUE(PackServent(src, buf.data(), buf.size()).fits);
  ASSERT_TRUE(ValidatePackedServent(buf.data(), buf.size(), nullptr));
  const servent s = Load<servent>(buf.data());
  EXPECT_STREQ(s.s_name, "");
  EXPECT_STREQ(s.s_proto, "");
  EXPECT_EQ(s.s_aliases[0], nullptr);
}

TEST(PackProtoent, RoundTripAtEveryMisalignment) {
  std::string name = "tcp", alias = "TCP";
  std::vector<char*> aliases = {alias.data(), nullptr};
  protoent src{};
  src.p_name = name.data();
  src.p_aliases = aliases.data();
  src.p_proto = 6;
  const PackResult q = PackProtoent(src, nullptr, 0);
  EXPECT_EQ(q.size, sizeof(protoent) + (kAlign - 1) + 2 * kPtr + 4 + 4);
  for (std::size_t mis = 0; mis < kAlign; ++mis) {
    Arena arena(q.size + kAlign);
    char* buf = arena.At(mis);
    ASSERT_FALSE(PackProtoent(src, buf, q.size - 1).fits);
    ASSERT_TRUE(arena.AllCanary());
    ASSERT_TRUE(PackProtoent(src, buf, q.size).fits);
    const char* why = nullptr;
    EXPECT_TRUE(ValidatePackedProtoent(buf, q.size, &why)) << why;
    const protoent p = Load<protoent>(buf);
    EXPECT_STREQ(p.p_name, "tcp");
    EXPECT_EQ(p.p_proto, 6);
    EXPECT_EQ(ReadStrings(buf, q.size, sizeof(protoent), p.p_aliases),
              std::vector<std::string>{"TCP"});
  }
}

// ---- Validators ----------------------------------------------------------------------------

class PackValidate : public ::testing::Test {
 protected:
  void SetUp() override {
    size_ = PackHostent(src_.get(), nullptr, 0).size;
    buf_.assign(size_, '\0');
    ASSERT_TRUE(PackHostent(src_.get(), buf_.data(), size_).fits);
    ASSERT_TRUE(ValidatePackedHostent(buf_.data(), size_, nullptr));
  }
  hostent Header() const { return Load<hostent>(buf_.data()); }
  void SetHeader(const hostent& h) { std::memcpy(buf_.data(), &h, sizeof h); }
  std::string Why() {
    const char* why = nullptr;
    EXPECT_FALSE(ValidatePackedHostent(buf_.data(), size_, &why));
    return why != nullptr ? why : "";
  }

  HostSource src_{AF_INET, "v.example", {"va", "vb"}, 2};
  std::size_t size_ = 0;
  std::vector<char> buf_;
};

TEST_F(PackValidate, RejectsShortOrNullBuffers) {
  const char* why = nullptr;
  EXPECT_FALSE(ValidatePackedHostent(buf_.data(), sizeof(hostent) - 1, &why));
  EXPECT_NE(why, nullptr);
  EXPECT_FALSE(ValidatePackedHostent(nullptr, 0, &why));
  EXPECT_FALSE(ValidatePackedServent(buf_.data(), sizeof(servent) - 1, nullptr));
  EXPECT_FALSE(ValidatePackedProtoent(nullptr, 100, nullptr));
}

TEST_F(PackValidate, RejectsTruncatedLength) {
  // Cutting the buffer below the last string's terminator must be caught.
  const char* why = nullptr;
  const std::size_t strings_end = size_ - (kAlign - 1);  // aligned buffer: the slack is unused
  EXPECT_TRUE(ValidatePackedHostent(buf_.data(), strings_end, &why)) << why;
  EXPECT_FALSE(ValidatePackedHostent(buf_.data(), strings_end - 1, &why));
}

TEST_F(PackValidate, RejectsNameOutsideOrInsideTheStruct) {
  hostent h = Header();
  h.h_name = buf_.data() + size_;
  SetHeader(h);
  EXPECT_NE(Why().find("outside"), std::string::npos);
  h.h_name = buf_.data() + 2;  // inside the struct itself
  SetHeader(h);
  EXPECT_FALSE(Why().empty());
  h.h_name = nullptr;
  SetHeader(h);
  EXPECT_NE(Why().find("NULL"), std::string::npos);
}

TEST_F(PackValidate, RejectsUnterminatedString) {
  hostent h = Header();
  buf_[size_ - 1] = 'x';
  h.h_name = buf_.data() + size_ - 1;
  SetHeader(h);
  EXPECT_NE(Why().find("NUL-terminated"), std::string::npos);
}

TEST_F(PackValidate, RejectsMisalignedArray) {
  hostent h = Header();
  h.h_aliases = reinterpret_cast<char**>(reinterpret_cast<char*>(h.h_aliases) + 1);
  SetHeader(h);
  EXPECT_NE(Why().find("misaligned"), std::string::npos);
}

TEST_F(PackValidate, RejectsArrayWithoutTerminatorInsideBuffer) {
  // A one-entry array in the last aligned slot that leaves the final byte alone: its entry is
  // valid (the empty string in that final byte) but its terminator would lie past the end.
  hostent h = Header();
  const std::uintptr_t end = Addr(buf_.data()) + size_;
  const std::uintptr_t slot = (end - 1 - kPtr) / kAlign * kAlign;
  ASSERT_GT(slot + 2 * kPtr, end) << "the next slot must not fit";
  char* last = buf_.data() + size_ - 1;
  *last = '\0';
  std::memcpy(reinterpret_cast<char*>(slot), &last, kPtr);
  h.h_name = last;  // the old name may have been overwritten by the slot
  h.h_aliases = reinterpret_cast<char**>(slot);
  SetHeader(h);
  EXPECT_NE(Why().find("NULL terminator"), std::string::npos);
}

TEST_F(PackValidate, RejectsAddressStraddlingTheEnd) {
  hostent h = Header();
  const char* addr = buf_.data() + size_ - 2;
  std::memcpy(h.h_addr_list, &addr, kPtr);
  EXPECT_NE(Why().find("address"), std::string::npos);
}

TEST_F(PackValidate, RejectsFamilyLengthMismatch) {
  hostent h = Header();
  h.h_length = 16;
  SetHeader(h);
  EXPECT_NE(Why().find("h_length"), std::string::npos);
  h.h_addrtype = AF_UNIX;
  h.h_length = 4;
  SetHeader(h);
  EXPECT_FALSE(Why().empty());
}

TEST_F(PackValidate, RandomCorruptionNeverCrashesAndAcceptedMeansInside) {
  std::mt19937 rng(20240611);  // fixed: a failure names the iteration, which replays it
  std::vector<char> pristine = buf_;
  int accepted = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    buf_ = pristine;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      buf_[rng() % size_] ^= static_cast<char>(1u << (rng() % 8));
    }
    if (!ValidatePackedHostent(buf_.data(), size_, nullptr)) continue;
    ++accepted;
    SCOPED_TRACE("iteration " + std::to_string(iter));
    const hostent h = Header();
    ASSERT_TRUE(InData(buf_.data(), size_, sizeof(hostent), h.h_name, 1));
    ReadStrings(buf_.data(), size_, sizeof(hostent), h.h_aliases);
    const char* list = reinterpret_cast<const char*>(h.h_addr_list);
    for (std::size_t i = 0;; ++i) {
      ASSERT_TRUE(InData(buf_.data(), size_, sizeof(hostent), list + i * kPtr, kPtr));
      if (Slot(list, i) == nullptr) break;
      ASSERT_TRUE(InData(buf_.data(), size_, sizeof(hostent), Slot(list, i), h.h_length));
    }
  }
  EXPECT_GT(accepted, 0);  // flips in string bytes are harmless, so some must pass
}

TEST(PackValidateServent, RejectsProtoPointingOutside) {
  std::string name = "s", proto = "udp";
  const servent src = MakeServent(name.data(), nullptr, 1, proto.data());
  const std::size_t size = PackServent(src, nullptr, 0).size;
  std::vector<char> buf(size);
  ASSERT_TRUE(PackServent(src, buf.data(), size).fits);
  servent s = Load<servent>(buf.data());
  s.s_proto = buf.data() + size;  // one past the end
  std::memcpy(buf.data(), &s, sizeof s);
  const char* why = nullptr;
  EXPECT_FALSE(ValidatePackedServent(buf.data(), size, &why));
  EXPECT_NE(std::string(why).find("outside"), std::string::npos);
}

TEST(PackValidateProtoent, RejectsAliasOutside) {
  std::string name = "p", alias = "P";
  std::vector<char*> aliases = {alias.data(), nullptr};
  protoent src{};
  src.p_name = name.data();
  src.p_aliases = aliases.data();
  const std::size_t size = PackProtoent(src, nullptr, 0).size;
  std::vector<char> buf(size);
  ASSERT_TRUE(PackProtoent(src, buf.data(), size).fits);
  const protoent p = Load<protoent>(buf.data());
  const char* outside = alias.data();  // the source string, not the packed copy
  std::memcpy(p.p_aliases, &outside, kPtr);
  EXPECT_FALSE(ValidatePackedProtoent(buf.data(), size, nullptr));
}

}  // namespace
}  // namespace wsaf
