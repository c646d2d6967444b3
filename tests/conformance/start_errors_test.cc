// SPEC.md "Starting a request": the nonzero handle, and the failures in their order
// (not initialised, network down, in progress — the last in blocking_test.cc), WSAEWOULDBLOCK.
// Argument errors (WSAEFAULT, WSAEAFNOSUPPORT) are in bad_input_test.cc.
#include <unordered_map>
#include <vector>

#include "conformance_env.h"

namespace wsaf_conf {
namespace {

class StartErrorsTest : public WsaTest {};

// "Returns a nonzero HANDLE", and each request posts exactly one message.
TEST_F(StartErrorsTest, EveryStartWithValidArgumentsReturnsNonzeroHandle) {
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    CanaryBuffer buf;
    HANDLE h = s.start(window(), kMsg, buf.data(), buf.size());
    ASSERT_NE(nullptr, h) << "error " << WSAGetLastError();
    Reply r;
    ASSERT_TRUE(WaitReply(h, &r));
    EXPECT_EQ(0, r.error);
    EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(50))) << "delivered twice";
  }
}

// "WSANOTINITIALISED ... after the final WSACleanup".
TEST_F(StartErrorsTest, EveryStartFailsNotInitialisedAfterFinalCleanup) {
  ASSERT_EQ(0, WSACleanup());
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    CanaryBuffer buf;
    WSASetLastError(0);
    EXPECT_EQ(nullptr, s.start(window(), kMsg, buf.data(), buf.size()));
    EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
    EXPECT_TRUE(buf.Intact());
  }
  SleepMs(100);
  EXPECT_TRUE(NoMessageAnywhere());
}

// "WSAENETDOWN when the network subsystem is down"; putting it back up restores starts.
TEST_F(StartErrorsTest, EveryStartFailsNetDownWhileNetworkDown) {
  WSAF_CONF_REQUIRE(kNetworkDown);
  wsaf_set_network_down(1);
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    CanaryBuffer buf;
    WSASetLastError(0);
    EXPECT_EQ(nullptr, s.start(window(), kMsg, buf.data(), buf.size()));
    EXPECT_EQ(WSAENETDOWN, WSAGetLastError());
    EXPECT_TRUE(buf.Intact());
  }
  SleepMs(100);
  EXPECT_TRUE(NoMessageAnywhere());
  wsaf_set_network_down(0);
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    CanaryBuffer buf;
    HANDLE h = s.start(window(), kMsg, buf.data(), buf.size());
    ASSERT_NE(nullptr, h) << "network back up, error " << WSAGetLastError();
    Reply r;
    ASSERT_TRUE(WaitReply(h, &r));
    EXPECT_EQ(0, r.error);
  }
}

// "The checks happen in that order: not initialised first, then network down".
TEST_F(StartErrorsTest, NotInitialisedPrecedesNetDown) {
  WSAF_CONF_REQUIRE(kNetworkDown);
  ASSERT_EQ(0, WSACleanup());
  wsaf_set_network_down(1);
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    CanaryBuffer buf;
    WSASetLastError(0);
    EXPECT_EQ(nullptr, s.start(window(), kMsg, buf.data(), buf.size()));
    EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  }
}

// Network down is checked before the arguments (WSAEFAULT comes after in the list).
TEST_F(StartErrorsTest, NetDownPrecedesArgumentErrors) {
  WSAF_CONF_REQUIRE(kNetworkDown);
  wsaf_set_network_down(1);
  WSASetLastError(0);
  EXPECT_EQ(nullptr, WSAAsyncGetHostByName(window(), kMsg, nullptr, nullptr, 0));
  EXPECT_EQ(WSAENETDOWN, WSAGetLastError());
  WSASetLastError(0);
  EXPECT_EQ(nullptr, WSAAsyncGetServByName(window(), kMsg, "http", "tcp", nullptr, 100));
  EXPECT_EQ(WSAENETDOWN, WSAGetLastError());
  CanaryBuffer buf;
  WSASetLastError(0);
  EXPECT_EQ(nullptr, WSAAsyncGetProtoByNumber(window(), kMsg, 6, buf.data(), -1));
  EXPECT_EQ(WSAENETDOWN, WSAGetLastError());
}

