// dns_reply_fuzzer: the DNS traffic the resolver receives, through c-ares and the real packing.
//
// c-ares talks to a virtual socket layer (ares_set_socket_functions): no socket is ever
// opened and no packet leaves the process. Every query c-ares sends is captured (id and
// question); every reply comes from the input, with the id of the query it answers patched
// in so that it gets past c-ares' id check. The channel is the production one
// (MakeIsolatedChannel, server 127.0.0.1:53, lookups "b"), driven by ares_process_fd.
//
// Input layout:
//   byte 0      lookup: bits 0-2 kind (kLookups), bits 3-5 which name / address
//   bytes 1-2   caller buffer size for the packing (little endian)
//   byte 3      buffer misalignment (low 3 bits)
//   then up to kMaxReplies records: [sel] [len_hi] [len_lo] [len bytes]
//     sel bits 0-3: answers the query sent (sel & 15) queries before the latest (mod count)
//     sel bit 4:    TCP: the peer closes the connection after this reply (recv returns 0)
//     sel bit 5:    TCP: the bytes are the raw stream (no length prefix added)
//     sel bit 6:    UDP: the reply comes from a wrong address (c-ares must drop it)
//     sel bit 7:    splice: the reply is header (12 bytes of input, QDCOUNT 1) + the query's
//                   own question + the rest of the input, so mutations land in the answers
//
// Checks on the outcome (as CaresBackend::Finish and DeliverAnswer see it):
//   * the callback runs exactly once (after the replies, ares_cancel ends the lookup);
//   * the Winsock error is WinsockErrorFromAres(status), one of SPEC.md's lookup errors, and
//     for statuses that name a DNS condition the one SPEC.md assigns (independent table);
//   * a status that comes from an RCODE (SERVFAIL, REFUSED, NOTIMP, FORMERR) was sent by the
//     server in some reply;
//   * a success of a lookup CaresBackend makes (AF_INET by name, by address) has the family
//     asked for (WSAAsyncGetHostByName is IPv4-only: an AF_INET6 hostent there is a bug), and packs: size query, size - 1 fails untouched,
//     size fits, the buffer validates, the copy matches the hostent, no byte outside written,
//     and the size fits the 16-bit buflen of WSAMAKEASYNCREPLY (else the message lies).
#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "resolver/cares_backend.h"
#include "resolver/pack.h"
#include "table/completion.h"

