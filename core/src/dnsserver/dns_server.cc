// The embedded DNS server: wire format, zone lookup, fault modes and the socket loop.
//
// One thread owns everything between Start and Stop: the UDP socket, the TCP listener, up to
// kMaxTcpConnections non-blocking connections and the list of delayed replies. It sleeps in
// poll() and wakes on traffic, on the next timer (delayed reply, idle connection) or on the
// eventfd that Stop writes. No socket call can block it, so one slow TCP client never stalls
// the others.
//
// Counting: udp_queries/tcp_queries count every message received; malformed_queries those the
// server could not parse (answered FORMERR when the header was readable, otherwise dropped);
// dropped those the drop fault swallowed; answered every reply actually sent, FORMERR included.
//
// Thread safety: the fault word and the counters are atomics, read and written from any
// thread. Everything else in Impl is touched by the server thread only while it runs, and by
// Start/Stop (one caller thread) only while it does not.
#include "dnsserver/dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>
#include <unordered_map>
#include <utility>

namespace wsaf::dns {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kHeaderSize = 12;
constexpr size_t kMaxUdpReply = 512;  // no EDNS: the classic limit every client accepts
constexpr size_t kMaxTcpReply = 65535;
constexpr size_t kMaxNameWire = 255;
constexpr size_t kUdpBufferSize = 65536;
constexpr int kUdpBatch = 64;                 // datagrams per wake-up, so TCP clients get a turn
constexpr size_t kTcpReadBudget = 64 * 1024;  // bytes per connection per wake-up, same reason
constexpr size_t kMaxTcpOutput = 256 * 1024;  // a client that never reads is cut off
constexpr int kMaxTcpConnections = 64;
constexpr auto kTcpIdleTimeout = std::chrono::seconds(5);
constexpr int kMaxPollWaitMs = 1000;
constexpr int kMaxCnameHops = 8;
constexpr int kBindAttempts = 8;
constexpr uint32_t kTtl = 300;
constexpr uint16_t kWrongIdMask = 0x5a5a;

constexpr uint16_t kTypeA = 1;
constexpr uint16_t kTypeCname = 5;
constexpr uint16_t kTypePtr = 12;
constexpr uint16_t kTypeAaaa = 28;
constexpr uint16_t kClassIn = 1;

constexpr uint8_t kRcodeNoError = 0;
constexpr uint8_t kRcodeFormErr = 1;
constexpr uint8_t kRcodeServFail = 2;
constexpr uint8_t kRcodeNxDomain = 3;
constexpr uint8_t kRcodeNotImp = 4;
constexpr uint8_t kRcodeRefused = 5;

// Header flag word (RFC 1035 4.1.1).
constexpr uint16_t kFlagQr = 0x8000;
constexpr uint16_t kOpcodeMask = 0x7800;
constexpr uint16_t kFlagAa = 0x0400;
constexpr uint16_t kFlagTc = 0x0200;
constexpr uint16_t kFlagRd = 0x0100;

uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

void Put16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v));
}

void Set16(std::vector<uint8_t>* out, size_t at, uint16_t v) {
  (*out)[at] = static_cast<uint8_t>(v >> 8);
  (*out)[at + 1] = static_cast<uint8_t>(v);
}

char AsciiLower(uint8_t c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c); }

std::string NormalizeZoneName(std::string_view text) {
  std::string name;
  for (char c : text) name += AsciiLower(static_cast<uint8_t>(c));
  if (!name.empty() && name.back() == '.') name.pop_back();
  return name;
}

// True if `name` encodes in the wire format without compression tricks: labels of 1..63
// bytes, 255 bytes in all. Zones built by hand (not by ParseZone) may not be checked.
bool Encodable(const std::string& name) {
  if (name.empty() || name.size() + 2 > kMaxNameWire) return false;
  size_t start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.') continue;
    if (i == start || i - start > 63) return false;
    start = i + 1;
  }
  return true;
}

// --- The zone, prepared for answering --------------------------------------------------------

struct ZoneEntry {
  uint16_t type;
  std::vector<uint8_t> address;  // A and AAAA: the raw bytes
  std::string target;            // CNAME and PTR: the normalized name
};