// Not initialised is checked before the arguments.
TEST_F(StartErrorsTest, NotInitialisedPrecedesArgumentErrors) {
  ASSERT_EQ(0, WSACleanup());
  WSASetLastError(0);
  EXPECT_EQ(nullptr, WSAAsyncGetHostByName(window(), kMsg, nullptr, nullptr, 0));
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  WSASetLastError(0);
  EXPECT_EQ(nullptr, WSAAsyncGetHostByAddr(window(), kMsg, nullptr, 4, AF_INET, nullptr, 0));
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  WSASetLastError(0);
  EXPECT_EQ(nullptr, WSAAsyncGetServByPort(window(), kMsg, htons(80), "tcp", nullptr, 10));
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
}

// wsaf_set_max_requests (our control, not Winsock's) makes "table full" reachable: with the
// limit reached a start fails with WSAEWOULDBLOCK and changes nothing, and a slot comes back
// when a message is removed. Requests hold their slots until their message is removed, so
// numeric lookups (answered at once, never pumped) fill the table without any DNS.
class MaxRequestsTest : public WsaTest {
 protected:
  void TearDown() override {
    WsaTest::TearDown();  // ends every session: the limit can be put back
    if (HasControl(kMaxRequests)) {
      EXPECT_EQ(0, wsaf_set_max_requests(WSAF_MAX_REQUESTS));
    }
  }
  // Ends the fixture's session, sets the limit, starts a new session.
  void RestartWithLimit(unsigned limit) {
    ASSERT_EQ(0, WSACleanup());
    ASSERT_EQ(0, wsaf_set_max_requests(limit));
    WSADATA data{};
    ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  }
};

TEST_F(MaxRequestsTest, RefusedDuringASessionAndOutOfRange) {
  WSAF_CONF_REQUIRE(kMaxRequests);
  EXPECT_EQ(-1, wsaf_set_max_requests(4)) << "accepted during a session";
  ASSERT_EQ(0, WSACleanup());
  EXPECT_EQ(-1, wsaf_set_max_requests(0));
  EXPECT_EQ(-1, wsaf_set_max_requests(WSAF_MAX_REQUESTS + 1));
  EXPECT_EQ(0, wsaf_set_max_requests(WSAF_MAX_REQUESTS));
  EXPECT_EQ(0, wsaf_set_max_requests(1));
  EXPECT_EQ(0, wsaf_set_max_requests(WSAF_MAX_REQUESTS));
}

TEST_F(MaxRequestsTest, FullTableFailsWouldBlockAndLosesNothing) {
  WSAF_CONF_REQUIRE(kMaxRequests);
  ASSERT_NO_FATAL_FAILURE(RestartWithLimit(4));
  CanaryBuffer bufs[4];
  HANDLE held[4];
  for (int i = 0; i < 4; ++i) {
    held[i] = StartNumeric(bufs[i].data(), bufs[i].size());
    ASSERT_NE(nullptr, held[i]) << "start " << i << ": error " << WSAGetLastError();
  }
  CanaryBuffer extra;
  EXPECT_EQ(nullptr, StartNumeric(extra.data(), extra.size()));
  EXPECT_EQ(WSAEWOULDBLOCK, WSAGetLastError());
  EXPECT_EQ(nullptr,
            WSAAsyncGetServByName(window(), kMsg, "http", "tcp", extra.data(), extra.size()));
  EXPECT_EQ(WSAEWOULDBLOCK, WSAGetLastError());
  EXPECT_TRUE(extra.Intact()) << "a refused start wrote its buffer";

  // Removing one message (and only one) frees its slot: the next start succeeds, the one
  // after fails again.
  MSG m{};
  auto begin = Clock::now();
  while (!PeekMessage(&m, window(), kMsg, kMsg, PM_REMOVE) &&
         MillisSince(begin) < kWaitLimit.count()) {
    SleepMs(1);
  }
  ASSERT_EQ(kMsg, m.message) << "no completion arrived";
  std::vector<HANDLE> rest;
  for (HANDLE x : held) {
    if (reinterpret_cast<WPARAM>(x) != m.wParam) rest.push_back(x);
  }
  ASSERT_EQ(3u, rest.size()) << "the message removed was none of the four requests'";
  HANDLE h = StartNumeric(extra.data(), extra.size());
  ASSERT_NE(nullptr, h) << "error " << WSAGetLastError();
  CanaryBuffer more;
  EXPECT_EQ(nullptr, StartNumeric(more.data(), more.size()));
  EXPECT_EQ(WSAEWOULDBLOCK, WSAGetLastError());

  // The refused starts lost nothing: every other started request delivers exactly once.
  rest.push_back(h);
  Reply r;
  for (HANDLE x : rest) {
    ASSERT_TRUE(WaitReply(x, &r));
    EXPECT_EQ(0, r.error);
  }
  EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(50)));
  EXPECT_TRUE(NoMessageAnywhere());
}