namespace {

constexpr const char* kTarget = "dns_reply_fuzzer";
constexpr int kMaxReplies = 12;
constexpr int kMaxSockets = 16;
constexpr int kMaxSends = 64;
constexpr ares_socket_t kFirstFd = 1000;

using wsaf::fuzz::Fail;

enum class Lookup {
  kByNameV4,        // ares_gethostbyname(AF_INET): the production path (CaresBackend)
  kByNameV6,        // ares_gethostbyname(AF_INET6)
  kByNameAny,       // ares_gethostbyname(AF_UNSPEC): two queries at once
  kByAddrV4,        // ares_gethostbyaddr, IPv4
  kByAddrV6,        // ares_gethostbyaddr, IPv6
  kProdPtrV4,       // the production reverse path: ares_query PTR + ares_parse_ptr_reply
  kProdPtrV6,
  kByNameV4Again,   // as kByNameV4 (keeps the 3-bit field dense)
};

// Names from corpus/zones/test.zone (the seeds are that server's replies), plus others.
const char* const kNames[8] = {"host1.test", "multi.test",   "v6only.test", "dual.test",
                               "alias2.test", "big.test",    "missing.test", "www.example.com"};
const char* const kAddrs4[8] = {"10.0.0.1", "10.0.0.2", "10.1.0.1", "192.0.2.1",
                                "127.0.0.1", "0.0.0.0", "255.255.255.255", "10.3.0.1"};
const char* const kAddrs6[8] = {"fd00::1", "fd00::2", "2001:db8::1", "::1",
                                "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::ffff:10.0.0.1",
                                "fe80::1"};

// ---- The virtual network ------------------------------------------------------------------

struct VSocket {
  bool tcp = false;
  bool open = true;
  bool peer_closed = false;        // TCP: recv answers 0 once the stream is drained
  std::deque<std::string> dgrams;  // UDP: datagrams waiting
  std::deque<bool> spoofed;        // UDP: each datagram's "from the wrong address" flag
  std::string stream_in;           // TCP: bytes waiting
  std::string stream_out;          // TCP: bytes c-ares wrote, not yet split into messages
};

struct SentQuery {
  ares_socket_t fd;
  uint16_t id;
  std::string question;  // the question section as sent (for spliced replies)
};

struct Net {
  std::map<ares_socket_t, VSocket> sockets;
  std::vector<SentQuery> sent;
  ares_socket_t next_fd = kFirstFd;
  int sends = 0;
  uint32_t rcodes_seen = 0;  // bit r: some delivered reply carried RCODE r
};

Net* g_net = nullptr;

// Length of the first question (name + type + class) of a DNS message, or the rest.
std::string FirstQuestion(const std::string& msg) {
  std::size_t p = 12;
  while (p < msg.size()) {
    const unsigned char len = static_cast<unsigned char>(msg[p]);
    if (len == 0) {
      ++p;
      break;
    }
    if ((len & 0xC0) == 0xC0) {
      p += 2;
      break;
    }
    p += 1 + len;
  }
  p = std::min(p + 4, msg.size());
  return p > 12 ? msg.substr(12, p - 12) : std::string();
}

void Capture(ares_socket_t fd, const std::string& msg) {
  if (msg.size() < 12) return;
  SentQuery q;
  q.fd = fd;
  q.id = static_cast<uint16_t>((static_cast<unsigned char>(msg[0]) << 8) |
                               static_cast<unsigned char>(msg[1]));
  q.question = FirstQuestion(msg);
  g_net->sent.push_back(std::move(q));
}

ares_socket_t VSocketOpen(int domain, int type, int protocol, void*) {
  // c-ares 1.18 sorts getaddrinfo answers (RFC 6724) by connecting a UDP socket, opened with
  // IPPROTO_UDP, to each address and asking getsockname() for the source: a real socket call
  // our descriptors cannot answer. EAFNOSUPPORT makes c-ares skip the source lookup (no
  // sorting), as for a family the host lacks; query sockets are opened with protocol 0.
  if (protocol != 0) {
    errno = EAFNOSUPPORT;
    return ARES_SOCKET_BAD;
  }
  if (static_cast<int>(g_net->sockets.size()) >= kMaxSockets || domain != AF_INET) {
    errno = EMFILE;
    return ARES_SOCKET_BAD;
  }
  ares_socket_t fd = g_net->next_fd++;
  g_net->sockets[fd].tcp = (type & 0xff) == SOCK_STREAM;
  return fd;
}

int VSocketClose(ares_socket_t fd, void*) {
  auto it = g_net->sockets.find(fd);
  if (it == g_net->sockets.end() || !it->second.open) {
    Fail(kTarget, "socket-close", "c-ares closed a socket that is not open");
  }
  it->second.open = false;
  return 0;
}

int VSocketConnect(ares_socket_t fd, const struct sockaddr* sa, ares_socklen_t len, void*) {
  const auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
  if (len < static_cast<ares_socklen_t>(sizeof(sockaddr_in)) || sin->sin_family != AF_INET ||
      sin->sin_addr.s_addr != htonl(INADDR_LOOPBACK) || ntohs(sin->sin_port) != 53) {
    char where[64] = "?";
    if (sin->sin_family == AF_INET) inet_ntop(AF_INET, &sin->sin_addr, where, sizeof where);
    Fail(kTarget, "network-safety", "c-ares connects to " + std::string(where) + ":" +
                                        std::to_string(ntohs(sin->sin_port)) + ", family " +
                                        std::to_string(sin->sin_family) + ", not 127.0.0.1:53");
  }
  (void)fd;
  return 0;
}

ares_ssize_t VSocketSendv(ares_socket_t fd, const struct iovec* iov, int iovcnt, void*) {
  auto it = g_net->sockets.find(fd);
  if (it == g_net->sockets.end() || !it->second.open) {
    errno = EBADF;
    return -1;
  }
  if (++g_net->sends > kMaxSends) {
    errno = EPIPE;  // bounded: a lookup never needs this many sends
    return -1;
  }
  std::string data;
  for (int i = 0; i < iovcnt; ++i) data.append(static_cast<const char*>(iov[i].iov_base), iov[i].iov_len);
  VSocket& s = it->second;
  if (!s.tcp) {
    Capture(fd, data);
    return static_cast<ares_ssize_t>(data.size());
  }
  s.stream_out += data;
  while (s.stream_out.size() >= 2) {
    std::size_t len = (static_cast<unsigned char>(s.stream_out[0]) << 8) |
                      static_cast<unsigned char>(s.stream_out[1]);
    if (s.stream_out.size() < 2 + len) break;
    Capture(fd, s.stream_out.substr(2, len));
    s.stream_out.erase(0, 2 + len);
  }
  return static_cast<ares_ssize_t>(data.size());
}

ares_ssize_t VSocketRecvfrom(ares_socket_t fd, void* buf, size_t len, int, struct sockaddr* from,
                             ares_socklen_t* from_len, void*) {
  auto it = g_net->sockets.find(fd);
  if (it == g_net->sockets.end() || !it->second.open) {
    errno = EBADF;
    return -1;
  }
  VSocket& s = it->second;
  if (s.tcp) {
    if (s.stream_in.empty()) {
      if (s.peer_closed) return 0;
      errno = EAGAIN;
      return -1;
    }
    std::size_t n = std::min(len, s.stream_in.size());
    std::memcpy(buf, s.stream_in.data(), n);
    s.stream_in.erase(0, n);
    return static_cast<ares_ssize_t>(n);
  }
  if (s.dgrams.empty()) {
    errno = EAGAIN;
    return -1;
  }
  std::string d = std::move(s.dgrams.front());
  bool spoofed = s.spoofed.front();
  s.dgrams.pop_front();
  s.spoofed.pop_front();
  std::size_t n = std::min(len, d.size());  // a short buffer truncates, as UDP does
  std::memcpy(buf, d.data(), n);
  if (from != nullptr && from_len != nullptr) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(53);
    sin.sin_addr.s_addr = spoofed ? htonl(0x0A000063) : htonl(INADDR_LOOPBACK);
    std::size_t copy = std::min<std::size_t>(*from_len, sizeof(sin));
    std::memcpy(from, &sin, copy);
    *from_len = static_cast<ares_socklen_t>(sizeof(sin));
  }
  return static_cast<ares_ssize_t>(n);
}

