#include "catalog.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>
#include <string_view>

namespace wsaf::stress {

namespace {

constexpr uint32_t V4(int a, int b, int c, int d) {
  return (static_cast<uint32_t>(a) << 24) | (b << 16) | (c << 8) | static_cast<uint32_t>(d);
}

Query Host(const char* name, int error, const char* expect_name = nullptr, int count = 0,
           uint32_t first = 0, bool dns = true) {
  Query q{Kind::kHostByName, name};
  q.name = name;
  q.dns = dns;
  q.expect_error = error;
  q.expect_name = expect_name;
  q.expect_count = count;
  q.expect_first_v4 = first;
  return q;
}

Query AddrV4(const char* label, uint32_t a, int error, const char* expect_name = nullptr) {
  Query q{Kind::kHostByAddr, label};
  uint32_t n = htonl(a);
  std::memcpy(q.addr, &n, 4);
  q.addr_len = 4;
  q.family = AF_INET;
  q.dns = true;
  q.expect_error = error;
  q.expect_name = expect_name;
  q.expect_count = 1;
  q.expect_first_v4 = a;
  return q;
}

Query AddrV6(const char* label, const char* text, int error, const char* expect_name) {
  Query q{Kind::kHostByAddr, label};
  inet_pton(AF_INET6, text, q.addr);
  q.addr_len = 16;
  q.family = AF_INET6;
  q.dns = true;
  q.expect_error = error;
  q.expect_name = expect_name;
  q.expect_count = 1;
  return q;
}

Query Proto(Kind kind, const char* label, const char* name, int number, int error,
            const char* expect_name = nullptr, int expect_number = 0) {
  Query q{kind, label};
  q.name = name;
  q.number = number;
  q.expect_error = error;
  q.expect_name = expect_name;
  q.expect_number = expect_number;
  return q;
}

Query Serv(Kind kind, const char* label, const char* name, const char* proto, int port, int error,
           const char* expect_name = nullptr, int expect_port = 0,
           const char* expect_proto = nullptr) {
  Query q{kind, label};
  q.name = name;
  q.proto = proto;
  q.number = port;
  q.expect_error = error;
  q.expect_name = expect_name;
  q.expect_number = expect_port;
  q.expect_proto = expect_proto;
  return q;
}

Query BigTcp(Query q) {
  q.tcp = true;
  return q;
}

std::vector<Query> Build() {
  const Kind kPN = Kind::kProtoByName, kPNum = Kind::kProtoByNumber;
  const Kind kSN = Kind::kServByName, kSP = Kind::kServByPort;
  return {
      Host("host1.test", 0, "host1.test", 1, V4(10, 0, 0, 1)),
      Host("multi.test", 0, "multi.test", 4, V4(10, 1, 0, 1)),
      // c-ares 1.18 names a CNAME chain's hostent after the last alias, not the target.
      Host("alias2.test", 0, "alias.test|host1.test|alias2.test", 1, V4(10, 0, 0, 1)),
      Host("nosuch.test", WSAHOST_NOT_FOUND),
      Host("v6only.test", WSANO_DATA),
      BigTcp(Host("big.test", 0, "big.test", 120, V4(10, 3, 0, 1))),
      Host("10.9.8.7", 0, "10.9.8.7", 1, V4(10, 9, 8, 7), /*dns=*/false),
      AddrV4("10.0.0.1", V4(10, 0, 0, 1), 0, "host1.test"),
      AddrV4("10.0.0.2", V4(10, 0, 0, 2), 0, "host2.test"),
      AddrV4("10.9.9.9", V4(10, 9, 9, 9), WSAHOST_NOT_FOUND),
      AddrV6("fd00::1", "fd00::1", 0, "v6only.test"),
      Proto(kPN, "tcp", "tcp", 0, 0, "tcp", 6),
      Proto(kPN, "udp", "udp", 0, 0, "udp", 17),
      Proto(kPN, "TCP", "TCP", 0, 0, "tcp", 6),
      Proto(kPN, "ipv6-icmp", "ipv6-icmp", 0, 0, "ipv6-icmp", 58),
      Proto(kPN, "nosuchproto", "nosuchproto", 0, WSANO_DATA),
      Proto(kPNum, "6", nullptr, 6, 0, "tcp", 6),
      Proto(kPNum, "17", nullptr, 17, 0, "udp", 17),
      Proto(kPNum, "0", nullptr, 0, 0, "ip", 0),
      Proto(kPNum, "132", nullptr, 132, 0, "sctp", 132),
      Proto(kPNum, "250", nullptr, 250, WSANO_DATA),
      Serv(kSN, "http/tcp", "http", "tcp", 0, 0, "http", 80, "tcp"),
      Serv(kSN, "www/*", "www", nullptr, 0, 0, "http", 80, "tcp"),
      Serv(kSN, "domain/udp", "domain", "udp", 0, 0, "domain", 53, "udp"),
      Serv(kSN, "wsaf-alias2/*", "wsaf-alias2", nullptr, 0, 0, "wsafault-test", 65000, "tcp"),
      Serv(kSN, "http/udp", "http", "udp", 0, WSANO_DATA),
      Serv(kSN, "nosuch/*", "nosuch", nullptr, 0, WSANO_DATA),
      Serv(kSP, "22/tcp", nullptr, "tcp", 22, 0, "ssh", 22, "tcp"),
      Serv(kSP, "53/*", nullptr, nullptr, 53, 0, "domain", 53, "tcp"),
      Serv(kSP, "123/udp", nullptr, "udp", 123, 0, "ntp", 123, "udp"),
      Serv(kSP, "65000/*", nullptr, nullptr, 65000, 0, "wsafault-test", 65000, "tcp"),
      Serv(kSP, "9999/*", nullptr, nullptr, 9999, WSANO_DATA),
  };
}

// Bounds of a packed result: every pointer must land inside [begin, end).
class Span {
 public:
  Span(const char* begin, int used) : begin_(begin), end_(begin + used) {}
  bool Holds(const void* p, std::size_t n) const {
    auto* c = static_cast<const char*>(p);
    return c >= begin_ && c <= end_ && n <= static_cast<std::size_t>(end_ - c);
  }
  bool String(const char* s) const {
    return Holds(s, 1) && std::memchr(s, 0, static_cast<std::size_t>(end_ - s)) != nullptr;
  }
  // A NULL-terminated pointer array (SPEC: aligned for pointers); each entry is checked by
  // `entry`. Reads go through memcpy: the result's struct may sit at an unaligned address.
  template <typename F>
  bool Array(char* const* list, int* count, F entry) const {
    *count = 0;
    if (list == nullptr) return true;
    if (reinterpret_cast<uintptr_t>(list) % alignof(char*) != 0) return false;
    for (const char* const* p = list;; ++p) {
      if (!Holds(p, sizeof(char*))) return false;
      char* item;
      std::memcpy(&item, p, sizeof(item));
      if (item == nullptr) return true;
      if (!entry(item)) return false;
      ++*count;
    }
  }

