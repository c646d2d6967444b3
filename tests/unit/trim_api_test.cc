// The table gives memory back through the API's own paths (issue 13): a DestroyWindow that
// settles many queued completions trims at once, and the idle resolver trims what the pump
// freed within a couple of seconds. Numeric names only: no DNS query leaves the process, and
// the embedded server on 127.0.0.1 is the only one configured.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/engine.h"
#include "dnsserver/dns_server.h"
#include "wsafault/winsock_async.h"

namespace wsaf {
namespace {

constexpr UINT kMsg = WM_USER + 13;
constexpr int kRequests = 5000;  // more than one chunk (4,096 slots)

class TrimApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dns::Zone zone;
    std::string error;
    ASSERT_TRUE(dns::LoadZoneFile(std::string(WSAF_SOURCE_DIR) + "/corpus/zones/test.zone", &zone, &error))
        << error;
    server_ = std::make_unique<dns::Server>(std::move(zone));
    ASSERT_TRUE(server_->Start(0, &error)) << error;
    wsaf_set_dns_servers(server_->ServersCsv().c_str());
    WSADATA data;
    ASSERT_EQ(WSAStartup(MAKEWORD(2, 2), &data), 0);
    buffer_.resize(MAXGETHOSTSTRUCT);
  }
  void TearDown() override {
    WSACleanup();
    server_->Stop();
  }
  TaskTable& table() { return CurrentEngine().table; }
  uint32_t Count(SlotState s) {
    uint32_t counts[6];
    table().CountStates(counts);
    return counts[static_cast<int>(s)];
  }
  // Starts kRequests numeric lookups into `w` and waits (at most 10 s) until all are QUEUED.
  void FillQueued(HWND w) {
    uint32_t queued0 = Count(SlotState::kQueued);
    for (int i = 0; i < kRequests; ++i) {
      ASSERT_NE(WSAAsyncGetHostByName(w, kMsg, "127.0.0.1", buffer_.data(), static_cast<int>(buffer_.size())),
                nullptr)
          << WSAGetLastError();
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (Count(SlotState::kQueued) < queued0 + kRequests && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_EQ(Count(SlotState::kQueued), queued0 + kRequests);
    ASSERT_GT(table().capacity(), TaskTable::kChunkSlots);
  }

  std::unique_ptr<dns::Server> server_;
  std::vector<char> buffer_;
};

TEST_F(TrimApiTest, DestroyingAWindowFullOfCompletionsGivesChunksBack) {
  HWND w = wsaf_create_window();
  ASSERT_NE(w, nullptr);
  FillQueued(w);
  uint32_t before = table().given_back();
  ASSERT_TRUE(DestroyWindow(w));
  EXPECT_GE(table().given_back(), before + TaskTable::kChunkSlots);
  // The memory comes back when it is needed again, with handles never seen before.
  HWND w2 = wsaf_create_window();
  FillQueued(w2);
  EXPECT_TRUE(DestroyWindow(w2));
}

TEST_F(TrimApiTest, TheIdleResolverGivesBackWhatThePumpFreed) {
  HWND w = wsaf_create_window();
  ASSERT_NE(w, nullptr);
  FillQueued(w);
  uint32_t before = table().given_back();
  MSG m;
  int pumped = 0;
  while (PeekMessage(&m, w, 0, 0, PM_REMOVE)) ++pumped;
  EXPECT_EQ(pumped, kRequests);
  EXPECT_EQ(table().given_back(), before);  // the pump itself does not trim
  // The resolver trims when idle, at most once a second, and wakes for it at least every second.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (table().given_back() == before && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(table().given_back(), before);
  DestroyWindow(w);
}

}  // namespace
}  // namespace wsaf
