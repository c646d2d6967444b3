// SPEC.md "WSAStartup / WSACleanup" and "Threads" (the last error is per thread).

#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "conformance_env.h"

namespace wsaf_conf {
namespace {

class StartupTest : public WsaBareTest {
 protected:
  StartupTest() { dns_timeout_ms_ = kLongDnsTimeoutMs; }
};

// ThreadIds(): the process's thread ids (conformance_platform.h).

// Not a rule of SPEC.md but of this implementation: sessions share one resolver thread, parked
// between them, instead of making a thread per WSAStartup (a thread per session grew a
// sanitizer's thread registry without bound in name_fuzzer, which runs a session per input).
// Each session still answers its lookups, and the final cleanup still stops the resolver.
TEST_F(StartupTest, SessionsReuseOneParkedResolverThread) {
  WSAF_CONF_REQUIRE(kResolverThreads);
  std::set<std::string> first;  // the threads alive during the first session
  for (int i = 0; i < 20; ++i) {
    SCOPED_TRACE(testing::Message() << "session " << i);
    WSADATA data{};
    ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
    char buf[MAXGETHOSTSTRUCT];
    HANDLE h = StartNumeric(buf, sizeof buf);
    ASSERT_NE(nullptr, h);
    Reply r;
    ASSERT_TRUE(WaitReply(h, &r));  // the resolver runs: it answered
    EXPECT_EQ(0, r.error);
    std::set<std::string> now = ThreadIds();
    if (i == 0) first = now;
    else EXPECT_EQ(first, now) << "this session runs on other threads than the first";
    ASSERT_EQ(0, WSACleanup());
  }
  EXPECT_FALSE(first.empty());
}

// "1.1 negotiates 1.1; 2.0 and above negotiate 2.2"; WSADATA gets the negotiated version and
// wHighVersion 2.2. WSAStartup returns 0 (not an error code) on success.
TEST_F(StartupTest, Version22Negotiates22) {
  WSADATA data{};
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  EXPECT_EQ(MAKEWORD(2, 2), data.wVersion);
  EXPECT_EQ(MAKEWORD(2, 2), data.wHighVersion);
}

TEST_F(StartupTest, Version11Negotiates11) {
  WSADATA data{};
  ASSERT_EQ(0, WSAStartup(MAKEWORD(1, 1), &data));
  EXPECT_EQ(MAKEWORD(1, 1), data.wVersion);
  EXPECT_EQ(MAKEWORD(2, 2), data.wHighVersion);
}

TEST_F(StartupTest, Versions20AndAboveNegotiate22) {
  const WORD versions[] = {MAKEWORD(2, 0), MAKEWORD(2, 1), MAKEWORD(2, 3), MAKEWORD(3, 0),
                           MAKEWORD(255, 255)};
  for (WORD v : versions) {
    SCOPED_TRACE(testing::Message() << "requested " << int(LOBYTE(v)) << "." << int(HIBYTE(v)));
    WSADATA data{};
    ASSERT_EQ(0, WSAStartup(v, &data));
    EXPECT_EQ(MAKEWORD(2, 2), data.wVersion);
    EXPECT_EQ(MAKEWORD(2, 2), data.wHighVersion);
    EXPECT_EQ(0, WSACleanup());
  }
}

// "Versions below 1.1 fail with WSAVERNOTSUPPORTED"; the code is returned directly (not
// SOCKET_ERROR), and a failed startup does not count.
TEST_F(StartupTest, VersionsBelow11FailVerNotSupported) {
  const WORD versions[] = {MAKEWORD(0, 0), MAKEWORD(1, 0), MAKEWORD(0, 1), MAKEWORD(0, 9)};
  for (WORD v : versions) {
    SCOPED_TRACE(testing::Message() << "requested " << int(LOBYTE(v)) << "." << int(HIBYTE(v)));
    WSADATA data{};
    EXPECT_EQ(WSAVERNOTSUPPORTED, WSAStartup(v, &data));
  }
  EXPECT_EQ(SOCKET_ERROR, WSACleanup()) << "a failed WSAStartup must not count as a startup";
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  HANDLE h = StartNumeric(nullptr, 0);
  EXPECT_EQ(nullptr, h);
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
}

// "A NULL WSADATA fails with WSAEFAULT" (returned directly), and does not count.
TEST_F(StartupTest, NullWsaDataFailsEFault) {
  EXPECT_EQ(WSAEFAULT, WSAStartup(MAKEWORD(2, 2), nullptr));
  EXPECT_EQ(WSAEFAULT, WSAStartup(MAKEWORD(1, 1), nullptr));
  EXPECT_EQ(SOCKET_ERROR, WSACleanup()) << "a failed WSAStartup must not count as a startup";
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
}

// "A cleanup with no matching startup fails with WSANOTINITIALISED."
TEST_F(StartupTest, CleanupWithoutStartupFailsNotInitialised) {
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACleanup());
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
}

// Starting a request and canceling fail with WSANOTINITIALISED before WSAStartup — before any
// other check (handle 0, NULL name).
TEST_F(StartupTest, EverythingBeforeStartupFailsNotInitialised) {
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    CanaryBuffer buf;
    WSASetLastError(0);
    EXPECT_EQ(nullptr, s.start(window(), kMsg, buf.data(), buf.size()));
    EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  }
  WSASetLastError(0);
  EXPECT_EQ(nullptr, WSAAsyncGetHostByName(window(), kMsg, nullptr, nullptr, 0));
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  for (HANDLE h : {static_cast<HANDLE>(nullptr), reinterpret_cast<HANDLE>(1),
                   reinterpret_cast<HANDLE>(-1)}) {
    WSASetLastError(0);
    EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
    EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  }
  SleepMs(100);
  EXPECT_TRUE(NoMessageAnywhere()) << "a failed start posted a message";
}

