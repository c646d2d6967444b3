// White-box tests of the task table (core/src/table/task_table.h): a cancel that wins against a
// request the resolver has not taken frees its slot at once; a slot freed while still in the
// submit stack is served (or skipped) exactly once; Trim gives wholly free chunks back and a
// revived chunk never repeats a handle; and all of it under threads (run under TSan by the tsan
// preset: ctest label tsan).
#include "table/task_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>
#include <vector>

namespace wsaf {
namespace {

constexpr uint32_t kChunk = TaskTable::kChunkSlots;

class TableTest : public ::testing::Test {
 protected:
  TableTest() { table_.AddSessionRef(); }

  uint64_t Start() {
    RequestArgs a;
    a.name = "host.example";
    uint64_t h = 0;
    EXPECT_EQ(table_.Start(a, table_.Session(), &h), StartStatus::kOk);
    return h;
  }
  CancelStatus Cancel(uint64_t h) { return table_.Cancel(h, table_.Session()); }
  // The resolver takes the stack and claims each slot; returns the ones it must serve or reclaim.
  std::vector<uint32_t> Take() {
    std::vector<uint32_t> out, kept;
    table_.TakeSubmitted(&out);
    for (uint32_t index : out) {
      SlotState s = table_.Claim(index);
      if (s == SlotState::kPending || s == SlotState::kCanceled) kept.push_back(index);
    }
    return kept;
  }
  // The resolver's side: commit every taken request and complete it without a message.
  void TakeAndFinishAll() {
    for (uint32_t index : Take()) {
      uint64_t h = table_.HandleOf(index);
      if (table_.TryBeginCommit(h)) {
        table_.FinishDone(h);
      } else {
        table_.ReclaimCanceled(index);
      }
    }
  }
  uint32_t Count(SlotState s) {
    uint32_t counts[6];
    table_.CountStates(counts);
    return counts[static_cast<int>(s)];
  }

  TaskTable table_;
};

TEST_F(TableTest, CancelOfAnUntakenRequestFreesItsSlotAtOnce) {
  uint64_t h = Start();
  EXPECT_EQ(Cancel(h), CancelStatus::kCanceled);
  EXPECT_EQ(Count(SlotState::kPending), 0u);
  EXPECT_EQ(Count(SlotState::kCanceled), 0u);  // nothing left for the resolver to reclaim
  EXPECT_EQ(Cancel(h), CancelStatus::kInvalid);  // already canceled
  // The slot comes straight back, with a new generation.
  uint64_t h2 = Start();
  EXPECT_EQ(TaskTable::IndexOf(h2), TaskTable::IndexOf(h));
  EXPECT_NE(h2, h);
  EXPECT_EQ(Cancel(h), CancelStatus::kInvalid);
  // It was still in the submit stack: it is served once, as the new request, not pushed twice.
  std::vector<uint32_t> taken = Take();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0], TaskTable::IndexOf(h2));
  EXPECT_EQ(table_.HandleOf(taken[0]), h2);
  EXPECT_TRUE(Take().empty());
}

TEST_F(TableTest, ASlotFreedInTheStackIsSkippedThenPushedAgainWhenReused) {
  uint64_t h = Start();
  EXPECT_EQ(Cancel(h), CancelStatus::kCanceled);
  EXPECT_TRUE(Take().empty());  // the resolver finds it FREE and skips it
  uint64_t h2 = Start();        // no longer in the stack: this start pushes it again
  std::vector<uint32_t> taken = Take();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(table_.HandleOf(taken[0]), h2);
}

TEST_F(TableTest, ACancelAfterTheResolverTookTheRequestLeavesItToTheResolver) {
  uint64_t h = Start();
  std::vector<uint32_t> taken = Take();
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(Cancel(h), CancelStatus::kCanceled);
  EXPECT_EQ(table_.StateOfSlot(taken[0]), SlotState::kCanceled);  // the resolver owns it
  EXPECT_FALSE(table_.TryBeginCommit(h));
  table_.ReclaimCanceled(taken[0]);
  EXPECT_EQ(table_.StateOfSlot(taken[0]), SlotState::kFree);
}

TEST_F(TableTest, TrimGivesBackWhollyFreeChunksAndHandlesNeverRepeat) {
  std::vector<uint64_t> first;
  for (uint32_t i = 0; i < 3 * kChunk; ++i) first.push_back(Start());
  TakeAndFinishAll();
  EXPECT_EQ(Count(SlotState::kDone), 3 * kChunk);
  EXPECT_EQ(table_.Trim(), 2 * kChunk);  // never the first chunk
  EXPECT_EQ(table_.Trim(), 0u);          // nothing more to give
  for (uint64_t h : first) {
    // Remembered (DONE) in the first chunk, forgotten in the others.
    EXPECT_EQ(Cancel(h), TaskTable::IndexOf(h) < kChunk ? CancelStatus::kAlready : CancelStatus::kInvalid)
        << std::hex << h;
  }
  std::set<uint64_t> seen(first.begin(), first.end());
  for (uint32_t i = 0; i < 3 * kChunk; ++i) {
    uint64_t h = Start();
    EXPECT_TRUE(seen.insert(h).second) << "handle " << std::hex << h << " repeated";
  }
  EXPECT_EQ(table_.capacity(), 3 * kChunk);  // the given-back chunks came back; none was added
}

