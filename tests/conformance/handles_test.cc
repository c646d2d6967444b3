// SPEC.md "Starting a request": "Returns a nonzero HANDLE. Decision: handles are unique for the
// life of the process ...; a stale handle never names, cancels or confuses a newer request",
// and cancel rule 4: a handle "issued before the last full cleanup" is WSAEINVAL.
#include <unordered_set>

#include "conformance_env.h"

namespace wsaf_conf {
namespace {

class HandlesTest : public WsaLongDnsTest {
 protected:
  // Starts a quick request (a service size query: no buffer, no DNS), retrying briefly while
  // the table is full. Returns 0 only on a real failure.
  HANDLE StartQuick() {
    for (int attempt = 0; attempt < 1000; ++attempt) {
      HANDLE h = WSAAsyncGetServByName(window(), kMsg, "http", "tcp", nullptr, 0);
      if (h != nullptr || WSAGetLastError() != WSAEWOULDBLOCK) return h;
      Drain();
      SleepMs(1);
    }
    return nullptr;
  }
  void Drain() {
    MSG m;
    for (int i = 0; i < 20000 && PeekMessage(&m, window(), 0, 0, PM_REMOVE); ++i) {
    }
  }
};

// Nonzero and unique over 200,000 start+cancel pairs: an implementation with 16-bit handles
// (or that reuses a slot's handle) repeats one after 65,536.
TEST_F(HandlesTest, NonzeroAndUniqueOver200000Requests) {
  const int kRequests = 200000;
  std::unordered_set<uintptr_t> seen;
  seen.reserve(kRequests * 2);
  auto start = Clock::now();
  for (int i = 0; i < kRequests; ++i) {
    HANDLE h = StartQuick();
    ASSERT_NE(nullptr, h) << "start " << i << " failed, error " << WSAGetLastError();
    ASSERT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(h)).second)
        << "handle " << h << " reused after " << i << " requests";
    int rc = WSACancelAsyncRequest(h);
    if (rc != 0) {
      int err = WSAGetLastError();
      ASSERT_EQ(SOCKET_ERROR, rc);
      ASSERT_TRUE(err == WSAEALREADY || err == WSAEINVAL) << "error " << err;
    }
    if (i % 512 == 511) Drain();
    ASSERT_LT(MillisSince(start), 40000) << "only " << i << " requests in 40 s";
  }
  std::printf("[ handles  ] %d unique handles in %lld ms\n", kRequests, MillisSince(start));
}

// Unique when one slot is reused again and again: start, wait for the message, remove it,
// repeat. A generation that wraps at 2^16 uses of a slot (a 16-bit handle) repeats here.
TEST_F(HandlesTest, UniqueOver70000SequentialRequests) {
  const int kRequests = 70000;
  std::unordered_set<uintptr_t> seen;
  seen.reserve(kRequests * 2);
  auto start = Clock::now();
  for (int i = 0; i < kRequests; ++i) {
    HANDLE h = StartQuick();
    ASSERT_NE(nullptr, h) << "start " << i << " failed, error " << WSAGetLastError();
    ASSERT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(h)).second)
        << "handle " << h << " reused after " << i << " sequential requests";
    MSG m;
    bool got = false;
    while (!got) {
      if (PeekMessage(&m, window(), kMsg, kMsg, PM_REMOVE)) {
        ASSERT_EQ(reinterpret_cast<WPARAM>(h), m.wParam);
        got = true;
      } else {
        ASSERT_LT(MillisSince(start), 40000) << "only " << i << " requests in 40 s";
      }
    }
  }
  std::printf("[ handles  ] %d sequential unique handles in %lld ms\n", kRequests,
              MillisSince(start));
}

// Unique across a full cleanup too: the table does not start over.
TEST_F(HandlesTest, UniqueAcrossFullCleanup) {
  std::unordered_set<uintptr_t> seen;
  for (int session = 0; session < 3; ++session) {
    SCOPED_TRACE(testing::Message() << "session " << session);
    if (session > 0) {
      WSADATA data;
      ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
    }
    for (int i = 0; i < 2000; ++i) {
      HANDLE h = StartQuick();
      ASSERT_NE(nullptr, h);
      ASSERT_TRUE(seen.insert(reinterpret_cast<uintptr_t>(h)).second)
          << "handle " << h << " reused after a full cleanup";
      WSACancelAsyncRequest(h);
      if (i % 512 == 511) Drain();
    }
    Drain();
    ASSERT_EQ(0, WSACleanup());
  }
}

