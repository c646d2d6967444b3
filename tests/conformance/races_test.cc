// SPEC.md "Lifecycle of one request" and "Threads", with real threads: cancel racing
// completion, dispatch, the final WSACleanup and DestroyWindow; two cancels of one handle.
// Every iteration must have exactly one outcome:
//   canceled — WSACancelAsyncRequest returned 0, no message ever arrives, the buffer is never
//              written; or
//   completed — it returned SOCKET_ERROR with WSAEALREADY / WSAEINVAL, and exactly one message
//              arrives.
// The random pauses come from a seed printed with each test (WSAF_CONF_SEED=<n> replays it;
// thread timing still varies).
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "conformance_env.h"

namespace wsaf_conf {
namespace {

uint32_t TestSeed() {
  if (const char* env = std::getenv("WSAF_CONF_SEED")) {
    return static_cast<uint32_t>(std::strtoul(env, nullptr, 10));
  }
  return std::random_device{}();
}

// Busy-waits a few hundred nanoseconds to a few microseconds, to spread the interleavings.
void Spin(uint32_t n) {
  static std::atomic<uint32_t> sink{0};
  for (uint32_t i = 0; i < n; ++i) sink.fetch_add(0, std::memory_order_relaxed);
}

void BusyWaitNs(int64_t ns) {
  if (ns <= 0) return;
  auto until = Clock::now() + std::chrono::nanoseconds(ns);
  while (Clock::now() < until) {
  }
}

// Aims cancels at the instant the resolver commits: after a win (canceled) the next cancel
// comes later, after a loss (completed) sooner, so the delay settles where both happen and the
// cancel/commit race is hit head-on instead of mostly missed. Random jitter spreads the
// attempts around that point.
class Staircase {
 public:
  Staircase(double start_ns, double min_step_ns) : delay_ns_(start_ns), min_step_(min_step_ns) {}
  int64_t Next(std::mt19937& rng) {
    double step = Step();
    std::uniform_real_distribution<double> jitter(-2 * step, 2 * step);
    double d = delay_ns_ + jitter(rng);
    return d > 0 ? static_cast<int64_t>(d) : 0;
  }
  void Update(bool canceled) {
    delay_ns_ += canceled ? Step() : -Step();
    if (delay_ns_ < 0) delay_ns_ = 0;
  }
  double delay_ns() const { return delay_ns_; }

 private:
  double Step() const { return delay_ns_ / 16 > min_step_ ? delay_ns_ / 16 : min_step_; }
  double delay_ns_;
  double min_step_;
};

struct Attempt {
  HANDLE h = nullptr;
  int rc = 1;  // 1: cancel not called yet
  int err = 0;
  std::unique_ptr<CanaryBuffer> buf = std::make_unique<CanaryBuffer>(512);
};

// Collects messages on a thread of its own until stopped.
class PumpThread {
 public:
  explicit PumpThread(HWND w) : w_(w), thread_([this] { Run(); }) {}
  ~PumpThread() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int received() const { return received_.load(); }
  // Only after Stop().
  const std::vector<MSG>& messages() const { return messages_; }

 private:
  void Run() {
    while (!stop_) {
      MSG m;
      if (PeekMessage(&m, w_, 0, 0, PM_REMOVE)) {
        messages_.push_back(m);
        ++received_;
      } else {
        // Idle: leave the CPUs to the threads that race (this machine may have only two).
        std::this_thread::sleep_for(std::chrono::microseconds(50));
      }
    }
    MSG m;
    while (PeekMessage(&m, w_, 0, 0, PM_REMOVE)) messages_.push_back(m);
  }
  HWND w_;
  std::atomic<bool> stop_{false};
  std::atomic<int> received_{0};
  std::vector<MSG> messages_;
  std::thread thread_;
};

class RacesTest : public WsaLongDnsTest {
 protected:
  void SetUp() override {
    WsaLongDnsTest::SetUp();
    seed_ = TestSeed();
    RecordProperty("seed", std::to_string(seed_));
    std::printf("[ seed     ] WSAF_CONF_SEED=%u\n", seed_);
    rng_.seed(seed_);
  }

