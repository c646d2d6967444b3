// dns_seed_gen: writes the seed corpus of dns_reply_fuzzer from real replies of the embedded
// DNS server (corpus/zones/test.zone), in the fuzzer's input layout (see dns_reply_fuzzer.cc).
//
//   dns_seed_gen ZONE_FILE OUT_DIR
//
// The server listens on 127.0.0.1 only; queries are built with ares_create_query and sent over
// real loopback UDP/TCP sockets. Each seed names its lookup, so a changed reply format shows up
// as a diff in corpus/dns_reply_fuzzer/.
#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "dnsserver/dns_server.h"

namespace {

using Bytes = std::string;

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "dns_seed_gen: %s\n", why.c_str());
  std::exit(1);
}

Bytes MakeQuery(const std::string& name, int type) {
  unsigned char* buf = nullptr;
  int len = 0;
  if (ares_create_query(name.c_str(), 1, type, 0x1234, 1, &buf, &len, 0) != ARES_SUCCESS) {
    Die("ares_create_query " + name);
  }
  Bytes q(reinterpret_cast<char*>(buf), static_cast<std::size_t>(len));
  ares_free_string(buf);
  return q;
}

sockaddr_in Server(uint16_t port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sin;
}

Bytes AskUdp(uint16_t port, const Bytes& query) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sin = Server(port);
  if (sendto(fd, query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&sin), sizeof sin) < 0) {
    Die("sendto");
  }
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 3000) != 1) Die("no UDP reply");
  char buf[65536];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  close(fd);
  if (n <= 0) Die("recv");
  return Bytes(buf, static_cast<std::size_t>(n));
}

Bytes AskTcp(uint16_t port, const Bytes& query) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin = Server(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) Die("connect");
  Bytes framed;
  framed.push_back(static_cast<char>(query.size() >> 8));
  framed.push_back(static_cast<char>(query.size() & 0xff));
  framed += query;
  if (write(fd, framed.data(), framed.size()) != static_cast<ssize_t>(framed.size())) Die("write");
  Bytes in;
  char buf[65536];
  auto want = [&] {
    return 2 + (static_cast<std::size_t>(static_cast<unsigned char>(in[0])) << 8 |
                static_cast<unsigned char>(in[1]));
  };
  while (in.size() < 2 || in.size() < want()) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 3000) != 1) Die("no TCP reply");
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) Die("TCP read");
    in.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  return in.substr(2);
}

struct Reply {
  uint8_t sel;
  Bytes bytes;
};

void WriteSeed(const std::string& dir, const std::string& name, uint8_t mode, uint16_t buflen,
               const std::vector<Reply>& replies) {
  Bytes out;
  out.push_back(static_cast<char>(mode));
  out.push_back(static_cast<char>(buflen & 0xff));
  out.push_back(static_cast<char>(buflen >> 8));
  out.push_back(0);  // aligned buffer
  for (const Reply& r : replies) {
    out.push_back(static_cast<char>(r.sel));
    out.push_back(static_cast<char>(r.bytes.size() >> 8));
    out.push_back(static_cast<char>(r.bytes.size() & 0xff));
    out += r.bytes;
  }
  std::ofstream f(dir + "/" + name, std::ios::binary);
  f << out;
  if (!f) Die("cannot write " + dir + "/" + name);
  std::printf("%s: %zu bytes\n", name.c_str(), out.size());
}

// Modes and name indexes of dns_reply_fuzzer.cc.
constexpr uint8_t Mode(int kind, int which) { return static_cast<uint8_t>(kind | which << 3); }
enum { kByNameV4 = 0, kByNameV6 = 1, kByNameAny = 2, kByAddrV4 = 3, kByAddrV6 = 4, kPtrV4 = 5,
       kPtrV6 = 6 };
