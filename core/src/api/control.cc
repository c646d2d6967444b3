// Control functions: DNS servers, DNS timeouts, netbase files.
#include <arpa/inet.h>

#include <cstdlib>
#include <string>
#include <string_view>

#include "api/engine.h"
#include "wsafault/winsock_async.h"

namespace wsaf {
namespace {

bool ParsePort(std::string_view s, int* port) {
  if (s.empty() || s.size() > 5) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 65535) return false;
  *port = v;
  return true;
}

// One entry: IPv4[:port] or [IPv6][:port], as c-ares' csv syntax.
bool ValidServer(std::string_view entry) {
  int port = 53;
  std::string host;
  if (!entry.empty() && entry.front() == '[') {
    std::size_t close = entry.find(']');
    if (close == std::string_view::npos) return false;
    host = std::string(entry.substr(1, close - 1));
    std::string_view rest = entry.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !ParsePort(rest.substr(1), &port))) return false;
    unsigned char a6[16];
    return inet_pton(AF_INET6, host.c_str(), a6) == 1;
  }
  std::size_t colon = entry.find(':');
  host = std::string(entry.substr(0, colon));
  if (colon != std::string_view::npos && !ParsePort(entry.substr(colon + 1), &port)) return false;
  unsigned char a4[4];
  return inet_pton(AF_INET, host.c_str(), a4) == 1;
}

bool ValidServerList(std::string_view csv) {
  if (csv.empty() || csv.size() > 4096) return false;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = csv.find(',', start);
    std::string_view entry = csv.substr(start, comma == std::string_view::npos ? csv.npos : comma - start);
    if (!ValidServer(entry)) return false;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

}  // namespace
}  // namespace wsaf

extern "C" {

int wsaf_set_dns_servers(const char* csv) {
  WSAF_API_ENTRY();
  if (csv == nullptr || !wsaf::ValidServerList(csv)) return -1;
  std::string servers(csv);
  wsaf::CurrentEngine().UpdateConfig([&](wsaf::ResolverConfig* c) { c->dns_servers = servers; });
  return 0;
}

int wsaf_set_dns_timeout(int timeout_ms, int tries) {
  WSAF_API_ENTRY();
  if (timeout_ms < 1 || timeout_ms > 60000 || tries < 1 || tries > 10) return -1;
  wsaf::CurrentEngine().UpdateConfig([&](wsaf::ResolverConfig* c) {
    c->timeout_ms = timeout_ms;
    c->tries = tries;
  });
  return 0;
}

static_assert(WSAF_MAX_REQUESTS == wsaf::TaskTable::kMaxSlots, "the header's limit is the table's");

int wsaf_set_max_requests(unsigned int max_requests) {
  WSAF_API_ENTRY();
  if (max_requests == 0 || max_requests > WSAF_MAX_REQUESTS) return -1;
  wsaf::Engine& e = wsaf::CurrentEngine();
  // Between sessions only: no request of a session is then pending or completing, so every
  // slot but an old session's queued message is free, and the limit (which counts slots by
  // position: starts use only the first max_requests) is a limit on requests in use.
  wsaf::seam::MutexLock lock(e.session_mu);
  if (wsaf::TaskTable::RefsOf(e.table.Session()) != 0) return -1;
  e.table.SetMaxRequests(max_requests);
  return 0;
}

int wsaf_set_netbase_files(const char* services_path, const char* protocols_path) {
  WSAF_API_ENTRY();
  std::string services, protocols, error;
  if (!wsaf::ReadSmallFile(services_path ? services_path : "/etc/services", &services, &error) ||
      !wsaf::ReadSmallFile(protocols_path ? protocols_path : "/etc/protocols", &protocols, &error)) {
    return -1;
  }
  auto db = std::make_shared<wsaf::NetbaseDb>();
  db->ParseServices(services);
  db->ParseProtocols(protocols);
  wsaf::CurrentEngine().UpdateConfig([&](wsaf::ResolverConfig* c) { c->netbase = db; });
  return 0;
}

}  // extern "C"
