// The conformance suite's fixture and helpers: one test per rule of SPEC.md, exercised through
// the public header only, with the embedded DNS server for traffic.
//
// Every test gets a fresh DNS server on an ephemeral 127.0.0.1 port serving
// corpus/zones/test.zone, the test netbase files (on a target without those controls, see
// conformance_platform.h, the environment's DNS and netbase instead), a session (WSAStartup) unless the fixture asks
// for none, and one message-only window. TearDown puts the network back up and undoes every
// startup, so a test never leaks state into the next one even when they share a process.
//
// Thread safety: the fixture's helpers are for the test's main thread; the race tests bring
// their own synchronised bookkeeping.
//
// Bounded waits: every wait polls with short sleeps and gives up after kWaitLimit (5 s), so a
// lost message fails the test instead of hanging it.
#ifndef WSAFAULT_TESTS_CONFORMANCE_CONFORMANCE_ENV_H_
#define WSAFAULT_TESTS_CONFORMANCE_CONFORMANCE_ENV_H_

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "conformance_platform.h"  // the Winsock header, the target's controls

namespace wsaf_conf {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline constexpr UINT kMsg = WM_USER + 7;
inline constexpr UINT kFillMsg = WM_USER + 99;  // dummy traffic, never a completion
inline constexpr milliseconds kWaitLimit{5000};
inline constexpr int kShortDnsTimeoutMs = 300;
// Long enough that a dropped query stays pending for the whole test.
inline constexpr int kLongDnsTimeoutMs = 20000;
inline constexpr unsigned char kCanary = 0xA5;

void SleepMs(int ms);
long long MillisSince(Clock::time_point start);

// A buffer filled with a canary byte, so "never written" is checked byte for byte.
class CanaryBuffer {
 public:
  explicit CanaryBuffer(std::size_t size = MAXGETHOSTSTRUCT);
  char* data() { return bytes_.data(); }
  const char* data() const { return bytes_.data(); }
  int size() const { return static_cast<int>(bytes_.size()); }
  bool Intact() const;  // every byte is still the canary
  std::vector<char> Snapshot() const { return bytes_; }
  bool Equals(const std::vector<char>& snapshot) const { return bytes_ == snapshot; }

 private:
  std::vector<char> bytes_;
};

// A completion message, decoded.
struct Reply {
  MSG msg{};
  int error = -1;   // WSAGETASYNCERROR
  int buflen = -1;  // WSAGETASYNCBUFLEN
};
Reply Decode(const MSG& m);

// Checks a packed result: the struct at the buffer's start, every pointer (names, arrays and
// their entries) inside [buf, buf + len), every string terminated inside it, pointer arrays
// aligned for pointers, arrays non-NULL and NULL-terminated.
::testing::AssertionResult PackedHostent(const char* buf, int len);
::testing::AssertionResult PackedServent(const char* buf, int len);
::testing::AssertionResult PackedProtoent(const char* buf, int len);

std::set<std::string> HostAddresses(const hostent* h);  // inet_ntop of every h_addr_list entry
std::vector<std::string> AliasList(char** list);        // NULL-terminated list as strings

// A name that exists nowhere and was never asked before in this process, so no cache can
// answer it: "wsaf-missing-<pid>-<n>.test".
std::string FreshMissingName();

// Every function that starts a request, with valid arguments that complete quickly and
// successfully (numeric host, PTR from the zone, netbase entries).
struct Starter {
  const char* name;
  std::function<HANDLE(HWND, UINT, char*, int)> start;
};
const std::vector<Starter>& AllStarters();

// Undoes every startup (bounded): WSACleanup until it fails.
void CleanupAll();

class WsaTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // --- knobs derived fixtures set in their constructors (read by SetUp) ---
  WORD startup_version_ = MAKEWORD(2, 2);  // 0: no WSAStartup
  int dns_timeout_ms_ = kShortDnsTimeoutMs;

  // --- the DNS server ---
  void ServerNormal() { server_->SetFault(wsaf::dns::Fault::kNone); }
  void ServerDrop() { server_->SetFault(wsaf::dns::Fault::kDrop); }
  void ServerDelay(int ms) { server_->SetFault(wsaf::dns::Fault::kDelay, ms); }
  void ServerFault(wsaf::dns::Fault f) { server_->SetFault(f); }
  uint64_t ServerQueries() const;

  // --- windows and messages ---
  HWND NewWindow();  // destroyed in TearDown (if still alive)
  // Moves every message of `w` (default: the fixture window) into the inbox.
  void Pump(HWND w = nullptr);
  // Pumps until the message (wMsg, handle) arrives, removes it from the inbox. False after
  // `limit`.
  bool WaitReply(HANDLE h, Reply* out, UINT wMsg = kMsg, milliseconds limit = kWaitLimit,
                 HWND w = nullptr);
  // Pumps for `how_long`; how many messages carried this handle (any message number), in the
  // inbox included.
  int CountRepliesAfter(HANDLE h, milliseconds how_long, HWND w = nullptr);
  // Polls with PM_NOREMOVE until (wMsg, h) is the first wMsg message of `w`: the request's
  // message is queued and still in the queue.
  bool WaitQueued(HANDLE h, UINT wMsg = kMsg, milliseconds limit = kWaitLimit, HWND w = nullptr);
  // True when no window at all holds a message (PeekMessage(NULL, …, PM_NOREMOVE)).
  static bool NoMessageAnywhere();

  // --- requests ---
  // A host lookup of a fresh missing name: stays pending while the server drops (with the
  // long DNS timeout), or completes after the server's delay.
  HANDLE StartPending(char* buf, int len, HWND w = nullptr, UINT wMsg = kMsg);
  HANDLE StartNumeric(char* buf, int len, const char* ip = "10.9.8.7", HWND w = nullptr,
                      UINT wMsg = kMsg);

  HWND window() const { return hwnd_; }

  std::unique_ptr<wsaf::dns::Server> server_;
  HWND hwnd_ = nullptr;
  std::vector<MSG> inbox_;
  std::vector<HWND> windows_;
};

// A fixture without a session: the test calls WSAStartup itself.
class WsaBareTest : public WsaTest {
 protected:
  WsaBareTest() { startup_version_ = 0; }
};

// A fixture whose DNS timeout is long: dropped queries stay pending, delayed ones complete.
class WsaLongDnsTest : public WsaTest {
 protected:
  WsaLongDnsTest() { dns_timeout_ms_ = kLongDnsTimeoutMs; }
};

}  // namespace wsaf_conf

#endif  // WSAFAULT_TESTS_CONFORMANCE_CONFORMANCE_ENV_H_
