// What the stress driver asks for, and what the answers must be.
//
// The catalog lists lookups of all six kinds with their outcome under the zone in
// corpus/zones/test.zone and the netbase files in corpus/netbase, when the DNS server runs
// without faults. Answers are checked in two strengths: structurally always (the packed
// result decodes, every pointer inside [buf, buf + used)), and against the expected outcome
// when the request's whole life fell in a fault-free window (the caller decides).
//
// Thread safety: the catalog is immutable after first use; the learned sizes are atomics.
#ifndef WSAFAULT_STRESS_CATALOG_H_
#define WSAFAULT_STRESS_CATALOG_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "wsafault/winsock_async.h"

namespace wsaf::stress {

enum class Kind : uint8_t {
  kHostByName,
  kHostByAddr,
  kProtoByName,
  kProtoByNumber,
  kServByName,
  kServByPort,
  kCount
};
const char* KindName(Kind k);

struct Query {
  Kind kind;
  const char* label;            // for reports: "host1.test", "http/tcp", "10.0.0.1"
  const char* name = nullptr;   // host, protocol or service name
  const char* proto = nullptr;  // service protocol (may be null)
  int number = 0;               // protocol number, or port in host order
  unsigned char addr[16] = {};
  int addr_len = 0;
  int family = 0;
  bool dns = false;  // the outcome depends on the DNS server's fault mode
  // The answer needs TCP (truncated over UDP). The embedded server cuts TCP clients that fall
  // behind or exceed its connection limit, and c-ares 1.18 with one try then fails the query
  // at once (ARES_ECONNREFUSED, so WSATRY_AGAIN): an honest answer even without a fault.
  bool tcp = false;
  int expect_error = 0;  // with no fault
  // Success checks (when expect_error == 0). Names: any of the '|'-separated alternatives.
  const char* expect_name = nullptr;
  int expect_count = 0;                // hostent: number of addresses
  uint32_t expect_first_v4 = 0;        // hostent AF_INET: addresses are first .. first+count-1
  int expect_number = 0;               // servent port (host order) / protoent number
  const char* expect_proto = nullptr;  // servent s_proto
};

// The catalog, built once.
const std::vector<Query>& Catalog();

// Starts `q` through the public API; returns the handle (0 with the last error set).
HANDLE StartQuery(const Query& q, HWND hwnd, UINT msg, char* buf, int buflen);

// Checks a packed result of `used` bytes at `buf` (a buffer of at least `used` bytes).
// Structural checks always; content checks when `strict`. False with a reason in *why.
bool CheckResult(const Query& q, const char* buf, int used, bool strict, std::string* why);

// Sizes learned from fault-free answers, per catalog entry (0: not known yet). A packed
// result's size is a pure function of the answer (pack.cc), so one fault-free answer fixes it.
class SizeBook {
 public:
  explicit SizeBook(std::size_t n) : sizes_(n) {}
  int Get(std::size_t q) const { return sizes_[q].load(std::memory_order_relaxed); }
  // Returns the size known before (0 when this call taught it).
  int Learn(std::size_t q, int size);

 private:
  std::vector<std::atomic<int>> sizes_;
};

}  // namespace wsaf::stress

#endif  // WSAFAULT_STRESS_CATALOG_H_
