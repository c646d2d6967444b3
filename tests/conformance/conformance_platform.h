// The conformance suite's one portability header: which Winsock it talks to, and which of
// wsafault's own controls the target has.
//
// Natively (the default) the suite talks to this library through <wsafault/winsock_async.h>
// and has every control: HasControl() is true, WSAF_CONF_REQUIRE is a no-op and nothing
// changes. Built with mingw-w64 (the mingw preset, _WIN32) it talks to the system's ws2_32 and
// user32 (Wine's under scripts/probe-peer, Microsoft's on a Windows runner): windows are
// CreateWindowEx(..., HWND_MESSAGE, ...) pumped with the real PeekMessage/GetMessage, blocking
// lookups are gethostbyname, and DNS comes from the environment (probe-peer: a network
// namespace whose only resolver is our server on 127.0.0.1:53, answering 100 ms late). What
// only wsafault has (DNS faults and counters, resolver/netbase settings, network down, the
// request limit, its resolver thread model) is absent there: a test that needs one starts with
// WSAF_CONF_REQUIRE(control) and is reported "skipped: target lacks control <name>". The
// wsaf_* controls below exist on Windows only so the suite compiles; a test reaches them only
// after WSAF_CONF_REQUIRE, and each fails loudly (-1, ADD_FAILURE) if one is reached anyway.
//
// Thread safety: every function may be called from any thread.
// Lifetime: the window class is registered once per process and never unregistered.
#ifndef WSAFAULT_TESTS_CONFORMANCE_CONFORMANCE_PLATFORM_H_
#define WSAFAULT_TESTS_CONFORMANCE_CONFORMANCE_PLATFORM_H_

#include <gtest/gtest.h>

#include <set>
#include <string>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#else
#include <arpa/inet.h>
#include <wsafault/winsock_async.h>

#include "dnsserver/dns_server.h"
#endif

namespace wsaf_conf {

enum Control : unsigned {
  kDnsFaults = 1u << 0,        // the test's own DNS server: drop, delay, rcodes, malformed
  kDnsStats = 1u << 1,         // how many queries reached that server
  kResolverSettings = 1u << 2,  // wsaf_set_dns_servers / _dns_timeout / _netbase_files
  kNetworkDown = 1u << 3,      // wsaf_set_network_down
  kMaxRequests = 1u << 4,      // wsaf_set_max_requests
  kResolverThreads = 1u << 5,  // wsafault's resolver thread model (one parked thread)
};
const char* ControlName(Control c);
bool HasControl(Control c);
const char* TargetName();

HWND CreateMessageWindow();       // a message-only window owned by the calling thread
unsigned long CurrentProcessId();
std::set<std::string> ThreadIds();  // the process's threads, as text

}  // namespace wsaf_conf

// At the top of a test (or a fixture's SetUp): skip, with the reason, when the target lacks
// the control. A no-op in the native build, where every control exists.
#define WSAF_CONF_REQUIRE(control)                                                      \
  if (!::wsaf_conf::HasControl(::wsaf_conf::control))                                  \
  GTEST_SKIP() << "skipped: target " << ::wsaf_conf::TargetName() << " lacks control " \
               << ::wsaf_conf::ControlName(::wsaf_conf::control)

#ifdef _WIN32
// --- what the Windows build needs so the suite compiles unchanged (never reached) ---
#define WSAF_MAX_REQUESTS 4194303u
int wsaf_set_dns_servers(const char* csv);
int wsaf_set_dns_timeout(int timeout_ms, int tries);
int wsaf_set_netbase_files(const char* services, const char* protocols);
int wsaf_set_max_requests(unsigned int n);
void wsaf_set_network_down(int down);  // SetUp/TearDown call it with 0: a no-op then
inline hostent* wsaf_gethostbyname(const char* name) { return gethostbyname(name); }
inline HWND wsaf_create_window() { return ::wsaf_conf::CreateMessageWindow(); }

namespace wsaf::dns {
enum class Fault { kNone, kDelay, kDrop, kServfail, kNxdomain, kRefused, kTruncate, kWrongId, kMalformed };
struct ServerStats {
  unsigned long long udp_queries = 0, tcp_queries = 0;
};
struct Zone {};
bool LoadZoneFile(const std::string& path, Zone* zone, std::string* error);
// The environment's server (probe-peer's namespace): nothing to start, no faults to set.
class Server {
 public:
  explicit Server(Zone) {}
  bool Start(int, std::string*) { return true; }
  void Stop() {}
  std::string ServersCsv() const { return "127.0.0.1:53"; }
  void SetFault(Fault f, int = 0);  // kNone is the environment's state; any other fails
  ServerStats stats() const;
};
}  // namespace wsaf::dns
#endif

#endif  // WSAFAULT_TESTS_CONFORMANCE_CONFORMANCE_PLATFORM_H_