// "Reference counted": each cleanup but the last leaves the library initialised.
TEST_F(StartupTest, StartupIsReferenceCounted) {
  WSADATA data;
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  EXPECT_EQ(0, WSACleanup());
  EXPECT_EQ(0, WSACleanup());
  CanaryBuffer buf;
  HANDLE h = StartNumeric(buf.data(), buf.size());
  ASSERT_NE(nullptr, h) << "still initialised after 2 of 3 cleanups, error " << WSAGetLastError();
  Reply r;
  ASSERT_TRUE(WaitReply(h, &r));
  EXPECT_EQ(0, r.error);
  EXPECT_EQ(0, WSACleanup());
  WSASetLastError(0);
  EXPECT_EQ(nullptr, StartNumeric(buf.data(), buf.size()));
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  EXPECT_EQ(SOCKET_ERROR, WSACleanup());
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
}

// "A cleanup that is not the last changes nothing else": pending requests stay pending (they
// complete, or can be canceled), queued messages stay.
TEST_F(StartupTest, NonFinalCleanupChangesNothing) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  WSADATA data;
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  ServerDelay(400);
  CanaryBuffer delayed, to_cancel, numeric;
  HANDLE hd = WSAAsyncGetHostByName(window(), kMsg, "host1.test", delayed.data(), delayed.size());
  HANDLE hc = WSAAsyncGetHostByName(window(), kMsg, "host2.test", to_cancel.data(),
                                    to_cancel.size());
  HANDLE hn = StartNumeric(numeric.data(), numeric.size());
  ASSERT_NE(nullptr, hd);
  ASSERT_NE(nullptr, hc);
  ASSERT_NE(nullptr, hn);
  ASSERT_TRUE(WaitQueued(hn));
  ASSERT_EQ(0, WSACleanup());
  EXPECT_EQ(0, WSACancelAsyncRequest(hc)) << "error " << WSAGetLastError();
  Reply r;
  ASSERT_TRUE(WaitReply(hn, &r)) << "a queued message must survive a non-final cleanup";
  EXPECT_EQ(0, r.error);
  ASSERT_TRUE(WaitReply(hd, &r)) << "a pending request must survive a non-final cleanup";
  EXPECT_EQ(0, r.error);
  ASSERT_TRUE(PackedHostent(delayed.data(), r.buflen));
  EXPECT_EQ(std::set<std::string>{"10.0.0.1"},
            HostAddresses(reinterpret_cast<const hostent*>(delayed.data())));
  EXPECT_EQ(0, CountRepliesAfter(hc, milliseconds(300)));
  EXPECT_TRUE(to_cancel.Intact());
}

// "The last cleanup cancels every outstanding request without posting messages, returns
// promptly without waiting for DNS timeouts, and no buffer is written after it returns."
TEST_F(StartupTest, FinalCleanupCancelsPendingSilentlyAndPromptly) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  WSADATA data;
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  ServerDelay(1000);
  std::vector<std::unique_ptr<CanaryBuffer>> bufs;
  std::vector<HANDLE> handles;
  const char* names[] = {"host1.test", "host2.test", "multi.test", "dual.test"};
  for (const char* name : names) {
    bufs.push_back(std::make_unique<CanaryBuffer>());
    HANDLE h = WSAAsyncGetHostByName(window(), kMsg, name, bufs.back()->data(),
                                     bufs.back()->size());
    ASSERT_NE(nullptr, h);
    handles.push_back(h);
  }
  auto start = Clock::now();
  ASSERT_EQ(0, WSACleanup());
  EXPECT_LT(MillisSince(start), 1000) << "the final cleanup waited for the DNS delay";
  // Wait well past the delay: nothing may arrive, no byte may change.
  SleepMs(1600);
  EXPECT_TRUE(NoMessageAnywhere()) << "a request completed after the final cleanup";
  for (HANDLE h : handles) EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(0)));
  for (auto& b : bufs) EXPECT_TRUE(b->Intact()) << "buffer written after the final cleanup";
}