const ares_socket_functions kVirtualSockets = {VSocketOpen, VSocketClose, VSocketConnect,
                                               VSocketRecvfrom, VSocketSendv};

// ---- The outcome checks -------------------------------------------------------------------

struct Outcome {
  int calls = 0;
  int family = AF_INET;      // the family asked for
  bool check_family = true;  // the lookup is one CaresBackend makes: the family must match
  std::size_t buflen = 0;
  std::size_t misalign = 0;
};
Outcome* g_outcome = nullptr;

// SPEC.md's table, restated independently of WinsockErrorFromAres: -1 where the status does
// not name a DNS condition (then any lookup error is accepted).
int SpecErrorFor(int status) {
  switch (status) {
    case ARES_SUCCESS: return 0;
    case ARES_ENOTFOUND: return WSAHOST_NOT_FOUND;
    case ARES_ENODATA: return WSANO_DATA;
    case ARES_ESERVFAIL:
    case ARES_ETIMEOUT: return WSATRY_AGAIN;
    case ARES_EREFUSED:
    case ARES_EFORMERR:
    case ARES_EBADRESP:
    case ARES_ENOTIMP: return WSANO_RECOVERY;
    default: return -1;
  }
}

int RcodeBehind(int status) {
  switch (status) {
    case ARES_EFORMERR: return 1;
    case ARES_ESERVFAIL: return 2;
    case ARES_ENOTIMP: return 4;
    case ARES_EREFUSED: return 5;
    default: return -1;
  }
}