// Node-based, so pointers to keys and entries stay valid for the server's life.
using ZoneIndex = std::unordered_map<std::string, std::vector<ZoneEntry>>;

ZoneIndex BuildIndex(const Zone& zone) {
  ZoneIndex index;
  for (const Record& record : zone.records) {
    std::string owner = NormalizeZoneName(record.name);
    if (!Encodable(owner)) continue;
    ZoneEntry entry{record.type, {}, {}};
    if (record.type == kTypeA || record.type == kTypeAaaa) {
      entry.address.resize(record.type == kTypeA ? 4 : 16);
      int family = record.type == kTypeA ? AF_INET : AF_INET6;
      if (inet_pton(family, record.rdata_text.c_str(), entry.address.data()) != 1) continue;
    } else if (record.type == kTypeCname || record.type == kTypePtr) {
      entry.target = NormalizeZoneName(record.rdata_text);
      if (!Encodable(entry.target)) continue;
    } else {
      continue;
    }
    index[owner].push_back(std::move(entry));
  }
  return index;
}

struct Answer {
  const std::string* owner;
  const ZoneEntry* entry;
};

struct Resolution {
  uint8_t rcode = kRcodeNoError;
  std::vector<Answer> answers;
};

const ZoneEntry* FindCname(const std::vector<ZoneEntry>& entries) {
  for (const ZoneEntry& e : entries) {
    if (e.type == kTypeCname) return &e;
  }
  return nullptr;
}

// Follows CNAMEs inside the zone, at most kMaxCnameHops of them, stopping at a loop. As in
// RFC 6604 the rcode speaks for the last name of the chain.
Resolution Resolve(const ZoneIndex& zone, const std::string& qname, uint16_t qtype) {
  Resolution result;
  auto it = zone.find(qname);
  if (it == zone.end()) {
    result.rcode = kRcodeNxDomain;
    return result;
  }
  std::vector<const std::string*> visited;
  for (int hop = 0;; ++hop) {
    bool found = false;
    for (const ZoneEntry& e : it->second) {
      if (e.type != qtype) continue;
      result.answers.push_back({&it->first, &e});
      found = true;
    }
    if (found || qtype == kTypeCname) return result;
    const ZoneEntry* cname = FindCname(it->second);
    if (cname == nullptr || hop == kMaxCnameHops) return result;
    result.answers.push_back({&it->first, cname});
    visited.push_back(&it->first);
    auto next = zone.find(cname->target);
    if (next == zone.end()) {
      result.rcode = kRcodeNxDomain;
      return result;
    }
    if (std::find(visited.begin(), visited.end(), &next->first) != visited.end()) return result;
    it = next;
  }
}

// --- Queries ---------------------------------------------------------------------------------

struct Query {
  uint16_t id = 0;
  uint16_t flags = 0;
  std::string name;            // lower case, dotted, no trailing dot
  bool name_matchable = true;  // false when a label holds a '.', which no zone name can match
  uint16_t qtype = 0;
  uint16_t qclass = 0;
  std::vector<uint8_t> question;  // the question section as received, echoed verbatim
};

enum class ParseStatus { kOk, kFormErr, kUnreadable };

// Reads the QNAME at *pos. Queries carry no compression pointers (there is nothing before the
// question to point at), so a pointer or a reserved label type is a format error.
bool ReadQuestionName(const uint8_t* data, size_t len, size_t* pos, Query* q) {
  size_t p = *pos;
  size_t wire_length = 0;
  std::string name;
  for (;;) {
    if (p >= len) return false;
    uint8_t label_length = data[p++];
    wire_length += 1 + label_length;
    if (wire_length > kMaxNameWire || label_length > 63) return false;
    if (label_length == 0) break;
    if (p + label_length > len) return false;
    if (!name.empty()) name += '.';
    for (size_t i = 0; i < label_length; ++i) {
      if (data[p + i] == '.') q->name_matchable = false;
      name += AsciiLower(data[p + i]);
    }
    p += label_length;
  }
  q->name = std::move(name);
  *pos = p;
  return true;
}