enum { kHost1 = 0, kMulti = 1, kV6only = 2, kDual = 3, kAlias2 = 4, kBig = 5, kMissing = 6,
       kExample = 7 };

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) Die("usage: dns_seed_gen ZONE_FILE OUT_DIR");
  wsaf::dns::Zone zone;
  std::string error;
  if (!wsaf::dns::LoadZoneFile(argv[1], &zone, &error)) Die(error);
  wsaf::dns::Server server(std::move(zone));
  if (!server.Start(0, &error)) Die(error);
  const uint16_t port = server.port();
  const std::string dir = argv[2];
  using wsaf::dns::Fault;
  constexpr int kA = 1, kAaaa = 28, kPtr = 12;
  auto udp = [&](const std::string& name, int type) { return AskUdp(port, MakeQuery(name, type)); };
  auto tcp = [&](const std::string& name, int type) { return AskTcp(port, MakeQuery(name, type)); };

  WriteSeed(dir, "a_host1", Mode(kByNameV4, kHost1), 1024, {{0, udp("host1.test", kA)}});
  WriteSeed(dir, "a_multi_small_buffer", Mode(kByNameV4, kMulti), 40, {{0, udp("multi.test", kA)}});
  WriteSeed(dir, "aaaa_v6only", Mode(kByNameV6, kV6only), 1024, {{0, udp("v6only.test", kAaaa)}});
  WriteSeed(dir, "any_dual", Mode(kByNameAny, kDual), 1024,
            {{0, udp("dual.test", kAaaa)}, {1, udp("dual.test", kA)}});
  WriteSeed(dir, "cname_chain", Mode(kByNameV4, kAlias2), 1024, {{0, udp("alias2.test", kA)}});
  WriteSeed(dir, "cname_chain_aaaa_nodata", Mode(kByNameV6, kAlias2), 1024,
            {{0, udp("alias2.test", kAaaa)}});
  WriteSeed(dir, "nxdomain", Mode(kByNameV4, kMissing), 1024, {{0, udp("missing.test", kA)}});
  WriteSeed(dir, "nxdomain_example", Mode(kByNameV4, kExample), 1024,
            {{0, udp("www.example.com", kA)}});
  WriteSeed(dir, "nodata_a_of_v6only", Mode(kByNameV4, kV6only), 1024, {{0, udp("v6only.test", kA)}});
  WriteSeed(dir, "ptr_v4_gethostbyaddr", Mode(kByAddrV4, 0), 1024,
            {{0, udp("1.0.0.10.in-addr.arpa", kPtr)}});
  WriteSeed(dir, "ptr_v4_production", Mode(kPtrV4, 0), 1024, {{0, udp("1.0.0.10.in-addr.arpa", kPtr)}});
  const std::string v6ptr = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa";
  WriteSeed(dir, "ptr_v6_gethostbyaddr", Mode(kByAddrV6, 0), 1024, {{0, udp(v6ptr, kPtr)}});
  WriteSeed(dir, "ptr_v6_production", Mode(kPtrV6, 0), 1024, {{0, udp(v6ptr, kPtr)}});
  WriteSeed(dir, "ptr_nxdomain_production", Mode(kPtrV4, 3), 1024,
            {{0, udp("1.2.0.192.in-addr.arpa", kPtr)}});
  // Truncated over UDP, then the full answer over TCP (c-ares switches by itself).
  server.SetFault(Fault::kTruncate);
  const Bytes truncated = udp("big.test", kA);
  server.SetFault(Fault::kNone);
  WriteSeed(dir, "truncated_then_tcp", Mode(kByNameV4, kBig), 1024,
            {{0, truncated}, {0, tcp("big.test", kA)}});
  WriteSeed(dir, "truncated_then_tcp_fits", Mode(kByNameV4, kBig), 4096,
            {{0, truncated}, {0, tcp("big.test", kA)}});
  WriteSeed(dir, "truncated_only", Mode(kByNameV4, kBig), 1024, {{0, truncated}});
  WriteSeed(dir, "truncated_tcp_hangup", Mode(kByNameV4, kBig), 1024,
            {{0, truncated}, {0x10, ""}});
  for (auto [fault, name] : {std::pair{Fault::kServfail, "servfail"}, {Fault::kRefused, "refused"},
                             {Fault::kMalformed, "malformed"}, {Fault::kNxdomain, "nxdomain_all"}}) {
    server.SetFault(fault);
    WriteSeed(dir, name, Mode(kByNameV4, kHost1), 1024, {{0, udp("host1.test", kA)}});
    WriteSeed(dir, std::string(name) + "_ptr_production", Mode(kPtrV4, 0), 1024,
              {{0, udp("1.0.0.10.in-addr.arpa", kPtr)}});
  }
  server.SetFault(Fault::kNone);
  // A reply spliced onto the query's own question (sel bit 7): the answer section only.
  Bytes spliced = udp("host1.test", kA);
  WriteSeed(dir, "spliced_answer", Mode(kByNameV4, kMulti), 1024,
            {{0x80, spliced.substr(0, 12) + spliced.substr(12 + 16)}});
  WriteSeed(dir, "spoofed_source_then_real", Mode(kByNameV4, kHost1), 1024,
            {{0x40, udp("host1.test", kA)}, {0, udp("host1.test", kA)}});
  server.Stop();
  return 0;
}
