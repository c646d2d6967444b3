// SPEC.md "The completion message": the message's fields, packing (every pointer inside
// [buf, buf + buflen), pointer arrays aligned), ports in network order, WSAENOBUFS with the
// exact size and the buffer untouched, the NULL/0 size query; and the successful lookups of
// every kind (hosts, numeric, DNS, PTR, services, protocols).
#include <atomic>
#include <cstring>
#include <map>
#include <thread>

#include "conformance_env.h"

namespace wsaf_conf {
namespace {

class CompletionTest : public WsaTest {
 protected:
  // Starts, waits, checks the common success shape; returns the reply.
  Reply Complete(HANDLE h) {
    Reply r;
    EXPECT_NE(nullptr, h) << "start failed, error " << WSAGetLastError();
    if (h == nullptr) return r;
    EXPECT_TRUE(WaitReply(h, &r)) << "no completion message within 5 s";
    return r;
  }
  const hostent* AsHost(const CanaryBuffer& b) {
    return reinterpret_cast<const hostent*>(b.data());
  }
};

// "Posted to the request's window with the request's wMsg: wParam is the handle, lParam is
// WSAMAKEASYNCREPLY(buflen, error)"; success: error 0, buflen the bytes used.
TEST_F(CompletionTest, MessageCarriesWindowMsgHandleAndReply) {
  CanaryBuffer buf;
  const UINT wmsg = WM_USER + 321;
  HANDLE h = WSAAsyncGetHostByName(window(), wmsg, "host1.test", buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  Reply r;
  ASSERT_TRUE(WaitReply(h, &r, wmsg));
  EXPECT_EQ(window(), r.msg.hwnd);
  EXPECT_EQ(wmsg, r.msg.message);
  EXPECT_EQ(reinterpret_cast<WPARAM>(h), r.msg.wParam);
  EXPECT_EQ(0, r.error);
  EXPECT_GE(r.buflen, static_cast<int>(sizeof(hostent)));
  EXPECT_LE(r.buflen, buf.size());
  EXPECT_EQ(static_cast<LPARAM>(WSAMAKEASYNCREPLY(r.buflen, 0)), r.msg.lParam);
}

// Each request's message uses its own wMsg and goes to its own window.
TEST_F(CompletionTest, EachRequestUsesItsOwnWindowAndMessage) {
  HWND other = NewWindow();
  ASSERT_NE(nullptr, other);
  CanaryBuffer b1, b2, b3;
  HANDLE h1 = WSAAsyncGetHostByName(window(), WM_USER + 1, "10.1.1.1", b1.data(), b1.size());
  HANDLE h2 = WSAAsyncGetHostByName(other, WM_USER + 2, "10.2.2.2", b2.data(), b2.size());
  HANDLE h3 = WSAAsyncGetServByName(window(), WM_USER + 3, "ssh", "tcp", b3.data(), b3.size());
  ASSERT_NE(nullptr, h1);
  ASSERT_NE(nullptr, h2);
  ASSERT_NE(nullptr, h3);
  Reply r;
  ASSERT_TRUE(WaitReply(h1, &r, WM_USER + 1));
  EXPECT_EQ(window(), r.msg.hwnd);
  ASSERT_TRUE(WaitReply(h3, &r, WM_USER + 3));
  ASSERT_TRUE(WaitReply(h2, &r, WM_USER + 2, kWaitLimit, other));
  EXPECT_EQ(other, r.msg.hwnd);
  EXPECT_EQ(std::set<std::string>{"10.2.2.2"}, HostAddresses(AsHost(b2)));
}

// A DNS host lookup: IPv4 hostent, packed inside [buf, buf + buflen).
TEST_F(CompletionTest, HostByNameFromDnsIsPackedIPv4Hostent) {
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetHostByName(window(), kMsg, "host1.test", buf.data(), buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  const hostent* h = AsHost(buf);
  EXPECT_EQ(AF_INET, h->h_addrtype);
  EXPECT_EQ(4, h->h_length);
  EXPECT_STRCASEEQ("host1.test", h->h_name);
  EXPECT_EQ(std::set<std::string>{"10.0.0.1"}, HostAddresses(h));
}

TEST_F(CompletionTest, HostByNameReturnsEveryAddress) {
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetHostByName(window(), kMsg, "multi.test", buf.data(), buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_EQ((std::set<std::string>{"10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4"}),
            HostAddresses(AsHost(buf)));
}

// WSAAsyncGetHostByName asks for IPv4 only: a dual-stack name gives its A record.
TEST_F(CompletionTest, HostByNameAsksForIPv4Only) {
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetHostByName(window(), kMsg, "dual.test", buf.data(), buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_EQ(AF_INET, AsHost(buf)->h_addrtype);
  EXPECT_EQ(4, AsHost(buf)->h_length);
  EXPECT_EQ(std::set<std::string>{"10.2.0.1"}, HostAddresses(AsHost(buf)));
}

TEST_F(CompletionTest, CnameChainResolvesToTarget) {
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetHostByName(window(), kMsg, "alias2.test", buf.data(),
                                           buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_EQ(std::set<std::string>{"10.0.0.1"}, HostAddresses(AsHost(buf)));
}

// Numeric IPv4 strings resolve without DNS traffic.
TEST_F(CompletionTest, NumericAddressResolvesWithoutDnsTraffic) {
  WSAF_CONF_REQUIRE(kDnsStats);
  uint64_t before = ServerQueries();
  CanaryBuffer buf;
  Reply r = Complete(StartNumeric(buf.data(), buf.size(), "10.9.8.7"));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_EQ(AF_INET, AsHost(buf)->h_addrtype);
  EXPECT_EQ(std::set<std::string>{"10.9.8.7"}, HostAddresses(AsHost(buf)));
  EXPECT_EQ(before, ServerQueries()) << "a numeric address went to DNS";
}

// "Hosts ... go through c-ares (hosts file first, then DNS)": localhost comes from the hosts
// file without DNS traffic.
TEST_F(CompletionTest, HostsFileAnswersBeforeDns) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  WSAF_CONF_REQUIRE(kDnsStats);
  ServerFault(wsaf::dns::Fault::kNxdomain);
  uint64_t before = ServerQueries();
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetHostByName(window(), kMsg, "localhost", buf.data(), buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_EQ(1u, HostAddresses(AsHost(buf)).count("127.0.0.1"));
  EXPECT_EQ(before, ServerQueries()) << "localhost went to DNS before the hosts file";
}

// A truncated UDP answer is retried over TCP and succeeds.
TEST_F(CompletionTest, TruncatedAnswerRetriedOverTcp) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerFault(wsaf::dns::Fault::kTruncate);
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetHostByName(window(), kMsg, "host2.test", buf.data(), buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_EQ(std::set<std::string>{"10.0.0.2"}, HostAddresses(AsHost(buf)));
}

// PTR answers come from the zone.
TEST_F(CompletionTest, HostByAddrIPv4UsesPtr) {
  in_addr a;
  ASSERT_EQ(1, inet_pton(AF_INET, "10.0.0.1", &a));
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetHostByAddr(window(), kMsg, reinterpret_cast<const char*>(&a), 4,
                                           AF_INET, buf.data(), buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_STRCASEEQ("host1.test", AsHost(buf)->h_name);
  EXPECT_EQ(AF_INET, AsHost(buf)->h_addrtype);
  EXPECT_EQ(std::set<std::string>{"10.0.0.1"}, HostAddresses(AsHost(buf)));
}

TEST_F(CompletionTest, HostByAddrIPv6UsesPtr) {
  in6_addr a;
  ASSERT_EQ(1, inet_pton(AF_INET6, "fd00::1", &a));
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetHostByAddr(window(), kMsg, reinterpret_cast<const char*>(&a), 16,
                                           AF_INET6, buf.data(), buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_STRCASEEQ("v6only.test", AsHost(buf)->h_name);
  EXPECT_EQ(AF_INET6, AsHost(buf)->h_addrtype);
  EXPECT_EQ(16, AsHost(buf)->h_length);
  EXPECT_EQ(std::set<std::string>{"fd00::1"}, HostAddresses(AsHost(buf)));
}

// Services come from the netbase file; s_port is in network byte order.
TEST_F(CompletionTest, ServByNameGivesNetworkOrderPortAndAliases) {
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetServByName(window(), kMsg, "http", "tcp", buf.data(),
                                           buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedServent(buf.data(), r.buflen));
  const servent* s = reinterpret_cast<const servent*>(buf.data());
  EXPECT_STREQ("http", s->s_name);
  EXPECT_EQ(htons(80), static_cast<uint16_t>(s->s_port)) << "s_port must be network order";
  EXPECT_STREQ("tcp", s->s_proto);
  EXPECT_EQ((std::vector<std::string>{"www", "www-http"}), AliasList(s->s_aliases));
}

// An alias finds the service; a NULL protocol matches any protocol.
TEST_F(CompletionTest, ServByNameAliasWithNullProto) {
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetServByName(window(), kMsg, "krb5", nullptr, buf.data(),
                                           buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedServent(buf.data(), r.buflen));
  const servent* s = reinterpret_cast<const servent*>(buf.data());
  EXPECT_STREQ("kerberos", s->s_name);
  EXPECT_EQ(htons(88), static_cast<uint16_t>(s->s_port));
  EXPECT_TRUE(std::strcmp(s->s_proto, "tcp") == 0 || std::strcmp(s->s_proto, "udp") == 0)
      << s->s_proto;
}

TEST_F(CompletionTest, ServByNameHonoursProtocol) {
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetServByName(window(), kMsg, "domain", "udp", buf.data(),
                                           buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedServent(buf.data(), r.buflen));
  const servent* s = reinterpret_cast<const servent*>(buf.data());
  EXPECT_STREQ("udp", s->s_proto);
  EXPECT_EQ(htons(53), static_cast<uint16_t>(s->s_port));
}

// "WSAAsyncGetServByPort takes the port in network byte order".
TEST_F(CompletionTest, ServByPortTakesNetworkOrder) {
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetServByPort(window(), kMsg, htons(65000), "tcp", buf.data(),
                                           buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedServent(buf.data(), r.buflen));
  const servent* s = reinterpret_cast<const servent*>(buf.data());
  EXPECT_STREQ("wsafault-test", s->s_name);
  EXPECT_EQ(htons(65000), static_cast<uint16_t>(s->s_port));
  EXPECT_EQ((std::vector<std::string>{"wsaf-alias1", "wsaf-alias2", "wsaf-alias3"}),
            AliasList(s->s_aliases));
  // 80 in host order is 20480 in network order: no such service.
  CanaryBuffer other;
  Reply r2 = Complete(WSAAsyncGetServByPort(window(), kMsg, 80, "tcp", other.data(),
                                            other.size()));
  EXPECT_EQ(WSANO_DATA, r2.error) << "the port was not taken in network byte order";
}

TEST_F(CompletionTest, ServByPortNullProtoMatchesAny) {
  CanaryBuffer buf;
  Reply r = Complete(WSAAsyncGetServByPort(window(), kMsg, htons(123), nullptr, buf.data(),
                                           buf.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedServent(buf.data(), r.buflen));
  const servent* s = reinterpret_cast<const servent*>(buf.data());
  EXPECT_STREQ("ntp", s->s_name);
  EXPECT_STREQ("udp", s->s_proto);
}

// Protocols come from the netbase file.
TEST_F(CompletionTest, ProtoByNameAndByNumber) {
  CanaryBuffer a, b, c;
  Reply r = Complete(WSAAsyncGetProtoByName(window(), kMsg, "tcp", a.data(), a.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedProtoent(a.data(), r.buflen));
  const protoent* p = reinterpret_cast<const protoent*>(a.data());
  EXPECT_STREQ("tcp", p->p_name);
  EXPECT_EQ(6, p->p_proto);
  EXPECT_EQ(std::vector<std::string>{"TCP"}, AliasList(p->p_aliases));

  r = Complete(WSAAsyncGetProtoByNumber(window(), kMsg, 17, b.data(), b.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedProtoent(b.data(), r.buflen));
  EXPECT_STREQ("udp", reinterpret_cast<const protoent*>(b.data())->p_name);

  r = Complete(WSAAsyncGetProtoByName(window(), kMsg, "IPv6-ICMP", c.data(), c.size()));
  ASSERT_EQ(0, r.error);
  ASSERT_TRUE(PackedProtoent(c.data(), r.buflen));
  EXPECT_STREQ("ipv6-icmp", reinterpret_cast<const protoent*>(c.data())->p_name);
  EXPECT_EQ(58, reinterpret_cast<const protoent*>(c.data())->p_proto);
}

// "Buffer too small: error WSAENOBUFS, buflen is the size needed. Decision: the buffer is not
// touched." One byte short fails with the same size; exactly the size succeeds and uses it.
TEST_F(CompletionTest, TooSmallBufferReportsExactSizeAndStaysUntouched) {
  Reply q = Complete(WSAAsyncGetHostByName(window(), kMsg, "multi.test", nullptr, 0));
  ASSERT_EQ(WSAENOBUFS, q.error);
  const int needed = q.buflen;
  ASSERT_GT(needed, static_cast<int>(sizeof(hostent)));

  CanaryBuffer short_buf(static_cast<std::size_t>(needed - 1));
  Reply r = Complete(WSAAsyncGetHostByName(window(), kMsg, "multi.test", short_buf.data(),
                                           short_buf.size()));
  EXPECT_EQ(WSAENOBUFS, r.error);
  EXPECT_EQ(needed, r.buflen);
  EXPECT_TRUE(short_buf.Intact()) << "a too-small buffer was written";

  CanaryBuffer tiny(8);
  r = Complete(WSAAsyncGetHostByName(window(), kMsg, "multi.test", tiny.data(), tiny.size()));
  EXPECT_EQ(WSAENOBUFS, r.error);
  EXPECT_EQ(needed, r.buflen);
  EXPECT_TRUE(tiny.Intact());

  CanaryBuffer exact(static_cast<std::size_t>(needed));
  r = Complete(WSAAsyncGetHostByName(window(), kMsg, "multi.test", exact.data(), exact.size()));
  ASSERT_EQ(0, r.error) << "a buffer of exactly the size needed must do";
  EXPECT_EQ(needed, r.buflen);
  ASSERT_TRUE(PackedHostent(exact.data(), r.buflen));
  EXPECT_EQ(4u, HostAddresses(AsHost(exact)).size());
}

// "A NULL buffer with length 0 is a valid size query", for every kind of request; the size
// it reports is exactly what a successful lookup then uses.
TEST_F(CompletionTest, NullZeroSizeQueryForEveryKind) {
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    Reply q = Complete(s.start(window(), kMsg, nullptr, 0));
    ASSERT_EQ(WSAENOBUFS, q.error);
    ASSERT_GT(q.buflen, 0);
    CanaryBuffer shorter(static_cast<std::size_t>(q.buflen - 1));
    Reply r = Complete(s.start(window(), kMsg, shorter.data(), shorter.size()));
    EXPECT_EQ(WSAENOBUFS, r.error);
    EXPECT_EQ(q.buflen, r.buflen);
    EXPECT_TRUE(shorter.Intact());
    CanaryBuffer exact(static_cast<std::size_t>(q.buflen));
    r = Complete(s.start(window(), kMsg, exact.data(), exact.size()));
    EXPECT_EQ(0, r.error);
    EXPECT_EQ(q.buflen, r.buflen);
  }
}

// A non-NULL buffer with length 0 is simply too small: untouched.
TEST_F(CompletionTest, ZeroLengthBufferIsUntouched) {
  CanaryBuffer buf(64);
  Reply r = Complete(WSAAsyncGetServByName(window(), kMsg, "http", "tcp", buf.data(), 0));
  EXPECT_EQ(WSAENOBUFS, r.error);
  EXPECT_GT(r.buflen, 0);
  EXPECT_TRUE(buf.Intact());
}

// The zone's big.test needs more than MAXGETHOSTSTRUCT; the size reported fits all 120
// addresses, packed and aligned.
TEST_F(CompletionTest, HostentLargerThanMaxGetHostStruct) {
  CanaryBuffer max_buf(MAXGETHOSTSTRUCT);
  Reply r = Complete(WSAAsyncGetHostByName(window(), kMsg, "big.test", max_buf.data(),
                                           max_buf.size()));
  ASSERT_EQ(WSAENOBUFS, r.error);
  EXPECT_GT(r.buflen, MAXGETHOSTSTRUCT);
  EXPECT_TRUE(max_buf.Intact());
  CanaryBuffer big(static_cast<std::size_t>(r.buflen));
  Reply r2 = Complete(WSAAsyncGetHostByName(window(), kMsg, "big.test", big.data(), big.size()));
  ASSERT_EQ(0, r2.error);
  EXPECT_EQ(r.buflen, r2.buflen);
  ASSERT_TRUE(PackedHostent(big.data(), r2.buflen));
  EXPECT_EQ(120u, HostAddresses(AsHost(big)).size());
}

// Servent and protoent too: too small means untouched.
TEST_F(CompletionTest, TooSmallServentAndProtoentUntouched) {
  CanaryBuffer s(sizeof(servent));
  Reply r = Complete(WSAAsyncGetServByPort(window(), kMsg, htons(65000), "tcp", s.data(),
                                           s.size()));
  EXPECT_EQ(WSAENOBUFS, r.error);
  EXPECT_GT(r.buflen, static_cast<int>(sizeof(servent)));
  EXPECT_TRUE(s.Intact());
  CanaryBuffer p(sizeof(protoent));
  r = Complete(WSAAsyncGetProtoByNumber(window(), kMsg, 58, p.data(), p.size()));
  EXPECT_EQ(WSAENOBUFS, r.error);
  EXPECT_GT(r.buflen, static_cast<int>(sizeof(protoent)));
  EXPECT_TRUE(p.Intact());
}

// "Every request that is not canceled posts exactly one message."
TEST_F(CompletionTest, EveryRequestPostsExactlyOneMessage) {
  std::vector<std::unique_ptr<CanaryBuffer>> bufs;
  std::map<uintptr_t, int> count;
  for (int round = 0; round < 20; ++round) {
    for (const Starter& s : AllStarters()) {
      bufs.push_back(std::make_unique<CanaryBuffer>());
      HANDLE h = s.start(window(), kMsg, bufs.back()->data(), bufs.back()->size());
      ASSERT_NE(nullptr, h) << s.name << " error " << WSAGetLastError();
      ASSERT_TRUE(count.emplace(reinterpret_cast<uintptr_t>(h), 0).second) << "handle reused";
    }
  }
  auto start = Clock::now();
  std::size_t seen = 0;
  while (seen < count.size() && MillisSince(start) < 5000) {
    MSG m;
    if (!PeekMessage(&m, window(), 0, 0, PM_REMOVE)) {
      SleepMs(1);
      continue;
    }
    auto it = count.find(m.wParam);
    ASSERT_NE(count.end(), it) << "message for an unknown handle";
    EXPECT_EQ(0, WSAGETASYNCERROR(m.lParam));
    if (++it->second == 1) ++seen;
  }
  EXPECT_EQ(count.size(), seen) << "requests lost";
  SleepMs(200);
  Pump();
  for (const MSG& m : inbox_) {
    auto it = count.find(m.wParam);
    if (it != count.end()) ++it->second;
  }
  for (auto& [h, n] : count) EXPECT_EQ(1, n) << "handle " << h;
}

// "Memory ordering": a thread that removes the message sees the whole result.
TEST_F(CompletionTest, ResultVisibleToThreadThatRemovesMessage) {
  const int kRequests = 200;
  std::vector<std::unique_ptr<CanaryBuffer>> bufs;
  std::map<uintptr_t, CanaryBuffer*> by_handle;
  std::vector<std::string> ips;
  ips.reserve(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    bufs.push_back(std::make_unique<CanaryBuffer>());
    ips.push_back("10.7." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
    HANDLE h = WSAAsyncGetHostByName(window(), kMsg, ips.back().c_str(), bufs.back()->data(),
                                     bufs.back()->size());
    ASSERT_NE(nullptr, h);
    by_handle[reinterpret_cast<uintptr_t>(h)] = bufs.back().get();
  }
  std::atomic<int> good{0}, bad{0};
  std::thread pump([&] {
    auto start = Clock::now();
    int got = 0;
    while (got < kRequests && MillisSince(start) < 5000) {
      MSG m;
      if (!PeekMessage(&m, window(), kMsg, kMsg, PM_REMOVE)) {
        SleepMs(1);
        continue;
      }
      ++got;
      auto it = by_handle.find(m.wParam);
      if (it == by_handle.end() || WSAGETASYNCERROR(m.lParam) != 0 ||
          !PackedHostent(it->second->data(), WSAGETASYNCBUFLEN(m.lParam))) {
        ++bad;
      } else {
        ++good;
      }
    }
  });
  pump.join();
  EXPECT_EQ(0, bad.load());
  EXPECT_EQ(kRequests, good.load());
}

}  // namespace
}  // namespace wsaf_conf