ParseStatus ParseQuery(const uint8_t* data, size_t len, Query* q) {
  if (len < kHeaderSize) return ParseStatus::kUnreadable;
  q->id = Get16(data);
  q->flags = Get16(data + 2);
  // Never answer a response: two servers pointed at each other would ping-pong forever.
  if (q->flags & kFlagQr) return ParseStatus::kUnreadable;
  if (Get16(data + 4) != 1) return ParseStatus::kFormErr;
  size_t pos = kHeaderSize;
  if (!ReadQuestionName(data, len, &pos, q)) return ParseStatus::kFormErr;
  if (pos + 4 > len) return ParseStatus::kFormErr;
  q->qtype = Get16(data + pos);
  q->qclass = Get16(data + pos + 2);
  pos += 4;
  q->question.assign(data + kHeaderSize, data + pos);
  return ParseStatus::kOk;
}

// --- Replies ---------------------------------------------------------------------------------

class ReplyWriter {
 public:
  // Writes the header (QR, AA, the query's opcode and RD, `rcode`) and, if `q` is given, its
  // question. Counts start at zero and grow as records are added.
  ReplyWriter(uint16_t id, uint16_t query_flags, uint8_t rcode, const Query* q) {
    uint16_t flags = kFlagQr | kFlagAa | (query_flags & (kOpcodeMask | kFlagRd)) | rcode;
    Put16(&out_, id);
    Put16(&out_, flags);
    Put16(&out_, q ? 1 : 0);
    Put16(&out_, 0);
    Put16(&out_, 0);
    Put16(&out_, 0);
    if (q == nullptr) return;
    out_.insert(out_.end(), q->question.begin(), q->question.end());
    // Whole-name compression only: owners and targets repeat whole names, never suffixes.
    if (q->name_matchable && !q->name.empty()) names_.emplace_back(q->name, kHeaderSize);
  }

  void AddRecord(const std::string& owner, const ZoneEntry& entry) {
    WriteName(owner);
    Put16(&out_, entry.type);
    Put16(&out_, kClassIn);
    Put16(&out_, static_cast<uint16_t>(kTtl >> 16));
    Put16(&out_, static_cast<uint16_t>(kTtl));
    size_t rdlength_at = out_.size();
    Put16(&out_, 0);
    if (entry.target.empty()) {
      out_.insert(out_.end(), entry.address.begin(), entry.address.end());
    } else {
      WriteName(entry.target);
    }
    Set16(&out_, rdlength_at, static_cast<uint16_t>(out_.size() - rdlength_at - 2));
    Set16(&out_, 6, static_cast<uint16_t>(Get16(out_.data() + 6) + 1));
  }

  void SetFlag(uint16_t flag) { Set16(&out_, 2, Get16(out_.data() + 2) | flag); }
  void SetAnswerCount(uint16_t n) { Set16(&out_, 6, n); }
  void AppendRaw(std::initializer_list<uint8_t> bytes) { out_.insert(out_.end(), bytes); }
  size_t size() const { return out_.size(); }
  std::vector<uint8_t> Take() { return std::move(out_); }

 private:
  void WriteName(const std::string& name) {
    for (const auto& [known, offset] : names_) {
      if (known == name) {
        Put16(&out_, static_cast<uint16_t>(0xC000 | offset));
        return;
      }
    }
    if (out_.size() < 0x4000) names_.emplace_back(name, out_.size());
    size_t start = 0;
    for (size_t i = 0; i <= name.size(); ++i) {
      if (i < name.size() && name[i] != '.') continue;
      out_.push_back(static_cast<uint8_t>(i - start));
      out_.insert(out_.end(), name.begin() + start, name.begin() + i);
      start = i + 1;
    }
    out_.push_back(0);
  }

  std::vector<uint8_t> out_;
  std::vector<std::pair<std::string, size_t>> names_;
};

std::vector<uint8_t> FormErrReply(const uint8_t* data) {
  return ReplyWriter(Get16(data), Get16(data + 2), kRcodeFormErr, nullptr).Take();
}

