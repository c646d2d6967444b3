// SPEC.md "WSACancelAsyncRequest(h)" and the seed (Microsoft's page): the success case and
// every error code, in their order. WSAEINPROGRESS is in blocking_test.cc; handle-identity
// cases (stale, pre-cleanup handles) are in handles_test.cc.
#include <thread>

#include "conformance_env.h"

namespace wsaf_conf {
namespace {

class CancelTest : public WsaLongDnsTest {};

// Rule 6: a pending request is canceled, 0 is returned, no message is ever posted and the
// buffer is never written — even well after the lookup would have completed. (The stub that
// returns 0 and still delivers fails here.) A sibling request proves the delay did elapse.
TEST_F(CancelTest, CancelPendingReturnsZeroNoMessageBufferUntouched) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(300);
  CanaryBuffer canceled, control;
  HANDLE hc = WSAAsyncGetHostByName(window(), kMsg, "host1.test", canceled.data(),
                                    canceled.size());
  HANDLE hk = WSAAsyncGetHostByName(window(), kMsg, "host2.test", control.data(), control.size());
  ASSERT_NE(nullptr, hc);
  ASSERT_NE(nullptr, hk);
  ASSERT_EQ(0, WSACancelAsyncRequest(hc)) << "error " << WSAGetLastError();
  Reply r;
  ASSERT_TRUE(WaitReply(hk, &r)) << "the control request never completed";
  EXPECT_EQ(0, r.error);
  EXPECT_EQ(0, CountRepliesAfter(hc, milliseconds(700)))
      << "a canceled request delivered its message";
  EXPECT_TRUE(canceled.Intact()) << "a canceled request's buffer was written";
}

// Rule 4 "already canceled": the second cancel fails with WSAEINVAL.
TEST_F(CancelTest, CancelTwiceSecondFailsEInval) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  CanaryBuffer buf;
  HANDLE h = StartPending(buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  ASSERT_EQ(0, WSACancelAsyncRequest(h));
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
  EXPECT_EQ(WSAEINVAL, WSAGetLastError());
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
  EXPECT_EQ(WSAEINVAL, WSAGetLastError());
  EXPECT_TRUE(buf.Intact());
}

// Seed, second reason for WSAEALREADY: "the original operation has already completed but the
// resultant message is still waiting in the application window queue". The failed cancel
// changes nothing: the message is delivered exactly once, the result intact.
TEST_F(CancelTest, CancelQueuedFailsEAlreadyAndMessageStillDeliveredOnce) {
  CanaryBuffer buf;
  HANDLE h = StartNumeric(buf.data(), buf.size(), "10.9.8.7");
  ASSERT_NE(nullptr, h);
  ASSERT_TRUE(WaitQueued(h));
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
  EXPECT_EQ(WSAEALREADY, WSAGetLastError()) << "a queued request must answer WSAEALREADY";
  EXPECT_TRUE(WaitQueued(h, kMsg, milliseconds(0))) << "the failed cancel removed the message";
  Reply r;
  ASSERT_TRUE(WaitReply(h, &r, kMsg, milliseconds(100)));
  EXPECT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_EQ(std::set<std::string>{"10.9.8.7"},
            HostAddresses(reinterpret_cast<const hostent*>(buf.data())));
  EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(200))) << "delivered twice";
}

// Repeated cancels of a queued request all answer WSAEALREADY and deliver once.
TEST_F(CancelTest, RepeatedCancelOfQueuedKeepsAnsweringEAlready) {
  CanaryBuffer buf;
  HANDLE h = WSAAsyncGetServByName(window(), kMsg, "http", "tcp", buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  ASSERT_TRUE(WaitQueued(h));
  for (int i = 0; i < 5; ++i) {
    WSASetLastError(0);
    EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
    EXPECT_EQ(WSAEALREADY, WSAGetLastError());
  }
  Reply r;
  ASSERT_TRUE(WaitReply(h, &r));
  EXPECT_EQ(0, r.error);
  EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(100)));
}

// Seed, first reason for WSAEALREADY: "the original operation has already completed and the
// application has dealt with the resultant message". SPEC: WSAEALREADY while remembered,
// WSAEINVAL once forgotten; either is accepted.
TEST_F(CancelTest, CancelDispatchedFailsEAlreadyOrEInval) {
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    CanaryBuffer buf;
    HANDLE h = s.start(window(), kMsg, buf.data(), buf.size());
    ASSERT_NE(nullptr, h);
    Reply r;
    ASSERT_TRUE(WaitReply(h, &r));
    std::vector<char> after_delivery = buf.Snapshot();
    WSASetLastError(0);
    EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
    int err = WSAGetLastError();
    EXPECT_TRUE(err == WSAEALREADY || err == WSAEINVAL) << "error " << err;
    EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(50)));
    EXPECT_TRUE(buf.Equals(after_delivery));
  }
}

