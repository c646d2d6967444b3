// SPEC.md "The completion message", lookup failures: name does not exist WSAHOST_NOT_FOUND;
// server failure or timeout WSATRY_AGAIN; refused, malformed or unusable reply WSANO_RECOVERY;
// no address of the family, or service/protocol not found, WSANO_DATA; network down while the
// lookup completes WSAENETDOWN. And "Network down": the transition completes nothing.
#include "conformance_env.h"

namespace wsaf_conf {
namespace {

class LookupErrorsTest : public WsaTest {
 protected:
  // Waits for the request's message; returns its error code (or -1 when none arrived).
  int ErrorOf(HANDLE h, HWND w = nullptr) {
    EXPECT_NE(nullptr, h) << "start failed, error " << WSAGetLastError();
    if (h == nullptr) return -1;
    Reply r;
    if (!WaitReply(h, &r, kMsg, kWaitLimit, w)) {
      ADD_FAILURE() << "no completion message within 5 s";
      return -1;
    }
    EXPECT_EQ(w != nullptr ? w : window(), r.msg.hwnd);
    EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(20), w)) << "delivered twice";
    return r.error;
  }
  HANDLE Host(const char* name) {
    return WSAAsyncGetHostByName(window(), kMsg, name, buf_.data(), buf_.size());
  }
  HANDLE Addr(const char* dotted) {
    inet_pton(AF_INET, dotted, &addr_);
    return WSAAsyncGetHostByAddr(window(), kMsg, reinterpret_cast<const char*>(&addr_), 4,
                                 AF_INET, buf_.data(), buf_.size());
  }
  CanaryBuffer buf_;
  in_addr addr_{};
};

TEST_F(LookupErrorsTest, MissingNameIsHostNotFound) {
  EXPECT_EQ(WSAHOST_NOT_FOUND, ErrorOf(Host("no-such-name.test")));
}

TEST_F(LookupErrorsTest, NxdomainAnswerIsHostNotFound) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerFault(wsaf::dns::Fault::kNxdomain);
  EXPECT_EQ(WSAHOST_NOT_FOUND, ErrorOf(Host("host1.test")));
}

TEST_F(LookupErrorsTest, AddressWithoutPtrIsHostNotFound) {
  EXPECT_EQ(WSAHOST_NOT_FOUND, ErrorOf(Addr("10.0.0.99")));
}

TEST_F(LookupErrorsTest, ServfailIsTryAgain) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerFault(wsaf::dns::Fault::kServfail);
  EXPECT_EQ(WSATRY_AGAIN, ErrorOf(Host("host1.test")));
}

TEST_F(LookupErrorsTest, TimeoutIsTryAgain) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  auto start = Clock::now();
  EXPECT_EQ(WSATRY_AGAIN, ErrorOf(Host("host1.test")));
  EXPECT_GE(MillisSince(start), kShortDnsTimeoutMs / 2) << "timed out before the DNS timeout";
}

// Answers with the wrong id are ignored, so the lookup times out.
TEST_F(LookupErrorsTest, WrongIdAnswerTimesOutTryAgain) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerFault(wsaf::dns::Fault::kWrongId);
  EXPECT_EQ(WSATRY_AGAIN, ErrorOf(Host("host2.test")));
}

TEST_F(LookupErrorsTest, RefusedIsNoRecovery) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerFault(wsaf::dns::Fault::kRefused);
  EXPECT_EQ(WSANO_RECOVERY, ErrorOf(Host("host1.test")));
}

TEST_F(LookupErrorsTest, MalformedReplyIsNoRecovery) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerFault(wsaf::dns::Fault::kMalformed);
  EXPECT_EQ(WSANO_RECOVERY, ErrorOf(Host("host1.test")));
}

// The same failures for reverse (PTR) lookups, WSAAsyncGetHostByAddr.
TEST_F(LookupErrorsTest, PtrServfailIsTryAgain) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerFault(wsaf::dns::Fault::kServfail);
  EXPECT_EQ(WSATRY_AGAIN, ErrorOf(Addr("10.0.0.1")));
}

TEST_F(LookupErrorsTest, PtrTimeoutIsTryAgain) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  EXPECT_EQ(WSATRY_AGAIN, ErrorOf(Addr("10.0.0.2")));
}

