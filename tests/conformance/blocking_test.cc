// SPEC.md "Winsock 1.1 blocking calls", and the WSAEINPROGRESS rows of "Starting a request"
// and "WSACancelAsyncRequest" (the caller is the blocking hook), with their order.
#include <atomic>
#include <functional>
#include <thread>

#include "conformance_env.h"

namespace wsaf_conf {
namespace {

// What the test hook does. The hook runs on the thread inside wsaf_gethostbyname.
struct HookPlan {
  std::atomic<int> calls{0};
  std::function<void()> on_first_call;
};
HookPlan* g_plan = nullptr;

intptr_t TestHook() {
  HookPlan* plan = g_plan;
  if (plan != nullptr && ++plan->calls == 1 && plan->on_first_call) plan->on_first_call();
  SleepMs(1);
  return FALSE;
}

intptr_t OtherHook() { return FALSE; }

// A 1.1 session. The DNS timeout is 3 s: a dropped query keeps the blocking call (and pending
// requests) waiting long enough, and a broken WSACancelBlockingCall still ends within bounds.
class Blocking11Test : public WsaTest {
 protected:
  Blocking11Test() {
    startup_version_ = MAKEWORD(1, 1);
    dns_timeout_ms_ = 3000;
  }
  void SetUp() override {
    WsaTest::SetUp();
    g_plan = &plan_;
  }
  void TearDown() override {
    g_plan = nullptr;
    WSAUnhookBlockingHook();
    WsaTest::TearDown();
  }
  // Runs a blocking lookup of a dropped query with TestHook installed; `inside` runs on the
  // hook's first call, then the blocking call is canceled. Returns false when the hook never
  // ran.
  bool InsideHook(std::function<void()> inside) {
    ServerDrop();
    plan_.on_first_call = [inside] {
      inside();
      WSACancelBlockingCall();
    };
    if (WSASetBlockingHook(TestHook) == nullptr) {
      ADD_FAILURE() << "WSASetBlockingHook failed: " << WSAGetLastError();
      return false;
    }
    wsaf_gethostbyname(FreshMissingName().c_str());
    return plan_.calls.load() > 0;
  }
  HookPlan plan_;
};

// "WSASetBlockingHook ... work[s] in a session that negotiated 1.1": it returns the previous
// hook (the default one first), and WSAUnhookBlockingHook restores the default.
TEST_F(Blocking11Test, SetBlockingHookReturnsPreviousHook) {
  FARPROC def = WSASetBlockingHook(TestHook);
  ASSERT_NE(nullptr, def) << "error " << WSAGetLastError();
  EXPECT_NE(reinterpret_cast<FARPROC>(TestHook), def);
  EXPECT_EQ(reinterpret_cast<FARPROC>(TestHook), WSASetBlockingHook(OtherHook));
  EXPECT_EQ(0, WSAUnhookBlockingHook());
  EXPECT_EQ(def, WSASetBlockingHook(TestHook)) << "unhook did not restore the default hook";
  EXPECT_EQ(0, WSAUnhookBlockingHook());
}

TEST_F(Blocking11Test, SetBlockingHookNullFailsEFault) {
  ASSERT_NE(nullptr, WSASetBlockingHook(TestHook));
  WSASetLastError(0);
  EXPECT_EQ(nullptr, WSASetBlockingHook(nullptr));
  EXPECT_EQ(WSAEFAULT, WSAGetLastError());
  EXPECT_EQ(reinterpret_cast<FARPROC>(TestHook), WSASetBlockingHook(OtherHook))
      << "a failed WSASetBlockingHook changed the hook";
}

// "A blocking lookup (wsaf_gethostbyname) runs the hook repeatedly while it waits."
TEST_F(Blocking11Test, BlockingLookupRunsHookRepeatedly) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(300);
  ASSERT_NE(nullptr, WSASetBlockingHook(TestHook));
  hostent* h = wsaf_gethostbyname("host1.test");
  ASSERT_NE(nullptr, h) << "error " << WSAGetLastError();
  EXPECT_EQ(AF_INET, h->h_addrtype);
  EXPECT_EQ(std::set<std::string>{"10.0.0.1"}, HostAddresses(h));
  EXPECT_GE(plan_.calls.load(), 2) << "the hook did not run repeatedly during a 300 ms wait";
  EXPECT_FALSE(WSAIsBlocking());
}

// The default hook serves too.
TEST_F(Blocking11Test, BlockingLookupWithDefaultHook) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(200);
  hostent* h = wsaf_gethostbyname("multi.test");
  ASSERT_NE(nullptr, h) << "error " << WSAGetLastError();
  EXPECT_EQ(4u, HostAddresses(h).size());
}