 private:
  const char* begin_;
  const char* end_;
};

bool NameMatches(const char* alternatives, const char* name) {
  std::string_view alts(alternatives), n(name);
  for (std::size_t start = 0;;) {
    std::size_t bar = alts.find('|', start);
    if (alts.substr(start, bar == std::string_view::npos ? alts.npos : bar - start) == n)
      return true;
    if (bar == std::string_view::npos) return false;
    start = bar + 1;
  }
}

bool Fail(std::string* why, const std::string& reason) {
  *why = reason;
  return false;
}

bool CheckAddresses(const Query& q, const hostent& h, const Span& span, std::string* why) {
  std::vector<bool> seen(static_cast<std::size_t>(q.expect_count), false);
  int count = 0;
  bool ok = span.Array(h.h_addr_list, &count, [&](const char* a) {
    if (!span.Holds(a, static_cast<std::size_t>(h.h_length))) return false;
    if (h.h_addrtype == AF_INET6) return std::memcmp(a, q.addr, 16) == 0;
    uint32_t v;
    std::memcpy(&v, a, 4);
    uint32_t off = ntohl(v) - q.expect_first_v4;
    if (off >= seen.size() || seen[off]) return false;
    seen[off] = true;
    return true;
  });
  if (!ok) return Fail(why, "an address is outside the buffer, unexpected or repeated");
  if (count != q.expect_count) {
    return Fail(why,
                std::to_string(count) + " addresses, expected " + std::to_string(q.expect_count));
  }
  return true;
}

bool CheckHostent(const Query& q, const char* buf, int used, bool strict, std::string* why) {
  if (used < static_cast<int>(sizeof(hostent))) return Fail(why, "shorter than a hostent");
  hostent h;
  std::memcpy(&h, buf, sizeof(h));
  Span span(buf, used);
  if (!span.String(h.h_name)) return Fail(why, "h_name outside the buffer");
  int n = 0;
  if (!span.Array(h.h_aliases, &n, [&](const char* s) { return span.String(s); })) {
    return Fail(why, "h_aliases outside the buffer or misaligned");
  }
  bool v4 = h.h_addrtype == AF_INET && h.h_length == 4;
  bool v6 = h.h_addrtype == AF_INET6 && h.h_length == 16;
  if (!v4 && !v6) return Fail(why, "bad h_addrtype/h_length");
  if (!span.Array(h.h_addr_list, &n, [&](const char* a) { return span.Holds(a, h.h_length); })) {
    return Fail(why, "h_addr_list outside the buffer or misaligned");
  }
  if (!strict) return true;
  int family = q.kind == Kind::kHostByAddr ? q.family : AF_INET;
  if (h.h_addrtype != family) return Fail(why, "wrong address family");
  if (q.expect_name != nullptr && !NameMatches(q.expect_name, h.h_name)) {
    return Fail(why, std::string("h_name '") + h.h_name + "', expected " + q.expect_name);
  }
  return CheckAddresses(q, h, span, why);
}

bool CheckServent(const Query& q, const char* buf, int used, bool strict, std::string* why) {
  if (used < static_cast<int>(sizeof(servent))) return Fail(why, "shorter than a servent");
  servent s;
  std::memcpy(&s, buf, sizeof(s));
  Span span(buf, used);
  int n = 0;
  if (!span.String(s.s_name) || !span.String(s.s_proto)) return Fail(why, "s_name/s_proto outside");
  if (!span.Array(s.s_aliases, &n, [&](const char* a) { return span.String(a); })) {
    return Fail(why, "s_aliases outside the buffer or misaligned");
  }
  if (!strict) return true;
  if (!NameMatches(q.expect_name, s.s_name)) return Fail(why, std::string("s_name ") + s.s_name);
  if (ntohs(static_cast<uint16_t>(s.s_port)) != q.expect_number) {
    return Fail(why, "s_port " + std::to_string(ntohs(static_cast<uint16_t>(s.s_port))) +
                         " (network order expected)");
  }
  if (std::strcmp(s.s_proto, q.expect_proto) != 0)
    return Fail(why, std::string("s_proto ") + s.s_proto);
  return true;
}

bool CheckProtoent(const Query& q, const char* buf, int used, bool strict, std::string* why) {
  if (used < static_cast<int>(sizeof(protoent))) return Fail(why, "shorter than a protoent");
  protoent p;
  std::memcpy(&p, buf, sizeof(p));
  Span span(buf, used);
  int n = 0;
  if (!span.String(p.p_name)) return Fail(why, "p_name outside the buffer");
  if (!span.Array(p.p_aliases, &n, [&](const char* a) { return span.String(a); })) {
    return Fail(why, "p_aliases outside the buffer or misaligned");
  }
  if (!strict) return true;
  if (!NameMatches(q.expect_name, p.p_name)) return Fail(why, std::string("p_name ") + p.p_name);
  if (p.p_proto != q.expect_number) return Fail(why, "p_proto " + std::to_string(p.p_proto));
  return true;
}

}  // namespace

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kHostByName:
      return "GetHostByName";
    case Kind::kHostByAddr:
      return "GetHostByAddr";
    case Kind::kProtoByName:
      return "GetProtoByName";
    case Kind::kProtoByNumber:
      return "GetProtoByNumber";
    case Kind::kServByName:
      return "GetServByName";
    case Kind::kServByPort:
      return "GetServByPort";
    case Kind::kCount:
      break;
  }
  return "?";
}