// The answer from the zone, or a bare TC reply when it does not fit the transport.
std::vector<uint8_t> ZoneReply(const ZoneIndex& zone, const Query& q, size_t limit) {
  uint8_t rcode = kRcodeNoError;
  Resolution resolution;
  if (q.qclass != kClassIn) {
    rcode = kRcodeRefused;
  } else if (!q.name_matchable) {
    rcode = kRcodeNxDomain;
  } else {
    resolution = Resolve(zone, q.name, q.qtype);
    rcode = resolution.rcode;
  }
  ReplyWriter writer(q.id, q.flags, rcode, &q);
  for (const Answer& a : resolution.answers) writer.AddRecord(*a.owner, *a.entry);
  if (writer.size() <= limit) return writer.Take();
  ReplyWriter truncated(q.id, q.flags, rcode, &q);
  truncated.SetFlag(kFlagTc);
  return truncated.Take();
}

// The reply a well-formed query gets under `fault` (kDrop and the delay are handled by the
// caller: they decide whether and when, not what).
std::vector<uint8_t> BuildReply(const ZoneIndex& zone, const Query& q, Fault fault, bool tcp) {
  if ((q.flags & kOpcodeMask) != 0) return ReplyWriter(q.id, q.flags, kRcodeNotImp, &q).Take();
  switch (fault) {
    case Fault::kServfail:
      return ReplyWriter(q.id, q.flags, kRcodeServFail, &q).Take();
    case Fault::kNxdomain:
      return ReplyWriter(q.id, q.flags, kRcodeNxDomain, &q).Take();
    case Fault::kRefused:
      return ReplyWriter(q.id, q.flags, kRcodeRefused, &q).Take();
    case Fault::kTruncate:
      if (tcp) break;
      {
        ReplyWriter writer(q.id, q.flags, kRcodeNoError, &q);
        writer.SetFlag(kFlagTc);
        return writer.Take();
      }
    case Fault::kMalformed: {
      // The client accepts the header and question, then finds an answer that runs off the
      // end: a compression pointer past the packet and nothing after it.
      ReplyWriter writer(q.id, q.flags, kRcodeNoError, &q);
      writer.SetAnswerCount(1);
      writer.AppendRaw({0xC0, 0xFF, 0x00});
      return writer.Take();
    }
    default:
      break;
  }
  std::vector<uint8_t> reply = ZoneReply(zone, q, tcp ? kMaxTcpReply : kMaxUdpReply);
  if (fault == Fault::kWrongId) Set16(&reply, 0, q.id ^ kWrongIdMask);
  return reply;
}

// --- Sockets ---------------------------------------------------------------------------------

sockaddr_in LoopbackAddress(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  return addr;
}

std::string ErrnoText(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

int OpenBoundSocket(int type, uint16_t port, std::string* error) {
  int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = ErrnoText("socket");
    return -1;
  }
  int one = 1;
  // Lets a restarted server reuse its port while old connections sit in TIME_WAIT.
  if (type == SOCK_STREAM) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr = LoopbackAddress(port);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      (type == SOCK_STREAM && listen(fd, SOMAXCONN) != 0)) {
    *error = ErrnoText(type == SOCK_STREAM ? "bind tcp" : "bind udp");
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

uint16_t LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

bool IsLoopback(const sockaddr_in& addr) {
  return addr.sin_family == AF_INET && (ntohl(addr.sin_addr.s_addr) >> 24) == 127;
}

uint64_t PackFault(Fault f, int delay_ms) {
  uint64_t delay = delay_ms > 0 ? static_cast<uint64_t>(delay_ms) : 0;
  return (delay << 8) | static_cast<uint64_t>(f);
}

Fault UnpackFault(uint64_t word) { return static_cast<Fault>(word & 0xff); }
int UnpackDelay(uint64_t word) { return static_cast<int>(word >> 8); }

}  // namespace

// --- The server ------------------------------------------------------------------------------

struct Server::Impl {
  struct ReplyTarget {
    bool tcp = false;
    sockaddr_in peer{};    // UDP
    uint64_t conn_id = 0;  // TCP
  };

  struct TcpConn {
    int fd = -1;
    std::vector<uint8_t> in;
    std::vector<uint8_t> out;
    size_t out_offset = 0;  // invariant: out_offset <= out.size()
    Clock::time_point last_activity;
    int delayed_replies = 0;  // held in `delayed`; an idle close waits for them
    bool dead = false;        // closed at the end of the wake-up, never mid-iteration
  };

  struct DelayedReply {
    ReplyTarget target;
    std::vector<uint8_t> bytes;
  };