TEST_F(Blocking11Test, BlockingLookupFailureSetsLastError) {
  WSASetLastError(0);
  EXPECT_EQ(nullptr, wsaf_gethostbyname("no-such-name.test"));
  EXPECT_EQ(WSAHOST_NOT_FOUND, WSAGetLastError());
}

// WSAIsBlocking: TRUE inside the hook, FALSE outside.
TEST_F(Blocking11Test, IsBlockingOnlyInsideHook) {
  WSAF_CONF_REQUIRE(kDnsFaults);  // InsideHook drops the query
  EXPECT_FALSE(WSAIsBlocking());
  BOOL inside = FALSE;
  ASSERT_TRUE(InsideHook([&] { inside = WSAIsBlocking(); }));
  EXPECT_TRUE(inside);
  EXPECT_FALSE(WSAIsBlocking());
}

// "WSACancelBlockingCall makes the blocking call return failure with WSAEINTR" — promptly, not
// after the 3 s DNS timeout.
TEST_F(Blocking11Test, CancelBlockingCallInterruptsWithEIntr) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  int rc = -2;
  plan_.on_first_call = [&] { rc = WSACancelBlockingCall(); };
  ASSERT_NE(nullptr, WSASetBlockingHook(TestHook));
  auto start = Clock::now();
  WSASetLastError(0);
  hostent* h = wsaf_gethostbyname("host1.test");
  int err = WSAGetLastError();
  EXPECT_EQ(0, rc);
  EXPECT_EQ(nullptr, h);
  EXPECT_EQ(WSAEINTR, err);
  EXPECT_LT(MillisSince(start), 2000) << "the canceled call waited for the DNS timeout";
  EXPECT_FALSE(WSAIsBlocking());
}

// Outside a blocking call there is nothing to cancel.
TEST_F(Blocking11Test, CancelBlockingCallOutsideFailsEInval) {
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelBlockingCall());
  EXPECT_EQ(WSAEINVAL, WSAGetLastError());
}

// Cancel rule 3: from inside the hook WSACancelAsyncRequest fails with WSAEINPROGRESS, before
// the handle is looked at, and changes nothing.
TEST_F(Blocking11Test, InsideHookCancelFailsInProgress) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  CanaryBuffer buf;
  HANDLE h = StartPending(buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  int rc_live = 0, err_live = 0, rc_zero = 0, err_zero = 0, rc_junk = 0, err_junk = 0;
  ASSERT_TRUE(InsideHook([&] {
    WSASetLastError(0);
    rc_live = WSACancelAsyncRequest(h);
    err_live = WSAGetLastError();
    WSASetLastError(0);
    rc_zero = WSACancelAsyncRequest(nullptr);
    err_zero = WSAGetLastError();
    WSASetLastError(0);
    rc_junk = WSACancelAsyncRequest(reinterpret_cast<HANDLE>(1));
    err_junk = WSAGetLastError();
  }));
  EXPECT_EQ(SOCKET_ERROR, rc_live);
  EXPECT_EQ(WSAEINPROGRESS, err_live);
  EXPECT_EQ(SOCKET_ERROR, rc_zero);
  EXPECT_EQ(WSAEINPROGRESS, err_zero);
  EXPECT_EQ(SOCKET_ERROR, rc_junk);
  EXPECT_EQ(WSAEINPROGRESS, err_junk);
  EXPECT_EQ(0, WSACancelAsyncRequest(h)) << "the request must still be pending: "
                                         << WSAGetLastError();
}

// Start rule: WSAEINPROGRESS from inside the hook, for every start function, before the
// argument checks.
TEST_F(Blocking11Test, InsideHookStartsFailInProgress) {
  WSAF_CONF_REQUIRE(kDnsFaults);  // InsideHook drops the query
  std::vector<std::pair<HANDLE, int>> results;
  CanaryBuffer buf;
  ASSERT_TRUE(InsideHook([&] {
    for (const Starter& s : AllStarters()) {
      WSASetLastError(0);
      HANDLE h = s.start(window(), kMsg, buf.data(), buf.size());
      results.emplace_back(h, WSAGetLastError());
    }
    WSASetLastError(0);
    HANDLE h = WSAAsyncGetHostByName(window(), kMsg, nullptr, nullptr, 0);
    results.emplace_back(h, WSAGetLastError());
  }));
  ASSERT_EQ(AllStarters().size() + 1, results.size());
  for (std::size_t i = 0; i < results.size(); ++i) {
    SCOPED_TRACE(i < AllStarters().size() ? AllStarters()[i].name : "NULL name");
    EXPECT_EQ(nullptr, results[i].first);
    EXPECT_EQ(WSAEINPROGRESS, results[i].second);
  }
  SleepMs(100);
  EXPECT_TRUE(NoMessageAnywhere());
  EXPECT_TRUE(buf.Intact());
}