TEST_F(TableTest, TrimKeepsAChunkWithASlotStillInTheSubmitStack) {
  for (uint32_t i = 0; i < 2 * kChunk; ++i) Start();
  TakeAndFinishAll();
  uint64_t h = Start();  // the last slot freed comes first: it is in the second chunk
  ASSERT_GE(TaskTable::IndexOf(h), kChunk);
  EXPECT_EQ(Cancel(h), CancelStatus::kCanceled);  // freed, but still linked in the stack
  EXPECT_EQ(table_.Trim(), 0u);
  EXPECT_TRUE(Take().empty());
  EXPECT_EQ(table_.Trim(), kChunk);
}

// Two application threads start and cancel in bursts larger than a chunk, a resolver thread
// takes, commits or reclaims, and a trimmer gives chunks back all the while. Every answer must
// be one the state machine allows, nothing may be left stranded, and no handle may repeat.
TEST(TableThreads, StartCancelTakeAndTrimConcurrently) {
  TaskTable table;
  table.AddSessionRef();
  constexpr int kApps = 2;
  constexpr int kRounds = 12;
  constexpr uint32_t kBurst = kChunk + kChunk / 2;
  std::atomic<int> apps_left{kApps};
  std::atomic<uint64_t> trims{0}, given_back{0};
  std::vector<std::vector<uint64_t>> issued(kApps);
  std::vector<int> bad(kApps, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kApps; ++t) {
    threads.emplace_back([&, t] {
      RequestArgs a;
      a.name = "concurrent.example";
      std::vector<uint64_t> burst;
      for (int round = 0; round < kRounds; ++round) {
        burst.clear();
        for (uint32_t i = 0; i < kBurst; ++i) {
          uint64_t h = 0;
          StartStatus st = table.Start(a, table.Session(), &h);
          if (st != StartStatus::kOk) {
            ++bad[t];
            continue;
          }
          burst.push_back(h);
          issued[t].push_back(h);
        }
        for (uint64_t h : burst) {
          CancelStatus c = table.Cancel(h, table.Session());
          // Won, or the resolver committed first (completed: DONE, or forgotten once reused).
          if (c != CancelStatus::kCanceled && c != CancelStatus::kAlready && c != CancelStatus::kInvalid) ++bad[t];
        }
      }
      apps_left.fetch_sub(1);
    });
  }
  threads.emplace_back([&] {  // the resolver: holds what it takes, commits every third
    std::vector<uint32_t> batch;
    std::vector<std::pair<uint32_t, uint64_t>> held;
    uint64_t n = 0;
    auto serve = [&](bool final) {
      batch.clear();
      table.TakeSubmitted(&batch);
      for (uint32_t index : batch) {
        SlotState st = table.Claim(index);
        if (st == SlotState::kPending || st == SlotState::kCanceled) held.emplace_back(index, table.HandleOf(index));
      }
      std::size_t kept = 0;
      for (auto [index, h] : held) {
        if (final || n++ % 3 == 0) {
          if (table.TryBeginCommit(h)) {
            table.FinishDone(h);
          } else {
            table.ReclaimCanceled(index);  // cancel won after we took it
          }
        } else if (table.StateOfSlot(index) == SlotState::kCanceled) {
          table.ReclaimCanceled(index);
        } else {
          held[kept++] = {index, h};
        }
      }
      held.resize(kept);
    };
    while (apps_left.load() > 0) {
      serve(false);
      std::this_thread::yield();
    }
    serve(true);
  });
  threads.emplace_back([&] {  // the trimmer
    while (apps_left.load() > 0) {
      given_back.fetch_add(table.Trim());
      trims.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < kApps; ++t) EXPECT_EQ(bad[t], 0) << "app thread " << t;
  uint32_t counts[6];
  table.CountStates(counts);
  for (SlotState s : {SlotState::kPending, SlotState::kCanceled, SlotState::kCompleting, SlotState::kQueued}) {
    EXPECT_EQ(counts[static_cast<int>(s)], 0u) << SlotStateName(s) << " slots left";
  }
  std::set<uint64_t> all;
  for (const auto& v : issued) {
    for (uint64_t h : v) EXPECT_TRUE(all.insert(h).second) << "handle " << std::hex << h << " repeated";
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kApps) * kRounds * kBurst);
  EXPECT_GT(trims.load(), 0u);
  std::printf("%llu trims gave back %llu slots; table capacity %u\n",
              static_cast<unsigned long long>(trims.load()),
              static_cast<unsigned long long>(given_back.load()), table.capacity());
}

}  // namespace
}  // namespace wsaf