bool SameHost(const hostent& src, const char* buf) {
  hostent p;
  std::memcpy(&p, buf, sizeof p);
  if (p.h_addrtype != src.h_addrtype || p.h_length != src.h_length) return false;
  if (std::strcmp(p.h_name, src.h_name != nullptr ? src.h_name : "") != 0) return false;
  std::size_t n_alias = wsaf::fuzz::CountList(src.h_aliases, 1024);
  if (!wsaf::fuzz::SameList(p.h_aliases, src.h_aliases, n_alias)) return false;
  std::size_t n_addr = wsaf::fuzz::CountList(src.h_addr_list, 1024);
  for (std::size_t i = 0; i < n_addr; ++i) {
    if (p.h_addr_list[i] == nullptr ||
        std::memcmp(p.h_addr_list[i], src.h_addr_list[i], static_cast<std::size_t>(src.h_length)) != 0) {
      return false;
    }
  }
  return p.h_addr_list[n_addr] == nullptr;
}

// What CaresBackend::Finish and DeliverAnswer do with (status, host), checked.
void Judge(int status, const hostent* host) {
  Outcome& o = *g_outcome;
  if (++o.calls > 1) Fail(kTarget, "callback-once", "the lookup's callback ran twice");
  const int error = wsaf::WinsockErrorFromAres(status);
  const int spec = SpecErrorFor(status);
  if (spec >= 0 && error != spec) {
    Fail(kTarget, "error-mapping", "c-ares status " + std::string(ares_strerror(status)) +
                                       " maps to " + std::to_string(error) + ", SPEC.md says " +
                                       std::to_string(spec));
  }
  if (error != 0 && error != WSAHOST_NOT_FOUND && error != WSATRY_AGAIN &&
      error != WSANO_RECOVERY && error != WSANO_DATA) {
    Fail(kTarget, "error-mapping", "status " + std::to_string(status) + " maps to " +
                                       std::to_string(error) + ", not a lookup error");
  }
  const int rcode = RcodeBehind(status);
  if (rcode >= 0 && (g_net->rcodes_seen & (1u << rcode)) == 0) {
    Fail(kTarget, "status-from-reply", std::string(ares_strerror(status)) +
                                           " but no reply carried RCODE " + std::to_string(rcode));
  }
  if (std::getenv("WSAFAULT_FUZZ_VERBOSE") != nullptr) {
    std::fprintf(stderr, "dns_reply_fuzzer: status %s -> Winsock %d, host %s, %zu address(es), "
                 "%zu alias(es), %d send(s)\n", ares_strerror(status), error,
                 host != nullptr && host->h_name != nullptr ? host->h_name : "-",
                 host != nullptr ? wsaf::fuzz::CountList(host->h_addr_list, 100000) : 0,
                 host != nullptr ? wsaf::fuzz::CountList(host->h_aliases, 100000) : 0,
                 g_net->sends);
  }
  if (error != 0 || host == nullptr) return;  // Finish: no host is WSANO_RECOVERY
  if (o.check_family && o.family == AF_INET) {
    // What CaresBackend::Finish makes of it: an answer of the wrong family is WSANO_DATA.
    wsaf::LookupAnswer answer = wsaf::AnswerFromAres(wsaf::RequestKind::kHostByName, status, host);
    if (answer.host == nullptr) return;
  }
  // Only where our code asks (the production lookups): for AF_INET6 and AF_UNSPEC c-ares 1.18
  // keeps whatever address records the reply holds, which no wsafault path relies on.
  if (o.check_family && host->h_addrtype != o.family) {
    Fail(kTarget, "host-family", "asked for family " + std::to_string(o.family) + ", got " +
                                     std::to_string(host->h_addrtype));
  }
  auto same = [&](const char* buf) { return SameHost(*host, buf); };
  std::size_t need = wsaf::fuzz::CheckPacking(kTarget, *host, wsaf::PackHostent,
                                              wsaf::ValidatePackedHostent, same, o.buflen,
                                              o.misalign);
  // need == 0: DeliverAnswer reports WSANO_RECOVERY, which is right for an unpackable host.
  if (need > 0xFFFF) {
    Fail(kTarget, "buflen-fits-lparam",
         "the packed hostent needs " + std::to_string(need) +
             " bytes; WSAMAKEASYNCREPLY carries 16 bits, so the message would report " +
             std::to_string(need & 0xFFFF));
  }
}