// The limit applies from the next session on and ends with raising it: a session after the
// default is back starts more requests than the old limit.
TEST_F(MaxRequestsTest, RaisingTheLimitLetsStartsThrough) {
  WSAF_CONF_REQUIRE(kMaxRequests);
  ASSERT_NO_FATAL_FAILURE(RestartWithLimit(2));
  CanaryBuffer bufs[8];
  HANDLE h[8];
  for (int i = 0; i < 2; ++i) {
    ASSERT_NE(nullptr, h[i] = StartNumeric(bufs[i].data(), bufs[i].size()));
  }
  EXPECT_EQ(nullptr, StartNumeric(bufs[2].data(), bufs[2].size()));
  EXPECT_EQ(WSAEWOULDBLOCK, WSAGetLastError());
  Reply r;
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(WaitReply(h[i], &r));
  ASSERT_NO_FATAL_FAILURE(RestartWithLimit(WSAF_MAX_REQUESTS));
  for (int i = 0; i < 8; ++i) {
    h[i] = StartNumeric(bufs[i].data(), bufs[i].size());
    ASSERT_NE(nullptr, h[i]) << "start " << i << ": error " << WSAGetLastError();
  }
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(WaitReply(h[i], &r));
}

// "WSAEWOULDBLOCK when no request slot can be had (table full ...)". Completions that find the
// window's queue full wait for room and keep their slots, so starting size queries against a
// full queue fills the table. Once room appears every started request is still delivered
// exactly once, and slots come back. A table that grows without bound never says
// WSAEWOULDBLOCK within a test's bound, so the table is limited to 2,000 (wsaf_set_max_requests).
TEST_F(MaxRequestsTest, QueueFullKeepsSlotsUntilWouldBlockAndLosesNothing) {
  WSAF_CONF_REQUIRE(kMaxRequests);
  ASSERT_NO_FATAL_FAILURE(RestartWithLimit(2000));
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(PostMessage(window(), kFillMsg, i, 0)) << i;
  ASSERT_FALSE(PostMessage(window(), kFillMsg, 0, 0));
  std::unordered_map<uintptr_t, int> delivered;
  bool would_block = false;
  int other_error = 0;
  const int kMaxRequests = 70000;
  auto start = Clock::now();
  for (int i = 0; i < kMaxRequests && MillisSince(start) < 8000; ++i) {
    HANDLE h = WSAAsyncGetHostByName(window(), kMsg, "10.9.8.7", nullptr, 0);
    if (h == nullptr) {
      int err = WSAGetLastError();
      if (err == WSAEWOULDBLOCK) {
        would_block = true;
      } else {
        other_error = err;
      }
      break;
    }
    ASSERT_TRUE(delivered.emplace(reinterpret_cast<uintptr_t>(h), 0).second) << "handle reused";
  }
  ASSERT_EQ(0, other_error) << "a start failed with something other than WSAEWOULDBLOCK";
  const std::size_t started = delivered.size();
  // Drain everything (fill messages and completions) and check nothing was lost.
  std::size_t seen = 0;
  auto drain_start = Clock::now();
  while (seen < started && MillisSince(drain_start) < 20000) {
    MSG m;
    bool any = false;
    while (PeekMessage(&m, window(), 0, 0, PM_REMOVE)) {
      any = true;
      if (m.message != kMsg) continue;
      auto it = delivered.find(m.wParam);
      ASSERT_NE(delivered.end(), it) << "a message for a handle never issued";
      if (++it->second == 1) ++seen;
    }
    if (!any) SleepMs(1);
  }
  EXPECT_EQ(started, seen) << "requests lost while the queue was full";
  for (auto& [h, n] : delivered) ASSERT_LE(n, 1) << "delivered twice";
  ASSERT_TRUE(would_block) << "no WSAEWOULDBLOCK after " << started
                           << " starts with a limit of 2000";
  EXPECT_EQ(2000u, started)
      << "the limit is 2000 requests holding slots, and no other request holds one";
  EXPECT_GT(started, 0u);
  CanaryBuffer buf;
  HANDLE h = StartNumeric(buf.data(), buf.size());
  ASSERT_NE(nullptr, h) << "slots did not come back after the queue drained: "
                        << WSAGetLastError();
  Reply r;
  ASSERT_TRUE(WaitReply(h, &r));
  EXPECT_EQ(0, r.error);
}

}  // namespace
}  // namespace wsaf_conf