TEST_F(LookupErrorsTest, PtrRefusedIsNoRecovery) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerFault(wsaf::dns::Fault::kRefused);
  EXPECT_EQ(WSANO_RECOVERY, ErrorOf(Addr("10.0.0.1")));
}

TEST_F(LookupErrorsTest, PtrMalformedReplyIsNoRecovery) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerFault(wsaf::dns::Fault::kMalformed);
  EXPECT_EQ(WSANO_RECOVERY, ErrorOf(Addr("10.0.0.1")));
}

// NODATA: v6only.test exists but has no A record, and the hostent is IPv4.
TEST_F(LookupErrorsTest, NameWithoutIPv4AddressIsNoData) {
  EXPECT_EQ(WSANO_DATA, ErrorOf(Host("v6only.test")));
}

TEST_F(LookupErrorsTest, UnknownServiceIsNoData) {
  EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetServByName(window(), kMsg, "no-such-service", "tcp",
                                                      buf_.data(), buf_.size())));
  EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetServByName(window(), kMsg, "no-such-service", nullptr,
                                                      buf_.data(), buf_.size())));
  // ntp exists for udp only.
  EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetServByName(window(), kMsg, "ntp", "tcp", buf_.data(),
                                                      buf_.size())));
}

TEST_F(LookupErrorsTest, UnknownPortIsNoData) {
  EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetServByPort(window(), kMsg, htons(9999), nullptr,
                                                      buf_.data(), buf_.size())));
  EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetServByPort(window(), kMsg, htons(123), "tcp",
                                                      buf_.data(), buf_.size())));
}

TEST_F(LookupErrorsTest, UnknownProtocolIsNoData) {
  EXPECT_EQ(WSANO_DATA, ErrorOf(WSAAsyncGetProtoByName(window(), kMsg, "no-such-protocol",
                                                       buf_.data(), buf_.size())));
  EXPECT_EQ(WSANO_DATA,
            ErrorOf(WSAAsyncGetProtoByNumber(window(), kMsg, 200, buf_.data(), buf_.size())));
}

// Network-down cases need a request that is still pending when the network goes down.
class LookupErrorsSlowTest : public LookupErrorsTest {
 protected:
  LookupErrorsSlowTest() { dns_timeout_ms_ = kLongDnsTimeoutMs; }
};

// "Decision: ... one whose lookup completes while down delivers WSAENETDOWN."
TEST_F(LookupErrorsSlowTest, LookupCompletingWhileDownDeliversNetDown) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  WSAF_CONF_REQUIRE(kNetworkDown);
  ServerDelay(400);
  HANDLE h = Host("host1.test");
  ASSERT_NE(nullptr, h);
  wsaf_set_network_down(1);
  EXPECT_EQ(WSAENETDOWN, ErrorOf(h));
  wsaf_set_network_down(0);
  ServerNormal();
  EXPECT_EQ(0, ErrorOf(Host("host2.test"))) << "the network came back up";
}

// "The transition itself completes nothing; a pending request stays pending."
TEST_F(LookupErrorsSlowTest, GoingDownCompletesNothing) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  WSAF_CONF_REQUIRE(kNetworkDown);
  ServerDrop();
  CanaryBuffer buf;
  HANDLE h = StartPending(buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  wsaf_set_network_down(1);
  EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(400))) << "going down completed a request";
  wsaf_set_network_down(0);
  EXPECT_EQ(0, WSACancelAsyncRequest(h)) << "the request was no longer pending: "
                                         << WSAGetLastError();
  EXPECT_TRUE(buf.Intact());
}

// A request that was pending across a down/up blip completes normally.
TEST_F(LookupErrorsSlowTest, DownAndUpBeforeCompletionDeliversNormally) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  WSAF_CONF_REQUIRE(kNetworkDown);
  ServerDelay(600);
  HANDLE h = Host("host1.test");
  ASSERT_NE(nullptr, h);
  wsaf_set_network_down(1);
  SleepMs(100);
  wsaf_set_network_down(0);
  EXPECT_EQ(0, ErrorOf(h));
}

}  // namespace
}  // namespace wsaf_conf