void OnHost(void*, int status, int, hostent* host) { Judge(status, host); }

struct PtrArg {
  unsigned char addr[16];
  int len;
  int family;
};

// CaresBackend::OnPtr.
void OnPtr(void* arg, int status, int, unsigned char* abuf, int alen) {
  const auto* a = static_cast<const PtrArg*>(arg);
  if (status != ARES_SUCCESS) {
    Judge(status, nullptr);
    return;
  }
  hostent* host = nullptr;
  status = ares_parse_ptr_reply(abuf, alen, a->addr, a->len, a->family, &host);
  Judge(status, host);
  if (host != nullptr) ares_free_hostent(host);
}

// ---- Driving the channel ------------------------------------------------------------------

void PumpWrites(ares_channel ch) {
  for (auto& [fd, s] : g_net->sockets) {
    if (s.tcp && s.open) ares_process_fd(ch, ARES_SOCKET_BAD, fd);
  }
}

std::string BuildReply(uint8_t sel, const std::string& chunk, const SentQuery& q) {
  std::string pkt;
  if (sel & 0x80) {
    std::string header = chunk.substr(0, 12);
    header.resize(12, '\0');
    header[4] = 0;
    header[5] = 1;  // QDCOUNT 1: the question below
    pkt = header + q.question + (chunk.size() > 12 ? chunk.substr(12) : std::string());
  } else {
    pkt = chunk;
  }
  if (pkt.size() >= 2) {
    pkt[0] = static_cast<char>(q.id >> 8);
    pkt[1] = static_cast<char>(q.id & 0xff);
  }
  if (pkt.size() >= 4) g_net->rcodes_seen |= 1u << (static_cast<unsigned char>(pkt[3]) & 0x0f);
  return pkt;
}

void Deliver(ares_channel ch, uint8_t sel, const std::string& chunk) {
  if (g_net->sent.empty()) return;
  const std::size_t back = (sel & 0x0f) % g_net->sent.size();
  const SentQuery q = g_net->sent[g_net->sent.size() - 1 - back];
  auto it = g_net->sockets.find(q.fd);
  if (it == g_net->sockets.end() || !it->second.open) return;  // c-ares hung up: dropped
  VSocket& s = it->second;
  const std::string pkt = BuildReply(sel, chunk, q);
  if (!s.tcp) {
    s.dgrams.push_back(pkt);
    s.spoofed.push_back((sel & 0x40) != 0);
    ares_process_fd(ch, q.fd, ARES_SOCKET_BAD);
    return;
  }
  if (!(sel & 0x20)) {
    std::size_t n = std::min<std::size_t>(pkt.size(), 0xFFFF);
    s.stream_in.push_back(static_cast<char>(n >> 8));
    s.stream_in.push_back(static_cast<char>(n & 0xff));
    s.stream_in.append(pkt, 0, n);
  } else {
    s.stream_in += pkt;
  }
  if (sel & 0x10) s.peer_closed = true;
  // c-ares reads a TCP length word and a body in separate calls.
  for (int i = 0; i < 8 && s.open && (!s.stream_in.empty() || s.peer_closed); ++i) {
    ares_process_fd(ch, q.fd, ARES_SOCKET_BAD);
    if (s.stream_in.empty() && !s.peer_closed) break;
    if (s.stream_in.empty() && s.peer_closed && !s.open) break;
  }
}