// "From inside the hook every Winsock call except WSAIsBlocking and WSACancelBlockingCall fails
// with WSAEINPROGRESS": WSACleanup (and it does not count).
TEST_F(Blocking11Test, InsideHookCleanupFailsInProgress) {
  WSAF_CONF_REQUIRE(kDnsFaults);  // InsideHook drops the query
  int rc = 0, err = 0;
  ASSERT_TRUE(InsideHook([&] {
    WSASetLastError(0);
    rc = WSACleanup();
    err = WSAGetLastError();
  }));
  EXPECT_EQ(SOCKET_ERROR, rc);
  EXPECT_EQ(WSAEINPROGRESS, err);
  CanaryBuffer buf;
  HANDLE h = StartNumeric(buf.data(), buf.size());
  ASSERT_NE(nullptr, h) << "the session ended: " << WSAGetLastError();
  Reply r;
  EXPECT_TRUE(WaitReply(h, &r));
  EXPECT_EQ(0, WSACleanup());
  EXPECT_EQ(SOCKET_ERROR, WSACleanup()) << "the failed cleanup inside the hook counted";
}

// ... WSASetBlockingHook and WSAUnhookBlockingHook.
TEST_F(Blocking11Test, InsideHookSetAndUnhookFailInProgress) {
  WSAF_CONF_REQUIRE(kDnsFaults);  // InsideHook drops the query
  FARPROC set_rc = reinterpret_cast<FARPROC>(OtherHook);
  int set_err = 0, unhook_rc = 0, unhook_err = 0;
  ASSERT_TRUE(InsideHook([&] {
    WSASetLastError(0);
    set_rc = WSASetBlockingHook(OtherHook);
    set_err = WSAGetLastError();
    WSASetLastError(0);
    unhook_rc = WSAUnhookBlockingHook();
    unhook_err = WSAGetLastError();
  }));
  EXPECT_EQ(nullptr, set_rc);
  EXPECT_EQ(WSAEINPROGRESS, set_err);
  EXPECT_EQ(SOCKET_ERROR, unhook_rc);
  EXPECT_EQ(WSAEINPROGRESS, unhook_err);
  EXPECT_EQ(reinterpret_cast<FARPROC>(TestHook), WSASetBlockingHook(OtherHook))
      << "the hook changed from inside the hook";
}

// ... WSAStartup (returning the code directly), and it does not count.
TEST_F(Blocking11Test, InsideHookStartupFailsInProgress) {
  WSAF_CONF_REQUIRE(kDnsFaults);  // InsideHook drops the query
  int rc = 0;
  ASSERT_TRUE(InsideHook([&] {
    WSADATA data;
    rc = WSAStartup(MAKEWORD(1, 1), &data);
  }));
  EXPECT_EQ(WSAEINPROGRESS, rc);
  EXPECT_EQ(0, WSACleanup());
  EXPECT_EQ(SOCKET_ERROR, WSACleanup()) << "the failed startup inside the hook counted";
}

// ... and another blocking call.
TEST_F(Blocking11Test, InsideHookNestedBlockingCallFailsInProgress) {
  WSAF_CONF_REQUIRE(kDnsFaults);  // InsideHook drops the query
  hostent* nested = reinterpret_cast<hostent*>(1);
  int err = 0;
  ASSERT_TRUE(InsideHook([&] {
    WSASetLastError(0);
    nested = wsaf_gethostbyname("10.9.8.7");
    err = WSAGetLastError();
  }));
  EXPECT_EQ(nullptr, nested);
  EXPECT_EQ(WSAEINPROGRESS, err);
}