  explicit Impl(Zone z) : zone(BuildIndex(z)), record_count(z.records.size()) {}
  ~Impl() { CloseAll(); }

  bool Bind(uint16_t want_port, std::string* error);
  void Run();
  void CloseAll();

  void ReadUdp();
  void AcceptTcp();
  void ServiceConn(uint64_t id, short revents);
  void ReadConn(uint64_t id, TcpConn* conn);
  void FlushConn(TcpConn* conn);
  void OnMessage(const uint8_t* data, size_t len, const ReplyTarget& target);
  void Send(const ReplyTarget& target, const std::vector<uint8_t>& bytes);
  void FireDelayed(Clock::time_point now);
  void ReapConns(Clock::time_point now);
  int PollTimeoutMs(Clock::time_point now) const;

  const ZoneIndex zone;
  const size_t record_count;

  std::atomic<uint64_t> fault_word{PackFault(Fault::kNone, 0)};
  std::atomic<uint16_t> port{0};
  std::atomic<uint64_t> udp_queries{0};
  std::atomic<uint64_t> tcp_queries{0};
  std::atomic<uint64_t> answered{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> malformed_queries{0};

  // Owned by the server thread while it runs (see the file comment).
  int udp_fd = -1;
  int tcp_fd = -1;
  int wake_fd = -1;
  std::thread thread;
  std::unordered_map<uint64_t, TcpConn> conns;
  uint64_t next_conn_id = 1;
  std::multimap<Clock::time_point, DelayedReply> delayed;
  std::vector<uint8_t> udp_buffer;
};

bool Server::Impl::Bind(uint16_t want_port, std::string* error) {
  // With port 0 the kernel picks a free UDP port, but the same TCP port may be taken; another
  // ephemeral pick usually fixes that.
  int attempts = want_port == 0 ? kBindAttempts : 1;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    int udp = OpenBoundSocket(SOCK_DGRAM, want_port, error);
    if (udp < 0) return false;
    uint16_t actual = LocalPort(udp);
    int tcp = OpenBoundSocket(SOCK_STREAM, actual, error);
    if (tcp >= 0) {
      udp_fd = udp;
      tcp_fd = tcp;
      port.store(actual);
      return true;
    }
    bool retry = errno == EADDRINUSE;
    close(udp);
    if (!retry) return false;
  }
  return false;
}