  // Checks every attempt against the two allowed outcomes. `messages` are every message
  // received for these requests (all of kMsg).
  void CheckOutcomes(const std::vector<Attempt>& attempts, const std::vector<MSG>& messages) {
    std::map<uintptr_t, std::vector<MSG>> by_handle;
    for (const Attempt& a : attempts) by_handle[reinterpret_cast<uintptr_t>(a.h)];
    for (const MSG& m : messages) {
      auto it = by_handle.find(m.wParam);
      ASSERT_NE(by_handle.end(), it) << "a message for a handle never issued";
      it->second.push_back(m);
    }
    int canceled = 0, completed = 0;
    for (std::size_t i = 0; i < attempts.size(); ++i) {
      const Attempt& a = attempts[i];
      const std::vector<MSG>& got = by_handle[reinterpret_cast<uintptr_t>(a.h)];
      SCOPED_TRACE(testing::Message() << "attempt " << i << " handle " << a.h);
      if (a.rc == 0) {
        ++canceled;
        ASSERT_EQ(0u, got.size()) << "cancel returned 0 and the message still arrived";
        ASSERT_TRUE(a.buf->Intact()) << "cancel returned 0 and the buffer was written";
      } else {
        ++completed;
        ASSERT_EQ(SOCKET_ERROR, a.rc);
        ASSERT_TRUE(a.err == WSAEALREADY || a.err == WSAEINVAL) << "error " << a.err;
        ASSERT_EQ(1u, got.size()) << "a request that was not canceled must deliver exactly once";
        Reply r = Decode(got[0]);
        ASSERT_EQ(0, r.error);
        ASSERT_TRUE(PackedHostent(a.buf->data(), r.buflen));
      }
    }
    std::printf("[ outcomes ] %d canceled, %d completed\n", canceled, completed);
  }

  // Waits until `pump` has received `expected` messages (bounded), then a little longer so a
  // late duplicate would show.
  static void Quiesce(const PumpThread& pump, int expected) {
    auto start = Clock::now();
    while (pump.received() < expected && MillisSince(start) < 5000) SleepMs(1);
    SleepMs(200);
  }

  uint32_t Random(uint32_t below) { return static_cast<uint32_t>(rng_() % below); }

