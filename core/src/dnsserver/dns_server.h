// The embedded DNS server: a small authoritative server for tests, drivers and the campaign.
//
// Serves one zone (see corpus/zones/test.zone for the format) over UDP and TCP on 127.0.0.1
// only, on one port (ephemeral by default). Fault modes switch what it answers, so the
// resolver's error paths can be driven on purpose. It never forwards or recurses.
//
// Thread safety: Start/Stop from one thread; SetFault, stats and port from any thread. The
// server runs one thread of its own between Start and Stop.
#ifndef WSAFAULT_DNSSERVER_DNS_SERVER_H_
#define WSAFAULT_DNSSERVER_DNS_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace wsaf::dns {

enum class Fault {
  kNone,       // answer from the zone
  kDelay,      // answer from the zone after delay_ms
  kDrop,       // never answer (the client times out)
  kServfail,   // rcode 2
  kNxdomain,   // rcode 3 for every name
  kRefused,    // rcode 5
  kTruncate,   // over UDP: TC bit, no answers (the client retries over TCP, which answers fully)
  kWrongId,    // answer with the query id changed (the client ignores it and times out)
  kMalformed,  // right id, garbage after the header
};
const char* FaultName(Fault f);
bool ParseFault(std::string_view name, Fault* out);  // "none", "delay", ..., "malformed"

struct Record {
  std::string name;  // lower case, no trailing dot
  uint16_t type;     // 1 A, 28 AAAA, 5 CNAME, 12 PTR
  std::string rdata_text;  // as in the zone file
};

struct Zone {
  std::vector<Record> records;
};

// Parses zone text. Returns false with "line N: reason" in *error on the first bad line.
bool ParseZone(std::string_view text, Zone* zone, std::string* error);
bool LoadZoneFile(const std::string& path, Zone* zone, std::string* error);

struct ServerStats {
  uint64_t udp_queries = 0;
  uint64_t tcp_queries = 0;
  uint64_t answered = 0;
  uint64_t dropped = 0;
  uint64_t malformed_queries = 0;  // requests the server could not parse (answered FORMERR)
};

class Server {
 public:
  explicit Server(Zone zone);
  ~Server();  // Stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds UDP and TCP on 127.0.0.1:port (0 = ephemeral, the same port for both) and starts
  // the server thread. Returns false with a reason.
  bool Start(uint16_t port, std::string* error);
  void Stop();
  uint16_t port() const;
  std::string ServersCsv() const;  // "127.0.0.1:PORT", for wsaf_set_dns_servers

  // Applies to queries received afterwards. delay_ms is used by kDelay.
  void SetFault(Fault f, int delay_ms = 0);
  Fault fault() const;
  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wsaf::dns

#endif  // WSAFAULT_DNSSERVER_DNS_SERVER_H_