void Server::Impl::CloseAll() {
  for (auto& [id, conn] : conns) close(conn.fd);
  conns.clear();
  delayed.clear();
  for (int* fd : {&udp_fd, &tcp_fd, &wake_fd}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

void Server::Impl::Run() {
  std::vector<pollfd> fds;
  std::vector<uint64_t> ids;
  for (;;) {
    fds.assign({{wake_fd, POLLIN, 0}, {udp_fd, POLLIN, 0}, {tcp_fd, POLLIN, 0}});
    ids.clear();
    for (const auto& [id, conn] : conns) {
      short events = POLLIN;
      if (conn.out_offset < conn.out.size()) events |= POLLOUT;
      fds.push_back({conn.fd, events, 0});
      ids.push_back(id);
    }
    int ready = poll(fds.data(), fds.size(), PollTimeoutMs(Clock::now()));
    if (ready < 0 && errno != EINTR) return;
    if (ready > 0 && fds[0].revents != 0) return;  // Stop
    if (ready > 0) {
      if (fds[1].revents != 0) ReadUdp();
      for (size_t i = 0; i < ids.size(); ++i) {
        if (fds[i + 3].revents != 0) ServiceConn(ids[i], fds[i + 3].revents);
      }
    }
    Clock::time_point now = Clock::now();
    FireDelayed(now);
    // Reaped before accepting: a slot freed by a client's close is free for the next connect.
    ReapConns(now);
    if (ready > 0 && fds[2].revents != 0) AcceptTcp();
  }
}

int Server::Impl::PollTimeoutMs(Clock::time_point now) const {
  Clock::time_point wake = now + std::chrono::milliseconds(kMaxPollWaitMs);
  if (!delayed.empty()) wake = std::min(wake, delayed.begin()->first);
  for (const auto& [id, conn] : conns) {
    // A connection waiting for a delayed reply is not idle; the delayed list wakes us for it.
    if (conn.delayed_replies == 0) wake = std::min(wake, conn.last_activity + kTcpIdleTimeout);
  }
  if (wake <= now) return 0;
  // Rounded up: waking a little early would only spin until the deadline.
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(wake - now);
  return static_cast<int>(wait.count());
}

void Server::Impl::ReadUdp() {
  for (int i = 0; i < kUdpBatch; ++i) {
    ReplyTarget target;
    socklen_t peer_len = sizeof(target.peer);
    ssize_t n = recvfrom(udp_fd, udp_buffer.data(), udp_buffer.size(), 0,
                         reinterpret_cast<sockaddr*>(&target.peer), &peer_len);
    if (n < 0) return;  // EAGAIN, or an ICMP error reported on the socket: nothing to do
    OnMessage(udp_buffer.data(), static_cast<size_t>(n), target);
  }
}

void Server::Impl::AcceptTcp() {
  for (;;) {
    int fd = accept4(tcp_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    // Over the limit the client gets an immediate close rather than a silent wait.
    if (conns.size() >= static_cast<size_t>(kMaxTcpConnections)) {
      close(fd);
      continue;
    }
    TcpConn& conn = conns[next_conn_id++];
    conn.fd = fd;
    conn.last_activity = Clock::now();
  }
}

void Server::Impl::ServiceConn(uint64_t id, short revents) {
  auto it = conns.find(id);
  if (it == conns.end() || it->second.dead) return;
  TcpConn& conn = it->second;
  if (revents & (POLLIN | POLLHUP | POLLERR)) ReadConn(id, &conn);
  if (!conn.dead && (revents & POLLOUT)) FlushConn(&conn);
  if (revents & POLLNVAL) conn.dead = true;
}

void Server::Impl::ReadConn(uint64_t id, TcpConn* conn) {
  uint8_t chunk[4096];
  size_t budget = kTcpReadBudget;
  while (budget > 0 && !conn->dead) {
    ssize_t n = recv(conn->fd, chunk, sizeof(chunk), 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      conn->dead = true;
      return;
    }
    if (n < 0) return;
    budget -= std::min(budget, static_cast<size_t>(n));
    conn->last_activity = Clock::now();
    conn->in.insert(conn->in.end(), chunk, chunk + n);
    size_t consumed = 0;
    ReplyTarget target{true, {}, id};
    while (conn->in.size() - consumed >= 2) {
      size_t frame = Get16(conn->in.data() + consumed);
      if (conn->in.size() - consumed - 2 < frame) break;
      OnMessage(conn->in.data() + consumed + 2, frame, target);
      consumed += 2 + frame;
    }
    conn->in.erase(conn->in.begin(), conn->in.begin() + static_cast<ptrdiff_t>(consumed));
  }
}

void Server::Impl::FlushConn(TcpConn* conn) {
  while (conn->out_offset < conn->out.size()) {
    ssize_t n = send(conn->fd, conn->out.data() + conn->out_offset,
                     conn->out.size() - conn->out_offset, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) conn->dead = true;
      return;
    }
    conn->out_offset += static_cast<size_t>(n);
    conn->last_activity = Clock::now();
  }
  conn->out.clear();
  conn->out_offset = 0;
}

void Server::Impl::OnMessage(const uint8_t* data, size_t len, const ReplyTarget& target) {
  // Sequentially consistent, load first: whoever sees the counter move knows this message was
  // judged by the fault in force before it, so a later SetFault cannot change its fate.
  uint64_t word = fault_word.load();
  (target.tcp ? tcp_queries : udp_queries).fetch_add(1);
  Fault fault = UnpackFault(word);
  Query q;
  ParseStatus status = ParseQuery(data, len, &q);
  if (status != ParseStatus::kOk) {
    malformed_queries.fetch_add(1, std::memory_order_relaxed);
    if (status == ParseStatus::kFormErr) Send(target, FormErrReply(data));
    return;
  }
  if (fault == Fault::kDrop) {
    dropped.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::vector<uint8_t> reply = BuildReply(zone, q, fault, target.tcp);
  int delay_ms = UnpackDelay(word);
  if (fault != Fault::kDelay || delay_ms <= 0) {
    Send(target, reply);
    return;
  }
  if (target.tcp) {
    auto it = conns.find(target.conn_id);
    if (it == conns.end()) return;
    it->second.delayed_replies++;
  }
  delayed.emplace(Clock::now() + std::chrono::milliseconds(delay_ms),
                  DelayedReply{target, std::move(reply)});
}

void Server::Impl::Send(const ReplyTarget& target, const std::vector<uint8_t>& bytes) {
  if (!target.tcp) {
    // Bound to 127.0.0.1, so only local senders reach us; refuse anything else regardless.
    if (!IsLoopback(target.peer)) return;
    // Counted before sending, so a client holding the reply always sees it counted.
    answered.fetch_add(1, std::memory_order_relaxed);
    ssize_t n = sendto(udp_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&target.peer), sizeof(target.peer));
    if (n < 0) answered.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  auto it = conns.find(target.conn_id);
  if (it == conns.end() || it->second.dead) return;
  TcpConn& conn = it->second;
  conn.out.push_back(static_cast<uint8_t>(bytes.size() >> 8));
  conn.out.push_back(static_cast<uint8_t>(bytes.size()));
  conn.out.insert(conn.out.end(), bytes.begin(), bytes.end());
  answered.fetch_add(1, std::memory_order_relaxed);
  FlushConn(&conn);
  if (conn.out.size() - conn.out_offset > kMaxTcpOutput) conn.dead = true;
}

void Server::Impl::FireDelayed(Clock::time_point now) {
  while (!delayed.empty() && delayed.begin()->first <= now) {
    DelayedReply reply = std::move(delayed.begin()->second);
    delayed.erase(delayed.begin());
    if (reply.target.tcp) {
      auto it = conns.find(reply.target.conn_id);
      if (it == conns.end()) continue;
      it->second.delayed_replies--;
    }
    Send(reply.target, reply.bytes);
  }
}

void Server::Impl::ReapConns(Clock::time_point now) {
  for (auto it = conns.begin(); it != conns.end();) {
    TcpConn& conn = it->second;
    bool idle = conn.delayed_replies == 0 && now - conn.last_activity >= kTcpIdleTimeout;
    if (conn.dead || idle) {
      close(conn.fd);
      it = conns.erase(it);
    } else {
      ++it;
    }
  }
}

// --- The public face -------------------------------------------------------------------------

Server::Server(Zone zone) : impl_(std::make_unique<Impl>(std::move(zone))) {}

Server::~Server() { Stop(); }

bool Server::Start(uint16_t port, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  if (impl_->thread.joinable()) {
    *error = "already started";
    return false;
  }
  impl_->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->wake_fd < 0) {
    *error = ErrnoText("eventfd");
    return false;
  }
  if (!impl_->Bind(port, error)) {
    impl_->CloseAll();
    return false;
  }
  impl_->udp_buffer.resize(kUdpBufferSize);
  impl_->thread = std::thread([impl = impl_.get()] { impl->Run(); });
  return true;
}

void Server::Stop() {
  if (!impl_->thread.joinable()) return;
  uint64_t one = 1;
  // An eventfd write only fails when the counter would overflow, i.e. never here.
  [[maybe_unused]] ssize_t n = write(impl_->wake_fd, &one, sizeof(one));
  impl_->thread.join();
  impl_->CloseAll();
}

uint16_t Server::port() const { return impl_->port.load(); }

std::string Server::ServersCsv() const { return "127.0.0.1:" + std::to_string(port()); }

void Server::SetFault(Fault f, int delay_ms) {
  impl_->fault_word.store(PackFault(f, delay_ms), std::memory_order_release);
}

Fault Server::fault() const { return UnpackFault(impl_->fault_word.load()); }

ServerStats Server::stats() const {
  ServerStats s;
  s.udp_queries = impl_->udp_queries.load(std::memory_order_relaxed);
  s.tcp_queries = impl_->tcp_queries.load(std::memory_order_relaxed);
  s.answered = impl_->answered.load(std::memory_order_relaxed);
  s.dropped = impl_->dropped.load(std::memory_order_relaxed);
  s.malformed_queries = impl_->malformed_queries.load(std::memory_order_relaxed);
  return s;
}

}  // namespace wsaf::dns