  uint32_t seed_ = 0;
  std::mt19937 rng_;
};

// Cancel on the starting thread, aimed at the moment the resolver commits numeric lookups.
TEST_F(RacesTest, CancelRacesCompletionSameThread) {
  const int kIterations = 40000;
  std::vector<Attempt> attempts(kIterations);
  std::vector<std::string> names;
  names.reserve(kIterations);
  std::vector<MSG> messages;
  Staircase aim(2000, 20);
  for (int i = 0; i < kIterations; ++i) {
    Attempt& a = attempts[i];
    names.push_back("10.5." + std::to_string(i / 250 % 250) + "." + std::to_string(i % 250 + 1));
    int64_t delay = aim.Next(rng_);
    a.h = StartNumeric(a.buf->data(), a.buf->size(), names.back().c_str());
    ASSERT_NE(nullptr, a.h) << "error " << WSAGetLastError();
    BusyWaitNs(delay);
    WSASetLastError(0);
    a.rc = WSACancelAsyncRequest(a.h);
    a.err = WSAGetLastError();
    aim.Update(a.rc == 0);
    if (i % 100 == 99) {
      MSG m;
      while (PeekMessage(&m, window(), 0, 0, PM_REMOVE)) messages.push_back(m);
    }
  }
  std::printf("[ aim      ] cancel %.0f ns after start\n", aim.delay_ns());
  int expected = 0;
  for (const Attempt& a : attempts) expected += a.rc != 0;
  auto start = Clock::now();
  while (static_cast<int>(messages.size()) < expected && MillisSince(start) < 5000) {
    MSG m;
    if (PeekMessage(&m, window(), 0, 0, PM_REMOVE)) {
      messages.push_back(m);
    } else {
      SleepMs(1);
    }
  }
  SleepMs(200);
  MSG m;
  while (PeekMessage(&m, window(), 0, 0, PM_REMOVE)) messages.push_back(m);
  CheckOutcomes(attempts, messages);
}

// Start on one thread, cancel on another (aimed at the moment the DNS answer is committed),
// pump on a third: cancel races completion and dispatch.
TEST_F(RacesTest, CancelRacesCompletionAndDispatchAcrossThreads) {
  ServerNormal();
  const int kIterations = 5000;
  const char* names[] = {"host1.test", "host2.test", "multi.test", "alias.test"};
  std::vector<Attempt> attempts(kIterations);
  std::atomic<int> published{0};
  std::atomic<int> canceled_up_to{0};
  std::mt19937 canceler_rng(seed_ + 1);
  Staircase aim(50000, 100);
  PumpThread pump(window());
  std::thread canceler([&] {
    auto start = Clock::now();
    for (int j = 0; j < kIterations; ++j) {
      // The canceler alone spins (it is the time-critical side); the others sleep or block.
      while (published.load(std::memory_order_acquire) <= j) {
        if (MillisSince(start) > 20000) return;
      }
      BusyWaitNs(aim.Next(canceler_rng));
      WSASetLastError(0);
      attempts[j].rc = WSACancelAsyncRequest(attempts[j].h);
      attempts[j].err = WSAGetLastError();
      aim.Update(attempts[j].rc == 0);
      canceled_up_to.store(j + 1, std::memory_order_release);
    }
  });
  auto start = Clock::now();
  for (int i = 0; i < kIterations; ++i) {
    // One request in flight at a time, so the canceler's delay is measured from its start.
    while (canceled_up_to.load(std::memory_order_acquire) < i && MillisSince(start) < 20000) {
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
    attempts[i].h = WSAAsyncGetHostByName(window(), kMsg, names[i % 4], attempts[i].buf->data(),
                                          attempts[i].buf->size());
    if (attempts[i].h == nullptr) {
      ADD_FAILURE() << "start failed, error " << WSAGetLastError();
      break;
    }
    published.store(i + 1, std::memory_order_release);
  }
  canceler.join();
  std::printf("[ aim      ] cancel %.0f ns after publication\n", aim.delay_ns());
  ASSERT_EQ(kIterations, published.load());
  for (const Attempt& a : attempts) ASSERT_NE(1, a.rc) << "the canceler gave up";
  int expected = 0;
  for (const Attempt& a : attempts) expected += a.rc != 0;
  Quiesce(pump, expected);
  pump.Stop();
  CheckOutcomes(attempts, pump.messages());
}

// The same race with DNS answers from the embedded server instead of numeric lookups.
TEST_F(RacesTest, CancelRacesDnsCompletion) {
  ServerNormal();
  const int kIterations = 4000;
  const char* names[] = {"host1.test", "host2.test", "multi.test", "dual.test"};
  std::vector<Attempt> attempts(kIterations);
  Staircase aim(100000, 200);  // about a round trip to the local server
  PumpThread pump(window());
  for (int i = 0; i < kIterations; ++i) {
    Attempt& a = attempts[i];
    int64_t delay = aim.Next(rng_);
    a.h = WSAAsyncGetHostByName(window(), kMsg, names[i % 4], a.buf->data(), a.buf->size());
    ASSERT_NE(nullptr, a.h) << "error " << WSAGetLastError();
    BusyWaitNs(delay);
    WSASetLastError(0);
    a.rc = WSACancelAsyncRequest(a.h);
    a.err = WSAGetLastError();
    aim.Update(a.rc == 0);
  }
  std::printf("[ aim      ] cancel %.0f ns after start\n", aim.delay_ns());
  int expected = 0;
  for (const Attempt& a : attempts) expected += a.rc != 0;
  Quiesce(pump, expected);
  pump.Stop();
  CheckOutcomes(attempts, pump.messages());
}

// Cancel racing the final WSACleanup. Per round: requests, then one thread cleans up while
// another cancels them. After the cleanup returns, no buffer changes and no message arrives; a
// request the caller canceled (0) has no message and an untouched buffer; any other request
// failed to cancel (WSANOTINITIALISED, WSAEALREADY, WSAEINVAL) and is delivered at most once.
// (A request the resolver had already committed when the cleanup came may end without a
// message after its buffer was written: SPEC.md only forbids writes after the cleanup returns.)
TEST_F(RacesTest, CancelRacesFinalCleanup) {
  ServerNormal();
  const int kRounds = 150;
  const int kPerRound = 8;
  struct Round {
    std::vector<Attempt> attempts = std::vector<Attempt>(kPerRound);
    std::vector<std::vector<char>> snapshots;
    std::vector<int> delivered = std::vector<int>(kPerRound, 0);
    int cleanup_rc = -2;
  };
  std::vector<Round> rounds(kRounds);
  int late = 0;
  for (int round = 0; round < kRounds; ++round) {
    Round& rd = rounds[round];
    if (round > 0) {
      WSADATA data;
      ASSERT_EQ(0, WSAStartup(MAKEWORD(2, 2), &data));
    }
    const UINT wmsg = kMsg + 1000 + round;
    for (int k = 0; k < kPerRound; ++k) {
      Attempt& a = rd.attempts[k];
      a.h = (k % 2 == 0)
                ? StartNumeric(a.buf->data(), a.buf->size(), "10.8.8.8", nullptr, wmsg)
                : WSAAsyncGetHostByName(window(), wmsg, "host1.test", a.buf->data(),
                                        a.buf->size());
      ASSERT_NE(nullptr, a.h) << "error " << WSAGetLastError();
    }
    std::atomic<bool> go{false};
    uint32_t cleanup_pause = Random(20000);
    std::vector<uint32_t> cancel_pauses(kPerRound);
    for (auto& p : cancel_pauses) p = Random(3000);
    std::thread cleaner([&] {
      while (!go) std::this_thread::yield();
      Spin(cleanup_pause);
      rd.cleanup_rc = WSACleanup();
      // The moment the cleanup returned: from here on no byte may change.
      for (Attempt& a : rd.attempts) rd.snapshots.push_back(a.buf->Snapshot());
    });
    std::thread canceler([&] {
      while (!go) std::this_thread::yield();
      for (int k = 0; k < kPerRound; ++k) {
        Spin(cancel_pauses[k]);
        WSASetLastError(0);
        rd.attempts[k].rc = WSACancelAsyncRequest(rd.attempts[k].h);
        rd.attempts[k].err = WSAGetLastError();
      }
    });
    go = true;
    cleaner.join();
    canceler.join();
    MSG m;
    while (PeekMessage(&m, window(), 0, 0, PM_REMOVE)) {
      if (m.message != wmsg) {
        ++late;  // a message of an earlier round, posted after its cleanup returned
        continue;
      }
      for (int k = 0; k < kPerRound; ++k) {
        if (m.wParam == reinterpret_cast<WPARAM>(rd.attempts[k].h)) ++rd.delivered[k];
      }
    }
  }
  SleepMs(300);
  MSG m;
  while (PeekMessage(&m, window(), 0, 0, PM_REMOVE)) ++late;
  EXPECT_EQ(0, late) << "messages posted after the final WSACleanup returned";
  int canceled = 0, by_cleanup = 0, delivered = 0;
  for (int round = 0; round < kRounds; ++round) {
    Round& rd = rounds[round];
    SCOPED_TRACE(testing::Message() << "round " << round);
    ASSERT_EQ(0, rd.cleanup_rc);
    for (int k = 0; k < kPerRound; ++k) {
      const Attempt& a = rd.attempts[k];
      SCOPED_TRACE(testing::Message() << "request " << k);
      ASSERT_TRUE(a.buf->Equals(rd.snapshots[k])) << "buffer written after WSACleanup returned";
      ASSERT_LE(rd.delivered[k], 1) << "delivered twice";
      if (a.rc == 0) {
        ++canceled;
        ASSERT_EQ(0, rd.delivered[k]) << "canceled and delivered";
        ASSERT_TRUE(a.buf->Intact()) << "canceled and written";
        continue;
      }
      ASSERT_EQ(SOCKET_ERROR, a.rc);
      ASSERT_TRUE(a.err == WSANOTINITIALISED || a.err == WSAEALREADY || a.err == WSAEINVAL)
          << "error " << a.err;
      if (rd.delivered[k] == 0) {
        ++by_cleanup;
      } else {
        ++delivered;
      }
    }
  }
  std::printf("[ outcomes ] %d canceled, %d ended by cleanup, %d delivered\n", canceled,
              by_cleanup, delivered);
}

// Cancel racing DestroyWindow: nothing is posted anywhere, a canceled request's buffer is
// untouched, no buffer changes once both returned, and afterwards no request is left pending.
TEST_F(RacesTest, CancelRacesDestroyWindow) {
  const int kRounds = 150;
  const int kPerRound = 8;
  struct Round {
    std::vector<Attempt> attempts = std::vector<Attempt>(kPerRound);
    std::vector<std::vector<char>> snapshots;
    BOOL destroyed = FALSE;
  };
  std::vector<Round> rounds(kRounds);
  for (int round = 0; round < kRounds; ++round) {
    Round& rd = rounds[round];
    HWND w = NewWindow();
    ASSERT_NE(nullptr, w);
    for (int k = 0; k < kPerRound; ++k) {
      Attempt& a = rd.attempts[k];
      a.h = (k % 4 == 3) ? WSAAsyncGetHostByName(w, kMsg, "host2.test", a.buf->data(),
                                                 a.buf->size())
                         : StartNumeric(a.buf->data(), a.buf->size(), "10.3.3.3", w);
      ASSERT_NE(nullptr, a.h) << "error " << WSAGetLastError();
    }
    std::atomic<bool> go{false};
    uint32_t destroy_pause = Random(20000);
    std::thread destroyer([&] {
      while (!go) std::this_thread::yield();
      Spin(destroy_pause);
      rd.destroyed = DestroyWindow(w);
    });
    std::thread canceler([&] {
      while (!go) std::this_thread::yield();
      for (int k = 0; k < kPerRound; ++k) {
        WSASetLastError(0);
        rd.attempts[k].rc = WSACancelAsyncRequest(rd.attempts[k].h);
        rd.attempts[k].err = WSAGetLastError();
      }
    });
    go = true;
    destroyer.join();
    canceler.join();
    for (Attempt& a : rd.attempts) rd.snapshots.push_back(a.buf->Snapshot());
  }
  SleepMs(300);
  EXPECT_TRUE(NoMessageAnywhere()) << "a request of a destroyed window posted somewhere";
  int canceled = 0;
  for (int round = 0; round < kRounds; ++round) {
    Round& rd = rounds[round];
    SCOPED_TRACE(testing::Message() << "round " << round);
    ASSERT_TRUE(rd.destroyed);
    for (int k = 0; k < kPerRound; ++k) {
      const Attempt& a = rd.attempts[k];
      SCOPED_TRACE(testing::Message() << "request " << k);
      ASSERT_TRUE(a.buf->Equals(rd.snapshots[k])) << "buffer written after DestroyWindow";
      if (a.rc == 0) {
        ++canceled;
        ASSERT_TRUE(a.buf->Intact()) << "canceled and written";
      } else {
        ASSERT_EQ(SOCKET_ERROR, a.rc);
        ASSERT_TRUE(a.err == WSAEALREADY || a.err == WSAEINVAL) << "error " << a.err;
      }
      WSASetLastError(0);
      ASSERT_EQ(SOCKET_ERROR, WSACancelAsyncRequest(a.h)) << "still pending after its window died";
      int err = WSAGetLastError();
      ASSERT_TRUE(err == WSAEALREADY || err == WSAEINVAL) << "error " << err;
    }
  }
  std::printf("[ outcomes ] %d of %d canceled\n", canceled, kRounds * kPerRound);
}

// Two threads cancel the same pending handle at once: exactly one wins (0); the other finds
// it already canceled (WSAEINVAL).
TEST_F(RacesTest, TwoThreadsCancelSamePendingHandle) {
  WSAF_CONF_REQUIRE(kDnsFaults);
  ServerDrop();
  const int kIterations = 300;
  for (int i = 0; i < kIterations; ++i) {
    SCOPED_TRACE(testing::Message() << "iteration " << i);
    CanaryBuffer buf;
    HANDLE h = StartPending(buf.data(), buf.size());
    ASSERT_NE(nullptr, h);
    std::atomic<int> ready{0};
    int rc[2] = {-2, -2}, err[2] = {0, 0};
    uint32_t pause[2] = {Random(500), Random(500)};
    auto body = [&](int t) {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      Spin(pause[t]);
      WSASetLastError(0);
      rc[t] = WSACancelAsyncRequest(h);
      err[t] = WSAGetLastError();
    };
    std::thread a(body, 0), b(body, 1);
    a.join();
    b.join();
    int winners = (rc[0] == 0) + (rc[1] == 0);
    ASSERT_EQ(1, winners) << "rc " << rc[0] << "/" << rc[1] << " err " << err[0] << "/"
                          << err[1];
    int loser = rc[0] == 0 ? 1 : 0;
    ASSERT_EQ(SOCKET_ERROR, rc[loser]);
    ASSERT_EQ(WSAEINVAL, err[loser]);
    ASSERT_TRUE(buf.Intact());
  }
  SleepMs(100);
  EXPECT_TRUE(NoMessageAnywhere());
}

// Two threads cancel the same handle while it completes: at most one wins; if one wins nothing
// is delivered, otherwise exactly one message is.
TEST_F(RacesTest, TwoThreadsCancelSameCompletingHandle) {
  const int kIterations = 300;
  std::vector<std::pair<Attempt, Attempt>> pairs(kIterations);
  std::vector<MSG> messages;
  for (int i = 0; i < kIterations; ++i) {
    auto& [first, second] = pairs[i];
    first.h = StartNumeric(first.buf->data(), first.buf->size(), "10.2.2.2");
    ASSERT_NE(nullptr, first.h);
    second.h = first.h;
    std::atomic<int> ready{0};
    uint32_t pause[2] = {Random(3000), Random(3000)};
    auto body = [&](Attempt* a, int t) {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      Spin(pause[t]);
      WSASetLastError(0);
      a->rc = WSACancelAsyncRequest(a->h);
      a->err = WSAGetLastError();
    };
    std::thread ta(body, &first, 0), tb(body, &second, 1);
    ta.join();
    tb.join();
    MSG m;
    while (PeekMessage(&m, window(), 0, 0, PM_REMOVE)) messages.push_back(m);
  }
  SleepMs(200);
  MSG m;
  while (PeekMessage(&m, window(), 0, 0, PM_REMOVE)) messages.push_back(m);
  std::map<uintptr_t, int> count;
  for (const MSG& msg : messages) ++count[msg.wParam];
  for (int i = 0; i < kIterations; ++i) {
    SCOPED_TRACE(testing::Message() << "iteration " << i);
    const auto& [first, second] = pairs[i];
    int winners = (first.rc == 0) + (second.rc == 0);
    ASSERT_LE(winners, 1) << "two cancels of one handle both succeeded";
    for (const Attempt* a : {&first, &second}) {
      if (a->rc != 0) {
        ASSERT_EQ(SOCKET_ERROR, a->rc);
        ASSERT_TRUE(a->err == WSAEALREADY || a->err == WSAEINVAL) << "error " << a->err;
      }
    }
    int n = count[reinterpret_cast<uintptr_t>(first.h)];
    if (winners == 1) {
      ASSERT_EQ(0, n) << "canceled and delivered";
      ASSERT_TRUE(first.buf->Intact());
    } else {
      ASSERT_EQ(1, n) << "not canceled, so exactly one message";
    }
  }
}

// Cancel racing dispatch of a queued message: the request already completed, so cancel never
// succeeds, and the message is removed exactly once.
TEST_F(RacesTest, CancelRacesDispatchOfQueuedMessage) {
  const int kIterations = 300;
  for (int i = 0; i < kIterations; ++i) {
    SCOPED_TRACE(testing::Message() << "iteration " << i);
    CanaryBuffer buf;
    HANDLE h = StartNumeric(buf.data(), buf.size(), "10.1.2.3");
    ASSERT_NE(nullptr, h);
    ASSERT_TRUE(WaitQueued(h));
    std::atomic<int> ready{0};
    int rc = -2, err = 0;
    int removed = 0;
    uint32_t pause[2] = {Random(3000), Random(3000)};
    std::thread pump([&] {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      Spin(pause[0]);
      MSG m;
      while (PeekMessage(&m, window(), kMsg, kMsg, PM_REMOVE)) {
        removed += m.wParam == reinterpret_cast<WPARAM>(h);
      }
    });
    std::thread canceler([&] {
      ++ready;
      while (ready.load() < 2) std::this_thread::yield();
      Spin(pause[1]);
      WSASetLastError(0);
      rc = WSACancelAsyncRequest(h);
      err = WSAGetLastError();
    });
    pump.join();
    canceler.join();
    ASSERT_EQ(SOCKET_ERROR, rc) << "canceled a request whose message was already queued";
    ASSERT_TRUE(err == WSAEALREADY || err == WSAEINVAL) << "error " << err;
    ASSERT_EQ(1, removed);
    ASSERT_TRUE(PackedHostent(buf.data(), buf.size()));
  }
  SleepMs(100);
  EXPECT_TRUE(NoMessageAnywhere());
}

}  // namespace
}  // namespace wsaf_conf
