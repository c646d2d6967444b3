// SPEC.md "The API surface" (Winsock's numeric error values) and the control functions of the
// public header: malformed settings are refused and change nothing.
#include "conformance_env.h"

namespace wsaf_conf {
namespace {

// "Error codes carry Winsock's numeric values".
TEST(ApiSurface, ErrorCodesHaveWinsockValues) {
  static_assert(WSAEINTR == 10004);
  static_assert(WSAEFAULT == 10014);
  static_assert(WSAEINVAL == 10022);
  static_assert(WSAEWOULDBLOCK == 10035);
  static_assert(WSAEINPROGRESS == 10036);
  static_assert(WSAEALREADY == 10037);
  static_assert(WSAEOPNOTSUPP == 10045);
  static_assert(WSAEAFNOSUPPORT == 10047);
  static_assert(WSAENETDOWN == 10050);
  static_assert(WSAENOBUFS == 10055);
  static_assert(WSAVERNOTSUPPORTED == 10092);
  static_assert(WSANOTINITIALISED == 10093);
  static_assert(WSAHOST_NOT_FOUND == 11001);
  static_assert(WSATRY_AGAIN == 11002);
  static_assert(WSANO_RECOVERY == 11003);
  static_assert(WSANO_DATA == 11004);
  static_assert(SOCKET_ERROR == -1);
  static_assert(WSAGETASYNCBUFLEN(WSAMAKEASYNCREPLY(1234, WSAENOBUFS)) == 1234);
  static_assert(WSAGETASYNCERROR(WSAMAKEASYNCREPLY(1234, WSAENOBUFS)) == WSAENOBUFS);
  SUCCEED();
}

class ControlTest : public WsaTest {};

// "Returns 0, or -1 for a malformed list (nothing changes then)": DNS still goes to the
// embedded server afterwards.
TEST_F(ControlTest, MalformedDnsServerListIsRefusedAndChangesNothing) {
  WSAF_CONF_REQUIRE(kResolverSettings);
  for (const char* bad : {"", "not-an-address", "127.0.0.1:99999", "127.0.0.1:53,,"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(-1, wsaf_set_dns_servers(bad));
  }
  EXPECT_EQ(-1, wsaf_set_dns_servers(nullptr));
  CanaryBuffer buf;
  HANDLE h = WSAAsyncGetHostByName(window(), kMsg, "host2.test", buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  Reply r;
  ASSERT_TRUE(WaitReply(h, &r));
  EXPECT_EQ(0, r.error) << "a refused server list changed where DNS goes";
}

// "Returns 0 or -1 for values out of range (timeout 1..60000, tries 1..10)".
TEST_F(ControlTest, DnsTimeoutRangeIsChecked) {
  WSAF_CONF_REQUIRE(kResolverSettings);
  EXPECT_EQ(-1, wsaf_set_dns_timeout(0, 1));
  EXPECT_EQ(-1, wsaf_set_dns_timeout(60001, 1));
  EXPECT_EQ(-1, wsaf_set_dns_timeout(300, 0));
  EXPECT_EQ(-1, wsaf_set_dns_timeout(300, 11));
  EXPECT_EQ(-1, wsaf_set_dns_timeout(-5, -5));
  EXPECT_EQ(0, wsaf_set_dns_timeout(1, 1));
  EXPECT_EQ(0, wsaf_set_dns_timeout(60000, 10));
  EXPECT_EQ(0, wsaf_set_dns_timeout(kShortDnsTimeoutMs, 1));
}

// "Returns 0, or -1 when a file cannot be read (nothing changes then)": the test files stay in
// use (wsafault-test exists only there).
TEST_F(ControlTest, UnreadableNetbaseFileIsRefusedAndChangesNothing) {
  WSAF_CONF_REQUIRE(kResolverSettings);
  EXPECT_EQ(-1, wsaf_set_netbase_files("/nonexistent/services", nullptr));
  EXPECT_EQ(-1, wsaf_set_netbase_files(WSAF_SOURCE_DIR "/corpus/netbase/services",
                                       "/nonexistent/protocols"));
  CanaryBuffer buf;
  HANDLE h = WSAAsyncGetServByName(window(), kMsg, "wsafault-test", "tcp", buf.data(),
                                   buf.size());
  ASSERT_NE(nullptr, h);
  Reply r;
  ASSERT_TRUE(WaitReply(h, &r));
  EXPECT_EQ(0, r.error) << "a refused netbase file changed the files in use";
}

}  // namespace
}  // namespace wsaf_conf