// Prompt even when the queries would only time out after 20 s.
TEST_F(StartupTest, FinalCleanupDoesNotWaitForDnsTimeouts) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  WSADATA data;
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  ServerDrop();
  std::vector<std::unique_ptr<CanaryBuffer>> bufs;
  for (int i = 0; i < 20; ++i) {
    bufs.push_back(std::make_unique<CanaryBuffer>());
    ASSERT_NE(nullptr, StartPending(bufs.back()->data(), bufs.back()->size()));
  }
  SleepMs(50);
  auto start = Clock::now();
  ASSERT_EQ(0, WSACleanup());
  EXPECT_LT(MillisSince(start), 1000) << "the final cleanup waited for DNS timeouts";
  SleepMs(200);
  EXPECT_TRUE(NoMessageAnywhere());
  for (auto& b : bufs) EXPECT_TRUE(b->Intact());
}

// Requests ended by the final cleanup stay ended when a new session starts at once: none of
// them is looked up, written or delivered in the next session.
TEST_F(StartupTest, RestartDoesNotReviveRequestsOfEndedSession) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(200);
  WSADATA data;
  std::vector<std::unique_ptr<CanaryBuffer>> bufs;
  const char* names[] = {"host1.test", "host2.test", "10.1.1.1", "multi.test"};
  for (int round = 0; round < 30; ++round) {
    ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
    for (const char* name : names) {
      bufs.push_back(std::make_unique<CanaryBuffer>());
      ASSERT_NE(nullptr, WSAAsyncGetHostByName(window(), kMsg, name, bufs.back()->data(),
                                               bufs.back()->size()));
    }
    ASSERT_EQ(0, WSACleanup());
  }
  // Snapshot now (numeric lookups may have completed before their cleanup), then keep a
  // session running well past the DNS delay.
  std::vector<std::vector<char>> snapshots;
  for (auto& b : bufs) snapshots.push_back(b->Snapshot());
  Pump();
  inbox_.clear();
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  SleepMs(700);
  for (std::size_t i = 0; i < bufs.size(); ++i) {
    EXPECT_TRUE(bufs[i]->Equals(snapshots[i])) << "request " << i << " written after its cleanup";
  }
  Pump();
  EXPECT_TRUE(inbox_.empty()) << "a request of an ended session delivered in the next one";
}

// After the final cleanup: starts and cancels fail with WSANOTINITIALISED, and so does
// another cleanup.
TEST_F(StartupTest, AfterFinalCleanupEverythingFailsNotInitialised) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  WSADATA data;
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  ServerDrop();
  CanaryBuffer buf;
  HANDLE h = StartPending(buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  ASSERT_EQ(0, WSACleanup());
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    CanaryBuffer b;
    WSASetLastError(0);
    EXPECT_EQ(nullptr, s.start(window(), kMsg, b.data(), b.size()));
    EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  }
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(nullptr));
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACleanup());
  EXPECT_EQ(WSANOTINITIALISED, WSAGetLastError());
  EXPECT_TRUE(buf.Intact());
}

// A new session after a full cleanup works like the first.
TEST_F(StartupTest, RestartAfterFullCleanupWorks) {
  WSADATA data;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
    CanaryBuffer buf;
    HANDLE h = StartNumeric(buf.data(), buf.size());
    ASSERT_NE(nullptr, h);
    Reply r;
    ASSERT_TRUE(WaitReply(h, &r));
    EXPECT_EQ(0, r.error);
    EXPECT_TRUE(PackedHostent(buf.data(), r.buflen));
    ASSERT_EQ(0, WSACleanup());
  }
}

// Asynchronous requests work in a 1.1 session too.
TEST_F(StartupTest, Session11RunsAsyncRequests) {
  WSADATA data;
  ASSERT_EQ(0, WSAStartup(MAKEWORD(1, 1), &data));
  for (const Starter& s : AllStarters()) {
    SCOPED_TRACE(s.name);
    CanaryBuffer buf;
    HANDLE h = s.start(window(), kMsg, buf.data(), buf.size());
    ASSERT_NE(nullptr, h) << WSAGetLastError();
    Reply r;
    ASSERT_TRUE(WaitReply(h, &r));
    EXPECT_EQ(0, r.error);
  }
}

// "The last error is per thread": set in one thread, invisible in another, and a failing call
// in another thread leaves this thread's error alone.
TEST_F(StartupTest, LastErrorIsPerThread) {
  WSADATA data;
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  WSASetLastError(1234);
  int seen_in_thread = -1, own_in_thread = -1, cancel_error_in_thread = -1;
  std::thread t([&] {
    seen_in_thread = WSAGetLastError();
    WSASetLastError(5678);
    own_in_thread = WSAGetLastError();
    WSACancelAsyncRequest(nullptr);
    cancel_error_in_thread = WSAGetLastError();
  });
  t.join();
  EXPECT_NE(1234, seen_in_thread) << "the last error leaked across threads";
  EXPECT_EQ(5678, own_in_thread);
  EXPECT_EQ(WSAEINVAL, cancel_error_in_thread);
  EXPECT_EQ(1234, WSAGetLastError()) << "another thread's calls changed this thread's error";
}

}  // namespace
}  // namespace wsaf_conf