// "in progress on the calling thread": other threads are unaffected while one thread blocks.
TEST_F(Blocking11Test, OtherThreadsAreNotBlocked) {
  WSAF_CONF_REQUIRE(kDnsFaults);  // InsideHook drops the query
  BOOL other_blocking = TRUE;
  HANDLE other_handle = nullptr;
  int cancel_err = 0;
  CanaryBuffer buf;
  ASSERT_TRUE(InsideHook([&] {
    std::thread t([&] {
      other_blocking = WSAIsBlocking();
      other_handle = StartNumeric(buf.data(), buf.size());
      WSACancelAsyncRequest(nullptr);
      cancel_err = WSAGetLastError();
    });
    t.join();
  }));
  EXPECT_FALSE(other_blocking);
  ASSERT_NE(nullptr, other_handle);
  EXPECT_EQ(WSAEINVAL, cancel_err);
  Reply r;
  ASSERT_TRUE(WaitReply(other_handle, &r));
  EXPECT_EQ(0, r.error);
}

// Order: network down before in progress (for starts and cancels).
TEST_F(Blocking11Test, InsideHookNetDownPrecedesInProgress) {
  WSAF_CONF_REQUIRE(kDnsFaults);  // InsideHook drops the query
  WSAF_CONF_REQUIRE(kNetworkDown);
  int start_down = 0, cancel_down = 0, start_up = 0, cancel_up = 0;
  CanaryBuffer buf;
  ASSERT_TRUE(InsideHook([&] {
    wsaf_set_network_down(1);
    StartNumeric(buf.data(), buf.size());
    start_down = WSAGetLastError();
    WSACancelAsyncRequest(nullptr);
    cancel_down = WSAGetLastError();
    wsaf_set_network_down(0);
    StartNumeric(buf.data(), buf.size());
    start_up = WSAGetLastError();
    WSACancelAsyncRequest(nullptr);
    cancel_up = WSAGetLastError();
  }));
  EXPECT_EQ(WSAENETDOWN, start_down);
  EXPECT_EQ(WSAENETDOWN, cancel_down);
  EXPECT_EQ(WSAEINPROGRESS, start_up);
  EXPECT_EQ(WSAEINPROGRESS, cancel_up);
}

// Order: not initialised before in progress. Another thread ends the session while this one
// is inside the hook.
TEST_F(Blocking11Test, InsideHookNotInitialisedPrecedesInProgress) {
  WSAF_CONF_REQUIRE(kDnsFaults);  // InsideHook drops the query
  std::atomic<bool> cleaned{false};
  std::atomic<int> cleanup_rc{-2};
  std::thread cleaner;
  bool waited_out = false;
  int start_err = 0, cancel_err = 0;
  CanaryBuffer buf;
  ASSERT_TRUE(InsideHook([&] {
    cleaner = std::thread([&] {
      cleanup_rc = WSACleanup();
      cleaned = true;
    });
    auto start = Clock::now();
    while (!cleaned && MillisSince(start) < 2000) SleepMs(1);
    waited_out = !cleaned;
    StartNumeric(buf.data(), buf.size());
    start_err = WSAGetLastError();
    WSACancelAsyncRequest(nullptr);
    cancel_err = WSAGetLastError();
  }));
  cleaner.join();
  ASSERT_FALSE(waited_out) << "WSACleanup on another thread blocked while this one was blocking";
  ASSERT_EQ(0, cleanup_rc.load());
  EXPECT_EQ(WSANOTINITIALISED, start_err);
  EXPECT_EQ(WSANOTINITIALISED, cancel_err);
}

// "in a 2.x session they fail with WSAEOPNOTSUPP"; WSAIsBlocking is FALSE.
class Blocking22Test : public WsaTest {};

TEST_F(Blocking22Test, BlockingFunctionsFailOpNotSupp) {
  WSASetLastError(0);
  EXPECT_EQ(nullptr, WSASetBlockingHook(TestHook));
  EXPECT_EQ(WSAEOPNOTSUPP, WSAGetLastError());
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSAUnhookBlockingHook());
  EXPECT_EQ(WSAEOPNOTSUPP, WSAGetLastError());
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelBlockingCall());
  EXPECT_EQ(WSAEOPNOTSUPP, WSAGetLastError());
  EXPECT_FALSE(WSAIsBlocking());
}

// The blocking lookup itself still works in a 2.2 session.
TEST_F(Blocking22Test, BlockingLookupWorks) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(100);
  hostent* h = wsaf_gethostbyname("host2.test");
  ASSERT_NE(nullptr, h) << "error " << WSAGetLastError();
  EXPECT_EQ(std::set<std::string>{"10.0.0.2"}, HostAddresses(h));
}

class BlockingBareTest : public WsaBareTest {};

TEST_F(BlockingBareTest, BlockingLookupBeforeStartupFailsNotInitialised) {
  WSASetLastError(0);
  EXPECT_EQ(nullptr, wsaf_gethostbyname("10.9.8.7"));
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
}

}  // namespace
}  // namespace wsaf_conf