// Stale canceled handles (whose slots are reused by newer requests) answer WSAEINVAL and never
// cancel the newer requests.
TEST_F(HandlesTest, StaleCanceledHandlesNeverCancelNewerRequests) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  std::vector<HANDLE> stale;
  for (int i = 0; i < 300; ++i) {
    HANDLE h = StartPending(nullptr, 0);
    ASSERT_NE(nullptr, h);
    ASSERT_EQ(0, WSACancelAsyncRequest(h)) << "error " << WSAGetLastError();
    stale.push_back(h);
  }
  std::vector<std::unique_ptr<CanaryBuffer>> bufs;
  std::vector<HANDLE> fresh;
  for (int i = 0; i < 20; ++i) {
    bufs.push_back(std::make_unique<CanaryBuffer>());
    HANDLE h = StartPending(bufs.back()->data(), bufs.back()->size());
    ASSERT_NE(nullptr, h);
    fresh.push_back(h);
  }
  for (HANDLE h : stale) {
    SCOPED_TRACE(testing::Message() << "stale handle " << h);
    for (HANDLE f : fresh) ASSERT_NE(f, h) << "a fresh request got a stale handle";
    WSASetLastError(0);
    ASSERT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
    ASSERT_EQ(WSAEINVAL, WSAGetLastError());
  }
  for (HANDLE f : fresh) EXPECT_EQ(0, WSACancelAsyncRequest(f)) << "a stale cancel hit it";
}

// Stale handles of delivered requests never cancel newer requests either.
TEST_F(HandlesTest, StaleDispatchedHandlesNeverCancelNewerRequests) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  std::vector<HANDLE> stale;
  for (int i = 0; i < 300; ++i) {
    HANDLE h = StartQuick();
    ASSERT_NE(nullptr, h);
    Reply r;
    ASSERT_TRUE(WaitReply(h, &r));
    stale.push_back(h);
  }
  std::vector<std::unique_ptr<CanaryBuffer>> bufs;
  std::vector<HANDLE> fresh;
  for (int i = 0; i < 20; ++i) {
    bufs.push_back(std::make_unique<CanaryBuffer>());
    HANDLE h = StartPending(bufs.back()->data(), bufs.back()->size());
    ASSERT_NE(nullptr, h);
    fresh.push_back(h);
  }
  for (HANDLE h : stale) {
    SCOPED_TRACE(testing::Message() << "stale handle " << h);
    WSASetLastError(0);
    ASSERT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
    int err = WSAGetLastError();
    ASSERT_TRUE(err == WSAEALREADY || err == WSAEINVAL) << "error " << err;
  }
  for (HANDLE f : fresh) EXPECT_EQ(0, WSACancelAsyncRequest(f)) << "a stale cancel hit it";
  for (auto& b : bufs) EXPECT_TRUE(b->Intact());
}

// Cancel rule 4: "issued before the last full cleanup" → WSAEINVAL, whatever state the request
// was in (pending, queued, dispatched), and they do not touch the new session's requests.
TEST_F(HandlesTest, HandlesFromBeforeFullCleanupFailEInval) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  // The queued request's message waits in a window of its own, which nobody pumps.
  HWND queue_window = NewWindow();
  ASSERT_NE(nullptr, queue_window);
  CanaryBuffer pending, queued, dispatched;
  HANDLE hp = StartPending(pending.data(), pending.size());
  HANDLE hq = StartNumeric(queued.data(), queued.size(), "10.9.9.9", queue_window);
  HANDLE hd = StartNumeric(dispatched.data(), dispatched.size(), "10.9.9.8");
  ASSERT_NE(nullptr, hp);
  ASSERT_NE(nullptr, hq);
  ASSERT_NE(nullptr, hd);
  Reply r;
  ASSERT_TRUE(WaitReply(hd, &r));
  ASSERT_TRUE(WaitQueued(hq, kMsg, kWaitLimit, queue_window));
  ASSERT_EQ(0, WSACleanup());
  WSADATA data;
  ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
  CanaryBuffer fresh_buf;
  HANDLE fresh = StartPending(fresh_buf.data(), fresh_buf.size());
  ASSERT_NE(nullptr, fresh);
  for (HANDLE h : {hp, hq, hd}) {
    SCOPED_TRACE(testing::Message() << "old handle " << h);
    EXPECT_NE(fresh, h);
    WSASetLastError(0);
    EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
    EXPECT_EQ(WSAEINVAL, WSAGetLastError());
  }
  EXPECT_EQ(0, WSACancelAsyncRequest(fresh)) << "an old handle canceled a new request";
  EXPECT_TRUE(pending.Intact());
}

}  // namespace
}  // namespace wsaf_conf