const std::vector<Query>& Catalog() {
  static const std::vector<Query> catalog = Build();
  return catalog;
}

HANDLE StartQuery(const Query& q, HWND hwnd, UINT msg, char* buf, int buflen) {
  switch (q.kind) {
    case Kind::kHostByName:
      return WSAAsyncGetHostByName(hwnd, msg, q.name, buf, buflen);
    case Kind::kHostByAddr:
      return WSAAsyncGetHostByAddr(hwnd, msg, reinterpret_cast<const char*>(q.addr), q.addr_len,
                                   q.family, buf, buflen);
    case Kind::kProtoByName:
      return WSAAsyncGetProtoByName(hwnd, msg, q.name, buf, buflen);
    case Kind::kProtoByNumber:
      return WSAAsyncGetProtoByNumber(hwnd, msg, q.number, buf, buflen);
    case Kind::kServByName:
      return WSAAsyncGetServByName(hwnd, msg, q.name, q.proto, buf, buflen);
    case Kind::kServByPort:
      return WSAAsyncGetServByPort(hwnd, msg, htons(static_cast<uint16_t>(q.number)), q.proto, buf,
                                   buflen);
    case Kind::kCount:
      break;
  }
  return nullptr;
}

bool CheckResult(const Query& q, const char* buf, int used, bool strict, std::string* why) {
  switch (q.kind) {
    case Kind::kHostByName:
    case Kind::kHostByAddr:
      return CheckHostent(q, buf, used, strict, why);
    case Kind::kServByName:
    case Kind::kServByPort:
      return CheckServent(q, buf, used, strict, why);
    case Kind::kProtoByName:
    case Kind::kProtoByNumber:
      return CheckProtoent(q, buf, used, strict, why);
    case Kind::kCount:
      break;
  }
  return Fail(why, "unknown kind");
}

int SizeBook::Learn(std::size_t q, int size) {
  int expected = 0;
  if (sizes_[q].compare_exchange_strong(expected, size, std::memory_order_relaxed)) return 0;
  return expected;
}

}  // namespace wsaf::stress
