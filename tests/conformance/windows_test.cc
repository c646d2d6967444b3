// SPEC.md "Windows and queues": message-only windows, PostMessage / PeekMessage / GetMessage
// and their filters, PM_NOREMOVE, the 10,000-message limit (a completion waits for room), and
// destroyed windows (posting fails; a request whose window is destroyed completes silently).
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "conformance_env.h"

namespace wsaf_conf {
namespace {

class WindowsTest : public WsaTest {};

// Destroys `w` after `ms` unless disarmed, so a GetMessage that never returns fails (with -1)
// instead of hanging the test.
class Watchdog {
 public:
  Watchdog(HWND w, int ms) : thread_([this, w, ms] {
      std::unique_lock<std::mutex> lock(mu_);
      if (!cv_.wait_for(lock, milliseconds(ms), [this] { return disarmed_; })) {
        fired_ = true;
        DestroyWindow(w);
      }
    }) {}
  ~Watchdog() { Disarm(); }
  void Disarm() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      disarmed_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  bool fired() const { return fired_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool disarmed_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

TEST_F(WindowsTest, CreateWindowGivesDistinctWindows) {
  HWND a = NewWindow();
  HWND b = NewWindow();
  ASSERT_NE(nullptr, a);
  ASSERT_NE(nullptr, b);
  EXPECT_NE(a, b);
  EXPECT_NE(window(), a);
}

TEST_F(WindowsTest, PostThenPeekRemoveGivesTheMessage) {
  ASSERT_TRUE(PostMessage(window(), WM_USER + 5, 42, -7));
  MSG m{};
  ASSERT_TRUE(PeekMessage(&m, window(), 0, 0, PM_REMOVE));
  EXPECT_EQ(window(), m.hwnd);
  EXPECT_EQ(WM_USER + 5u, m.message);
  EXPECT_EQ(42u, m.wParam);
  EXPECT_EQ(-7, m.lParam);
  EXPECT_FALSE(PeekMessage(&m, window(), 0, 0, PM_REMOVE)) << "removed twice";
}

TEST_F(WindowsTest, PeekOnEmptyQueueReturnsFalse) {
  MSG m{};
  EXPECT_FALSE(PeekMessage(&m, window(), 0, 0, PM_REMOVE));
  EXPECT_FALSE(PeekMessage(&m, window(), 0, 0, PM_NOREMOVE));
}

TEST_F(WindowsTest, PeekNoRemoveLeavesTheMessage) {
  ASSERT_TRUE(PostMessage(window(), WM_USER + 1, 1, 10));
  ASSERT_TRUE(PostMessage(window(), WM_USER + 1, 2, 20));
  MSG m{};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(PeekMessage(&m, window(), 0, 0, PM_NOREMOVE));
    EXPECT_EQ(1u, m.wParam);
  }
  ASSERT_TRUE(PeekMessage(&m, window(), 0, 0, PM_REMOVE));
  EXPECT_EQ(1u, m.wParam);
  ASSERT_TRUE(PeekMessage(&m, window(), 0, 0, PM_NOREMOVE));
  EXPECT_EQ(2u, m.wParam);
  ASSERT_TRUE(PeekMessage(&m, window(), 0, 0, PM_REMOVE));
  EXPECT_EQ(2u, m.wParam);
  EXPECT_FALSE(PeekMessage(&m, window(), 0, 0, PM_NOREMOVE));
}

TEST_F(WindowsTest, MessagesComeOutInPostingOrder) {
  for (WPARAM i = 0; i < 100; ++i) ASSERT_TRUE(PostMessage(window(), WM_USER, i, 0));
  MSG m{};
  for (WPARAM i = 0; i < 100; ++i) {
    ASSERT_TRUE(PeekMessage(&m, window(), 0, 0, PM_REMOVE));
    EXPECT_EQ(i, m.wParam);
  }
}

// Filters: [min, max] inclusive; 0, 0 accepts everything; unmatched messages stay, in order.
TEST_F(WindowsTest, PeekFiltersByMessageRange) {
  ASSERT_TRUE(PostMessage(window(), 100, 1, 0));
  ASSERT_TRUE(PostMessage(window(), 200, 2, 0));
  ASSERT_TRUE(PostMessage(window(), 300, 3, 0));
  ASSERT_TRUE(PostMessage(window(), 200, 4, 0));
  MSG m{};
  EXPECT_FALSE(PeekMessage(&m, window(), 400, 500, PM_REMOVE));
  ASSERT_TRUE(PeekMessage(&m, window(), 200, 200, PM_REMOVE));
  EXPECT_EQ(200u, m.message);
  EXPECT_EQ(2u, m.wParam);
  ASSERT_TRUE(PeekMessage(&m, window(), 250, 350, PM_REMOVE));
  EXPECT_EQ(300u, m.message);
  ASSERT_TRUE(PeekMessage(&m, window(), 0, 0, PM_REMOVE));
  EXPECT_EQ(100u, m.message);
  ASSERT_TRUE(PeekMessage(&m, window(), 0, 0, PM_REMOVE));
  EXPECT_EQ(4u, m.wParam);
  EXPECT_FALSE(PeekMessage(&m, window(), 0, 0, PM_REMOVE));
}

// "hWnd NULL looks at every window"; a window filter sees only its own messages.
TEST_F(WindowsTest, PeekNullWindowSeesEveryWindowAndFilterSeesOne) {
  HWND other = NewWindow();
  ASSERT_NE(nullptr, other);
  ASSERT_TRUE(PostMessage(other, WM_USER, 7, 0));
  MSG m{};
  EXPECT_FALSE(PeekMessage(&m, window(), 0, 0, PM_REMOVE)) << "saw another window's message";
  ASSERT_TRUE(PostMessage(window(), WM_USER, 8, 0));
  std::set<std::pair<HWND, WPARAM>> got;
  while (got.size() < 3 && PeekMessage(&m, nullptr, 0, 0, PM_REMOVE)) got.emplace(m.hwnd, m.wParam);
  EXPECT_EQ((std::set<std::pair<HWND, WPARAM>>{{other, 7}, {window(), 8}}), got);
  EXPECT_TRUE(NoMessageAnywhere());
}

TEST_F(WindowsTest, GetMessageBlocksUntilPosted) {
  Watchdog dog(window(), 5000);
  std::thread poster([this] {
    SleepMs(100);
    PostMessage(window(), WM_USER + 3, 99, 0);
  });
  auto start = Clock::now();
  MSG m{};
  BOOL rc = GetMessage(&m, window(), 0, 0);
  poster.join();
  dog.Disarm();
  ASSERT_FALSE(dog.fired()) << "GetMessage never returned the posted message";
  EXPECT_GT(rc, 0);
  EXPECT_EQ(WM_USER + 3u, m.message);
  EXPECT_EQ(99u, m.wParam);
  EXPECT_GE(MillisSince(start), 50) << "GetMessage returned before anything was posted";
}

TEST_F(WindowsTest, GetMessageHonoursFilterAndNullWindow) {
  HWND other = NewWindow();
  ASSERT_TRUE(PostMessage(window(), 100, 1, 0));
  ASSERT_TRUE(PostMessage(window(), 200, 2, 0));
  ASSERT_TRUE(PostMessage(other, 300, 3, 0));
  MSG m{};
  ASSERT_GT(GetMessage(&m, window(), 200, 200), 0);
  EXPECT_EQ(2u, m.wParam);
  ASSERT_GT(GetMessage(&m, window(), 0, 0), 0);
  EXPECT_EQ(1u, m.wParam);
  ASSERT_GT(GetMessage(&m, nullptr, 0, 0), 0);
  EXPECT_EQ(3u, m.wParam);
  EXPECT_EQ(other, m.hwnd);
}

// "Returns ... 0 for WM_QUIT".
TEST_F(WindowsTest, GetMessageReturnsZeroForQuit) {
  ASSERT_TRUE(PostMessage(window(), WM_QUIT, 0, 0));
  MSG m{};
  EXPECT_EQ(0, GetMessage(&m, window(), 0, 0));
  EXPECT_EQ(static_cast<UINT>(WM_QUIT), m.message);
}

// "-1 for an invalid or destroyed window or a NULL lpMsg".
TEST_F(WindowsTest, GetMessageFailsForDestroyedWindowOrNullMsg) {
  ASSERT_TRUE(PostMessage(window(), WM_USER, 1, 0));
  EXPECT_EQ(-1, GetMessage(nullptr, window(), 0, 0));
  HWND w = NewWindow();
  ASSERT_TRUE(PostMessage(w, WM_USER, 1, 0));
  ASSERT_TRUE(DestroyWindow(w));
  MSG m{};
  EXPECT_EQ(-1, GetMessage(&m, w, 0, 0));
}

// "PostMessage to a destroyed window fails"; its messages are gone; destroying twice fails.
TEST_F(WindowsTest, DestroyedWindowRefusesPostsAndLosesItsQueue) {
  HWND w = NewWindow();
  ASSERT_NE(nullptr, w);
  ASSERT_TRUE(PostMessage(w, WM_USER, 1, 0));
  EXPECT_TRUE(DestroyWindow(w));
  EXPECT_FALSE(PostMessage(w, WM_USER, 2, 0));
  MSG m{};
  EXPECT_FALSE(PeekMessage(&m, w, 0, 0, PM_REMOVE));
  EXPECT_TRUE(NoMessageAnywhere()) << "a destroyed window's message is still visible";
  EXPECT_FALSE(DestroyWindow(w));
}

// "A queue holds at most 10,000 messages": PostMessage returns FALSE at the limit, per window,
// and room comes back when a message is removed.
TEST_F(WindowsTest, QueueHoldsAtMostTenThousandMessages) {
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(PostMessage(window(), kFillMsg, i, 0)) << i;
  EXPECT_FALSE(PostMessage(window(), kFillMsg, 10000, 0));
  HWND other = NewWindow();
  EXPECT_TRUE(PostMessage(other, kFillMsg, 0, 0)) << "the limit is per window";
  MSG m{};
  ASSERT_TRUE(PeekMessage(&m, window(), 0, 0, PM_REMOVE));
  EXPECT_EQ(0u, m.wParam);
  EXPECT_TRUE(PostMessage(window(), kFillMsg, 10000, 0));
  EXPECT_FALSE(PostMessage(window(), kFillMsg, 10001, 0));
}

// "Decision: a completion that finds the queue full waits for room (the message is never
// dropped while the window lives)", and it never pushes the queue past the limit.
TEST_F(WindowsTest, CompletionWaitsForRoomInFullQueue) {
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(PostMessage(window(), kFillMsg, i, 0)) << i;
  CanaryBuffer buf;
  HANDLE h = StartNumeric(buf.data(), buf.size(), "10.4.4.4");
  ASSERT_NE(nullptr, h);
  SleepMs(200);
  EXPECT_FALSE(PostMessage(window(), kFillMsg, 0, 0)) << "the queue grew past 10,000";
  int fill = 0, completions = 0;
  Reply r;
  auto start = Clock::now();
  while (completions == 0 && MillisSince(start) < 5000) {
    MSG m;
    if (!PeekMessage(&m, window(), 0, 0, PM_REMOVE)) {
      SleepMs(1);
      continue;
    }
    if (m.message == kFillMsg) ++fill;
    if (m.message == kMsg && m.wParam == reinterpret_cast<WPARAM>(h)) {
      ++completions;
      r = Decode(m);
    }
  }
  ASSERT_EQ(1, completions) << "the completion was lost behind a full queue";
  EXPECT_EQ(0, r.error);
  EXPECT_TRUE(PackedHostent(buf.data(), r.buflen));
  EXPECT_EQ(std::set<std::string>{"10.4.4.4"},
            HostAddresses(reinterpret_cast<const hostent*>(buf.data())));
  EXPECT_EQ(0, CountRepliesAfter(h, milliseconds(100))) << "delivered twice";
}

// A cancel while the completion waits for room: exactly one outcome — canceled (0, no message,
// buffer untouched) or completed (WSAEALREADY/WSAEINVAL, exactly one message).
TEST_F(WindowsTest, CancelWhileWaitingForRoomHasExactlyOneOutcome) {
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(PostMessage(window(), kFillMsg, i, 0)) << i;
  CanaryBuffer buf;
  HANDLE h = StartNumeric(buf.data(), buf.size(), "10.4.4.5");
  ASSERT_NE(nullptr, h);
  SleepMs(100);
  WSASetLastError(0);
  int rc = WSACancelAsyncRequest(h);
  int err = WSAGetLastError();
  int completions = 0;
  auto start = Clock::now();
  while (MillisSince(start) < 1500) {
    MSG m;
    if (!PeekMessage(&m, window(), 0, 0, PM_REMOVE)) {
      SleepMs(1);
      continue;
    }
    if (m.wParam == reinterpret_cast<WPARAM>(h) && m.message == kMsg) ++completions;
  }
  if (rc == 0) {
    EXPECT_EQ(0, completions) << "canceled (returned 0) and still delivered";
    EXPECT_TRUE(buf.Intact());
  } else {
    EXPECT_EQ(SOCKET_ERROR, rc);
    EXPECT_TRUE(err == WSAEALREADY || err == WSAEINVAL) << "error " << err;
    EXPECT_EQ(1, completions);
  }
}

// Windows are pumped from any thread: a completion removed by GetMessage on another thread.
TEST_F(WindowsTest, CompletionPumpedFromAnotherThread) {
  CanaryBuffer buf;
  HANDLE h = WSAAsyncGetServByName(window(), kMsg, "ssh", "tcp", buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  Watchdog dog(window(), 5000);
  MSG m{};
  BOOL rc = -2;
  std::thread pump([&] { rc = GetMessage(&m, window(), kMsg, kMsg); });
  pump.join();
  dog.Disarm();
  ASSERT_FALSE(dog.fired());
  ASSERT_GT(rc, 0);
  EXPECT_EQ(reinterpret_cast<WPARAM>(h), m.wParam);
  EXPECT_EQ(0, WSAGETASYNCERROR(m.lParam));
  ASSERT_TRUE(PackedServent(buf.data(), WSAGETASYNCBUFLEN(m.lParam)));
  EXPECT_EQ(htons(22), static_cast<uint16_t>(reinterpret_cast<servent*>(buf.data())->s_port));
}

class WindowsSlowTest : public WsaLongDnsTest {};

// A thread already blocked in GetMessage is woken by a completion posted later.
TEST_F(WindowsSlowTest, GetMessageWakesForLaterCompletion) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(300);
  CanaryBuffer buf;
  Watchdog dog(window(), 5000);
  MSG m{};
  BOOL rc = -2;
  std::atomic<bool> waiting{false};
  long long woke_after_ms = -1;
  std::thread pump([&] {
    waiting = true;
    auto start = Clock::now();
    rc = GetMessage(&m, window(), kMsg, kMsg);
    woke_after_ms = MillisSince(start);
  });
  while (!waiting) SleepMs(1);
  SleepMs(20);  // let the pump block first
  HANDLE h = WSAAsyncGetHostByName(window(), kMsg, "host1.test", buf.data(), buf.size());
  pump.join();
  dog.Disarm();
  ASSERT_NE(nullptr, h);
  ASSERT_FALSE(dog.fired()) << "GetMessage was never woken by the completion";
  ASSERT_GT(rc, 0);
  EXPECT_EQ(reinterpret_cast<WPARAM>(h), m.wParam);
  EXPECT_LT(woke_after_ms, 2000) << "woken late: the completion did not wake the waiter";
  EXPECT_EQ(0, WSAGETASYNCERROR(m.lParam));
}

// "A request whose window is destroyed completes silently and its slot is reclaimed":
// no message anywhere, the buffer not written, cancel afterwards WSAEALREADY or WSAEINVAL.
TEST_F(WindowsSlowTest, PendingRequestOfDestroyedWindowCompletesSilently) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDelay(300);
  HWND w = NewWindow();
  ASSERT_NE(nullptr, w);
  CanaryBuffer buf;
  HANDLE h = WSAAsyncGetHostByName(w, kMsg, "host1.test", buf.data(), buf.size());
  ASSERT_NE(nullptr, h);
  ASSERT_TRUE(DestroyWindow(w));
  // A control request on a live window shows when the delay has passed.
  CanaryBuffer control;
  HANDLE hk = WSAAsyncGetHostByName(window(), kMsg, "host2.test", control.data(), control.size());
  ASSERT_NE(nullptr, hk);
  Reply r;
  ASSERT_TRUE(WaitReply(hk, &r));
  SleepMs(300);
  EXPECT_TRUE(NoMessageAnywhere()) << "a destroyed window's request posted somewhere";
  EXPECT_TRUE(buf.Intact()) << "a destroyed window's request wrote its buffer";
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h)) << "the request is still pending";
  int err = WSAGetLastError();
  EXPECT_TRUE(err == WSAEALREADY || err == WSAEINVAL) << "error " << err;
}

// A queued completion disappears with its window; cancel then fails and nothing arrives.
TEST_F(WindowsSlowTest, QueuedCompletionOfDestroyedWindowVanishes) {
  HWND w = NewWindow();
  ASSERT_NE(nullptr, w);
  CanaryBuffer buf;
  HANDLE h = StartNumeric(buf.data(), buf.size(), "10.9.8.7", w);
  ASSERT_NE(nullptr, h);
  ASSERT_TRUE(WaitQueued(h, kMsg, kWaitLimit, w));
  ASSERT_TRUE(DestroyWindow(w));
  WSASetLastError(0);
  EXPECT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(h));
  int err = WSAGetLastError();
  EXPECT_TRUE(err == WSAEALREADY || err == WSAEINVAL) << "error " << err;
  SleepMs(100);
  EXPECT_TRUE(NoMessageAnywhere());
}

}  // namespace
}  // namespace wsaf_conf