// Rule 4, and the seed's "zero is always an invalid asynchronous task handle": handle 0 fails
// with WSAEINVAL when idle and when requests are outstanding, and disturbs nothing.
TEST_F(CancelTest, CancelZeroFailsEInval) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(nullptr)) << "handle 0 accepted while idle";
  EXPECT_EQ(WSAEINVAL, WSAGetLastError());
  ServerDrop();
  CanaryBuffer pending, queued;
  HANDLE hp = StartPending(pending.data(), pending.size());
  HANDLE hq = StartNumeric(queued.data(), queued.size());
  ASSERT_NE(nullptr, hp);
  ASSERT_NE(nullptr, hq);
  ASSERT_TRUE(WaitQueued(hq));
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(nullptr));
  EXPECT_EQ(WSAEINVAL, WSAGetLastError());
  EXPECT_EQ(0, WSACancelAsyncRequest(hp)) << "canceling 0 disturbed a pending request";
  Reply r;
  ASSERT_TRUE(WaitReply(hq, &r)) << "canceling 0 disturbed a queued request";
  EXPECT_EQ(0, r.error);
}

// Rule 4 "was never issued": values the library never handed out.
TEST_F(CancelTest, CancelNeverIssuedFailsEInval) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  CanaryBuffer buf;
  HANDLE live = StartPending(buf.data(), buf.size());
  ASSERT_NE(nullptr, live);
  const uintptr_t bits = reinterpret_cast<uintptr_t>(live);
  std::vector<HANDLE> garbage = {reinterpret_cast<HANDLE>(1), reinterpret_cast<HANDLE>(2),
                                 reinterpret_cast<HANDLE>(-1), reinterpret_cast<HANDLE>(0xffff),
                                 reinterpret_cast<HANDLE>(0x10000),
                                 reinterpret_cast<HANDLE>(0xdeadbeef),
                                 reinterpret_cast<HANDLE>(bits ^ (uintptr_t{1} << 62)),
                                 reinterpret_cast<HANDLE>(bits ^ (uintptr_t{1} << 40))};
  for (HANDLE g : garbage) {
    if (g == live) continue;
    SCOPED_TRACE(testing::Message() << "handle " << g);
    WSASetLastError(0);
    EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(g));
    EXPECT_EQ(WSAEINVAL, WSAGetLastError());
  }
  EXPECT_EQ(0, WSACancelAsyncRequest(live)) << "a garbage cancel canceled the live request";
}

// Rule 1: WSANOTINITIALISED after the final cleanup, whatever the handle.
TEST_F(CancelTest, CancelAfterFinalCleanupFailsNotInitialised) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  CanaryBuffer buf;
  HANDLE h = StartPending(buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  ASSERT_EQ(0, WSACleanup());
  for (HANDLE x : {h, static_cast<HANDLE>(nullptr), reinterpret_cast<HANDLE>(1)}) {
    WSASetLastError(0);
    EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(x));
    EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  }
}

// Rule 2: WSAENETDOWN while down, for every handle (before the handle check), and the failed
// cancel changes nothing: the request is still pending once the network is back.
TEST_F(CancelTest, CancelWhileNetworkDownFailsNetDownAndChangesNothing) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  WSAF_CONF_REQUIRE(kNetworkDown);
  ServerDrop();
  CanaryBuffer pending, queued;
  HANDLE hp = StartPending(pending.data(), pending.size());
  HANDLE hq = StartNumeric(queued.data(), queued.size());
  ASSERT_NE(nullptr, hp);
  ASSERT_NE(nullptr, hq);
  ASSERT_TRUE(WaitQueued(hq));
  wsaf_set_network_down(1);
  for (HANDLE x : {hp, hq, static_cast<HANDLE>(nullptr), reinterpret_cast<HANDLE>(1)}) {
    WSASetLastError(0);
    EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(x));
    EXPECT_EQ(WSAENETDOWN, WSAGetLastError());
  }
  wsaf_set_network_down(0);
  EXPECT_EQ(0, WSACancelAsyncRequest(hp)) << "error " << WSAGetLastError();
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(hq));
  EXPECT_EQ(WSAEALREADY, WSAGetLastError());
  Reply r;
  ASSERT_TRUE(WaitReply(hq, &r));
  EXPECT_EQ(0, r.error);
  EXPECT_TRUE(pending.Intact());
}