void StartLookup(ares_channel ch, Lookup kind, int which, PtrArg* ptr) {
  const char* name = kNames[which];
  switch (kind) {
    case Lookup::kByNameV4:
    case Lookup::kByNameV4Again:
      g_outcome->family = AF_INET;
      ares_gethostbyname(ch, name, AF_INET, &OnHost, nullptr);
      return;
    case Lookup::kByNameV6:
      g_outcome->family = AF_INET6;
      g_outcome->check_family = false;
      ares_gethostbyname(ch, name, AF_INET6, &OnHost, nullptr);
      return;
    case Lookup::kByNameAny:
      g_outcome->family = AF_UNSPEC;
      g_outcome->check_family = false;
      ares_gethostbyname(ch, name, AF_UNSPEC, &OnHost, nullptr);
      return;
    default:
      break;
  }
  const bool v6 = kind == Lookup::kByAddrV6 || kind == Lookup::kProdPtrV6;
  ptr->family = v6 ? AF_INET6 : AF_INET;
  ptr->len = v6 ? 16 : 4;
  inet_pton(ptr->family, v6 ? kAddrs6[which] : kAddrs4[which], ptr->addr);
  g_outcome->family = ptr->family;
  if (kind == Lookup::kByAddrV4 || kind == Lookup::kByAddrV6) {
    ares_gethostbyaddr(ch, ptr->addr, ptr->len, ptr->family, &OnHost, nullptr);
    return;
  }
  const std::string rname = wsaf::ReverseName(ptr->addr, ptr->len);
  ares_query(ch, rname.c_str(), 1 /* C_IN */, 12 /* T_PTR */, &OnPtr, ptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wsaf::fuzz::Reader in(data, size);
  const uint8_t mode = in.Byte();
  Outcome outcome;
  outcome.buflen = in.U16();
  outcome.misalign = in.Byte() % 8;
  Net net;
  g_net = &net;
  g_outcome = &outcome;

  wsaf::ResolverConfig config;
  config.dns_servers = "127.0.0.1:53";  // never reached: the sockets are virtual
  config.timeout_ms = 60000;            // no wall-clock timeout fires during one input
  config.tries = 2;
  ares_channel ch = nullptr;
  if (wsaf::MakeIsolatedChannel(config, "b", &ch) != ARES_SUCCESS) {
    Fail(kTarget, "channel", "MakeIsolatedChannel failed");
  }
  ares_set_socket_functions(ch, &kVirtualSockets, nullptr);

  PtrArg ptr{};
  StartLookup(ch, static_cast<Lookup>(mode & 7), (mode >> 3) & 7, &ptr);
  for (int r = 0; r < kMaxReplies && outcome.calls == 0 && in.remaining() > 0; ++r) {
    PumpWrites(ch);
    const uint8_t sel = in.Byte();
    const std::size_t len_hi = in.Byte();
    const std::size_t len = len_hi << 8 | in.Byte();
    Deliver(ch, sel, in.Bytes(len));
  }
  if (outcome.calls == 0) ares_cancel(ch);  // ends the lookup with ARES_ECANCELLED
  ares_destroy(ch);
  if (outcome.calls != 1) {
    Fail(kTarget, "callback-once", "the callback ran " + std::to_string(outcome.calls) + " times");
  }
  g_net = nullptr;
  g_outcome = nullptr;
  return 0;
}