// Rules 1 then 2: not initialised before network down.
TEST_F(CancelTest, CancelNotInitialisedPrecedesNetDown) {
  WSAF_CONF_REQUIRE(kNetworkDown);
  ASSERT_EQ(0, WSACleanup());
  wsaf_set_network_down(1);
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(reinterpret_cast<HANDLE>(1)));
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
}

// "A failed cancel changes nothing": a cancel of another handle (garbage, 0) leaves a pending
// request to complete and deliver exactly once.
TEST_F(CancelTest, FailedCancelsLeavePendingRequestToComplete) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(300);
  CanaryBuffer buf;
  HANDLE h = WSAAsyncGetHostByName(window(), kMsg, "host1.test", buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(nullptr));
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(reinterpret_cast<HANDLE>(1)));
  Reply r;
  ASSERT_TRUE(WaitReply(h, &r));
  EXPECT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(200)));
}

// Canceling one request leaves its siblings alone.
TEST_F(CancelTest, CancelOneOfSeveralLeavesOthersDelivered) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(300);
  CanaryBuffer a, b, c;
  HANDLE ha = WSAAsyncGetHostByName(window(), kMsg, "host1.test", a.data(), a.size());
  HANDLE hb = WSAAsyncGetHostByName(window(), kMsg, "host2.test", b.data(), b.size());
  HANDLE hc = WSAAsyncGetHostByName(window(), kMsg, "multi.test", c.data(), c.size());
  ASSERT_NE(nullptr, ha);
  ASSERT_NE(nullptr, hb);
  ASSERT_NE(nullptr, hc);
  EXPECT_NE(ha, hb);
  EXPECT_NE(hb, hc);
  EXPECT_NE(ha, hc);
  ASSERT_EQ(0, WSACancelAsyncRequest(hb));
  Reply r;
  ASSERT_TRUE(WaitReply(ha, &r));
  EXPECT_EQ(0, r.error);
  EXPECT_EQ(std::set<std::string>{"10.0.0.1"},
            HostAddresses(reinterpret_cast<const hostent*>(a.data())));
  ASSERT_TRUE(WaitReply(hc, &r));
  EXPECT_EQ(0, r.error);
  EXPECT_EQ(4u, HostAddresses(reinterpret_cast<const hostent*>(c.data())).size());
  EXPECT_EQ(0, CountRepliesAfter(hb, milliseconds(300)));
  EXPECT_TRUE(b.Intact());
}

// "Every function may be called from any thread": a request started on one thread is
// canceled on another.
TEST_F(CancelTest, CancelFromAnotherThread) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(300);
  CanaryBuffer buf;
  HANDLE h = WSAAsyncGetHostByName(window(), kMsg, "host1.test", buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  int rc = -2, err = 0;
  std::thread t([&] {
    rc = WSACancelAsyncRequest(h);
    err = WSAGetLastError();
  });
  t.join();
  ASSERT_EQ(0, rc) << "error " << err;
  EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(700)));
  EXPECT_TRUE(buf.Intact());
}

// A pending size query (NULL buffer, length 0) is canceled like any other request.
TEST_F(CancelTest, CancelPendingSizeQuery) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(300);
  HANDLE h = WSAAsyncGetHostByName(window(), kMsg, "host1.test", nullptr, 0);
  ASSERT_NE(nullptr, h);
  ASSERT_EQ(0, WSACancelAsyncRequest(h));
  EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(700)));
}

// A queued message answers WSAEALREADY until removed; afterwards WSAEALREADY or WSAEINVAL.
TEST_F(CancelTest, CancelAnswersFollowTheLifecycle) {
  CanaryBuffer buf;
  HANDLE h = WSAAsyncGetProtoByName(window(), kMsg, "udp", buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  ASSERT_TRUE(WaitQueued(h));
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
  EXPECT_EQ(WSAEALREADY, WSAGetLastError());
  Reply r;
  ASSERT_TRUE(WaitReply(h, &r));
  EXPECT_EQ(0, r.error);
  for (int i = 0; i < 3; ++i) {
    WSASetLastError(0);
    EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
    int err = WSAGetLastError();
    EXPECT_TRUE(err == WSAEALREADY || err == WSAEINVAL) << "error " << err;
  }
}

}  // namespace
}  // namespace wsaf_conf
