// The invariant checkers on hand-built event logs: a clean log passes; each invariant is
// triggered by a minimal log that breaks it and not by its correct twin; overlapping calls are
// judged against every instant they may have seen.
#include "check/checker.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <netdb.h>

#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "check/names.h"
#include "check/reference_model.h"
#include "resolver/pack.h"
#include "sim/events.h"

namespace wsaf::check {
namespace {

using sim::AnswerRecord;
using sim::Event;
using sim::EventType;
using sim::GuardedBuffer;
using sim::Run;

constexpr uint64_t kH1 = 0x400001;
constexpr uint64_t kH2 = 0x800002;
constexpr uint64_t kH3 = 0xc00003;
constexpr int kHostByName = 0;

// A small host entry and its packed size.
struct SampleHost {
  char name[16] = "example.test";
  char* aliases[1] = {nullptr};
  char addr[4] = {10, 0, 0, 1};
  char* addrs[2] = {addr, nullptr};
  hostent ent{};
  SampleHost() {
    ent.h_name = name;
    ent.h_aliases = aliases;
    ent.h_addrtype = 2;  // AF_INET
    ent.h_length = 4;
    ent.h_addr_list = addrs;
  }
  uint32_t size() const { return static_cast<uint32_t>(PackHostent(ent, nullptr, 0).size); }
};

// Builds a log the way the scenario does: one event per returned call, the resolver's
// begin/end around each delivery, buffers filled with the canary.
class Log {
 public:
  explicit Log(int app_threads = 3) { run_.app_threads = app_threads; }
  Run& run() { return run_; }
  int resolver() const { return run_.app_threads; }

  int Buffer(int len) {
    GuardedBuffer b;
    b.len = len;
    b.bytes.assign(GuardedBuffer::kGuard * 2 + len, GuardedBuffer::kCanary);
    run_.buffers.push_back(std::move(b));
    return static_cast<int>(run_.buffers.size()) - 1;
  }
  std::size_t Add(Event e) {
    e.step = run_.events.size() * 3;
    e.time_ms = static_cast<int64_t>(run_.events.size());
    run_.events.push_back(e);
    return run_.events.size() - 1;
  }
  std::size_t Call(int t, EventType type, int64_t result = 0, int error = 0) {
    Event e;
    e.thread = t;
    e.type = type;
    e.result = result;
    e.error = error;
    return Add(e);
  }
  std::size_t Startup(int t, int version = MAKEWORD(2, 2), int64_t result = 0) {
    Event e;
    e.thread = t;
    e.type = EventType::kStartup;
    e.arg = version;
    e.result = result;
    return Add(e);
  }
  std::size_t Cleanup(int t, int64_t result = 0, int error = 0) {
    return Call(t, EventType::kCleanup, result, error);
  }
  std::size_t Window(int t, int w, EventType type = EventType::kCreateWindow, int64_t result = TRUE) {
    Event e;
    e.thread = t;
    e.type = type;
    e.window = w;
    e.result = result;
    return Add(e);
  }
  std::size_t Start(int t, uint64_t handle, int window, int buffer, int buflen, int error = 0,
                    int kind = kHostByName, int arg = 0) {
    Event e;
    e.thread = t;
    e.type = EventType::kStart;
    e.kind = kind;
    e.window = window;
    e.buffer = buffer;
    e.buflen = buflen;
    e.handle = handle;
    e.error = handle == 0 ? error : 0;
    e.arg = arg;
    return Add(e);
  }
  std::size_t Cancel(int t, uint64_t handle, int error) {
    Event e;
    e.thread = t;
    e.type = EventType::kCancel;
    e.handle = handle;
    e.result = error == 0 ? 0 : SOCKET_ERROR;
    e.error = error;
    return Add(e);
  }
  std::size_t Begin(uint64_t handle, int error, uint32_t packed = 0) {
    Event e;
    e.thread = resolver();
    e.type = EventType::kResolverBegin;
    e.handle = handle;
    e.answer = AnswerRecord{error, packed};
    return Add(e);
  }
  std::size_t End(uint64_t handle) {
    Event e;
    e.thread = resolver();
    e.type = EventType::kResolverEnd;
    e.handle = handle;
    return Add(e);
  }
  std::size_t Message(int t, uint64_t handle, int error, uint32_t len, bool remove = true,
                      bool get = true) {
    Event e;
    e.thread = t;
    e.type = get && remove ? EventType::kGet : EventType::kPeek;
    e.arg = remove ? PM_REMOVE : PM_NOREMOVE;
    e.result = 1;
    e.msg_message = kCompletionMsg;
    e.msg_wparam = handle;
    e.msg_lparam = static_cast<int64_t>(WSAMAKEASYNCREPLY(len, error));
    return Add(e);
  }
  std::size_t Network(int t, int down) {
    Event e;
    e.thread = t;
    e.type = EventType::kNetworkDown;
    e.arg = down;
    return Add(e);
  }
  std::size_t HookCall(int t, sim::HookOp op, int64_t result, int error, uint64_t handle = 0) {
    Event e;
    e.thread = t;
    e.type = EventType::kHookCall;
    e.arg = static_cast<int>(op);
    e.result = result;
    e.error = error;
    e.handle = handle;
    return Add(e);
  }
  // A call that changes nothing (PeekMessage finding no message): it bounds the thread's next
  // call, which then began after this point.
  std::size_t Nop(int t) { return Call(t, EventType::kPeek, 0); }
  void EndThreads() {
    for (int t = 0; t < run_.app_threads; ++t) Call(t, EventType::kThreadEnd);
  }

 private:
  Run run_;
};

// Actions on the buffers, run just before the checker sees event `index` (the resolver writing,
// a bug scribbling).
using Actions = std::map<std::size_t, std::function<void(Run&)>>;

struct Outcome {
  bool ok = true;
  sim::Violation violation;
  Coverage coverage;
};

Outcome Check(Log& log, const Actions& actions = {}, CheckerOptions options = {}) {
  Run& run = log.run();
  Checker checker(&run, options);
  Outcome out;
  for (std::size_t i = 0; i < run.events.size() && out.ok; ++i) {
    auto it = actions.find(i);
    if (it != actions.end()) it->second(run);
    out.ok = checker.OnEvent(i);
  }
  if (out.ok) out.ok = checker.AtEnd();
  if (!out.ok) out.violation = checker.violation();
  out.coverage = checker.coverage();
  return out;
}

void PackInto(Run& run, int buffer) {
  SampleHost host;
  GuardedBuffer& b = run.buffers[buffer];
  ASSERT_TRUE(PackHostent(host.ent, b.data(), b.len).fits);
}

void Scribble(Run& run, int buffer, int offset) {
  run.buffers[buffer].bytes[GuardedBuffer::kGuard + offset] = 0;
}

#define EXPECT_VIOLATION(outcome, name)                                              \
  do {                                                                               \
    EXPECT_FALSE((outcome).ok) << "expected " << (name);                             \
    EXPECT_EQ((outcome).violation.invariant, (name)) << (outcome).violation.detail;  \
  } while (0)
#define EXPECT_CLEAN(outcome) \
  EXPECT_TRUE((outcome).ok) << (outcome).violation.invariant << ": " << (outcome).violation.detail

// The common opening: a 2.2 session and one window.
void Open(Log& log) {
  log.Startup(0);
  log.Window(0, 0);
}

// One request delivered normally: start, resolver writes, message removed. Returns the buffer.
int Deliver(Log& log, Actions* actions, uint64_t h, int thread = 0, int pump = 1) {
  SampleHost host;
  int buf = log.Buffer(256);
  log.Start(thread, h, 0, buf, 256);
  log.Begin(h, 0, host.size());
  (*actions)[log.End(h)] = [buf](sim::Run& run) { PackInto(run, buf); };
  log.Message(pump, h, 0, host.size());
  return buf;
}

TEST(CheckerTest, CleanLogPasses) {
  Log log;
  Actions actions;
  SampleHost host;
  Open(log);
  Deliver(log, &actions, kH1);
  int b2 = log.Buffer(256);
  log.Start(0, kH2, 0, b2, 256);
  log.Cancel(0, kH2, 0);
  log.Begin(kH2, 0, host.size());
  log.End(kH2);
  log.Cancel(0, kH1, WSAEALREADY);
  log.Cancel(0, kH2, WSAEINVAL);
  log.Cancel(0, 0, WSAEINVAL);
  log.Start(0, kH3, 0, -1, 0);  // a size query
  log.Begin(kH3, 0, host.size());
  log.End(kH3);
  log.Message(1, kH3, WSAENOBUFS, host.size());
  log.Start(1, 0, 0, -1, 5, WSAEFAULT);
  log.Cleanup(0);
  log.Cancel(1, kH1, WSANOTINITIALISED);
  log.EndThreads();
  Outcome out = Check(log, actions);
  EXPECT_CLEAN(out);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kCancel, Condition::kOutstanding, 0), 1u);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kCancel, Condition::kDelivered, WSAEALREADY), 1u);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kCancel, Condition::kZeroHandle, WSAEINVAL), 1u);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kAsyncStart, Condition::kBadArguments, WSAEFAULT), 1u);
  EXPECT_GE(out.coverage.TransitionCount(ModelState::kOutstanding, ModelState::kCanceled), 1u);
  EXPECT_GE(out.coverage.TransitionCount(ModelState::kQueued, ModelState::kDelivered), 1u);
  EXPECT_EQ(out.coverage.MessageErrorCount(kHostByName, WSAENOBUFS), 1u);
  EXPECT_FALSE(out.coverage.List().empty());
  EXPECT_NE(out.coverage.ToText().find("call WSACancelAsyncRequest OUTSTANDING OK 1"), std::string::npos);
}

// --- api-result --------------------------------------------------------------------------

Log SeenQueuedThenCancel(int cancel_error, Actions* actions) {
  Log log;
  SampleHost host;
  Open(log);
  int buf = log.Buffer(256);
  log.Start(0, kH1, 0, buf, 256);
  log.Begin(kH1, 0, host.size());
  (*actions)[log.End(kH1)] = [buf](sim::Run& run) { PackInto(run, buf); };
  log.Message(1, kH1, 0, host.size(), /*remove=*/false, /*get=*/false);
  log.Nop(0);
  log.Cancel(0, kH1, cancel_error);
  log.Nop(1);  // T1's GetMessage below begins after the cancel returned
  log.Message(1, kH1, 0, host.size());
  log.EndThreads();
  return log;
}

TEST(CheckerTest, CancelOfSeenQueuedMustBeAlready) {
  Actions a1, a2;
  Log bad = SeenQueuedThenCancel(WSAEINVAL, &a1);
  Outcome out = Check(bad, a1);
  EXPECT_VIOLATION(out, kInvApiResult);
  EXPECT_NE(out.violation.detail.find("SEEN-QUEUED"), std::string::npos) << out.violation.detail;
  EXPECT_NE(out.violation.detail.find("SPEC allows WSAEALREADY"), std::string::npos);
  Log good = SeenQueuedThenCancel(WSAEALREADY, &a2);
  EXPECT_CLEAN(Check(good, a2));
}

TEST(CheckerTest, CancelBeforeTheResolverBeganMustWin) {
  for (int error : {0, WSAEALREADY}) {
    Log log;
    Open(log);
    int buf = log.Buffer(64);
    log.Start(0, kH1, 0, buf, 64);
    log.Cancel(0, kH1, error);
    log.Begin(kH1, WSAHOST_NOT_FOUND);
    log.End(kH1);
    if (error != 0) log.Message(0, kH1, WSAHOST_NOT_FOUND, 0);
    log.EndThreads();
    Outcome out = Check(log);
    if (error == 0) EXPECT_CLEAN(out);
    else EXPECT_VIOLATION(out, kInvApiResult);
  }
}

TEST(CheckerTest, ErrorOrderNotInitialisedBeforeInvalid) {
  for (int error : {WSAEINVAL, WSANOTINITIALISED}) {
    Log log(1);
    log.Cancel(0, 0, error);
    log.EndThreads();
    Outcome out = Check(log);
    if (error == WSANOTINITIALISED) EXPECT_CLEAN(out);
    else EXPECT_VIOLATION(out, kInvApiResult);
  }
}

TEST(CheckerTest, StartWhileNetworkDown) {
  for (bool fail : {true, false}) {
    Log log(1);
    Open(log);
    log.Network(0, 1);
    int buf = log.Buffer(64);
    if (fail) log.Start(0, 0, 0, buf, 64, WSAENETDOWN);
    else log.Start(0, kH1, 0, buf, 64);
    log.EndThreads();
    Outcome out = Check(log);
    if (fail) EXPECT_CLEAN(out);
    else EXPECT_VIOLATION(out, kInvApiResult);
  }
}

TEST(CheckerTest, StartArgumentErrors) {
  Log log(1);
  Open(log);
  log.Start(0, 0, 0, -1, 10, WSAEFAULT);                          // NULL buffer, nonzero length
  log.Start(0, 0, 0, log.Buffer(8), -1, WSAEFAULT);               // negative length
  log.Start(0, 0, 0, log.Buffer(8), 8, WSAEFAULT, 0, sim::kStartArgNullName);
  log.Start(0, 0, 0, log.Buffer(8), 8, WSAEAFNOSUPPORT, 1, sim::kStartArgBadFamily);
  log.Start(0, 0, 0, log.Buffer(8), 8, WSAEWOULDBLOCK);           // no slot
  log.EndThreads();
  EXPECT_CLEAN(Check(log));
  Log bad(1);
  Open(bad);
  bad.Start(0, 0, 0, -1, 10, WSAEWOULDBLOCK);  // WSAEFAULT is due
  bad.EndThreads();
  EXPECT_VIOLATION(Check(bad), kInvApiResult);
}

TEST(CheckerTest, HookCallsFailWithInProgress) {
  for (int error : {WSAEINPROGRESS, WSAEINVAL}) {
    Log log(1);
    Open(log);
    log.HookCall(0, sim::HookOp::kAsyncCancel, SOCKET_ERROR, error, kH1);
    log.HookCall(0, sim::HookOp::kStartup, WSAEINPROGRESS, 0);
    log.Call(0, EventType::kBlockingCall, 1);
    log.EndThreads();
    Outcome out = Check(log);
    if (error == WSAEINPROGRESS) EXPECT_CLEAN(out);
    else EXPECT_VIOLATION(out, kInvApiResult);
  }
}

TEST(CheckerTest, BlockingCallReturnsIntrAfterHookCancel) {
  for (bool canceled : {true, false}) {
    Log log(1);
    log.Startup(0, MAKEWORD(1, 1));
    if (canceled) log.Call(0, EventType::kHookCancel, 0);
    log.Call(0, EventType::kBlockingCall, 0, WSAEINTR);
    log.EndThreads();
    Outcome out = Check(log);
    if (canceled) EXPECT_CLEAN(out);
    else EXPECT_VIOLATION(out, kInvApiResult);
  }
}

// --- handles -------------------------------------------------------------------------------

TEST(CheckerTest, StartReturningNullWithoutErrorIsHandleZero) {
  Log bad(1), good(1);
  Open(bad);
  bad.Start(0, 0, 0, bad.Buffer(8), 8, 0);
  Open(good);
  good.Start(0, 0, 0, good.Buffer(8), 8, WSAEWOULDBLOCK);
  EXPECT_VIOLATION(Check(bad), kInvHandleZero);
  EXPECT_CLEAN(Check(good));
}

TEST(CheckerTest, CancelOfZeroSucceedingIsHandleZero) {
  Log bad(1);
  Open(bad);
  bad.Cancel(0, 0, 0);
  EXPECT_VIOLATION(Check(bad), kInvHandleZero);
}

TEST(CheckerTest, SameHandleTwiceIsReused) {
  for (bool reuse : {true, false}) {
    Log log;
    Actions actions;
    Open(log);
    Deliver(log, &actions, kH1);
    Deliver(log, &actions, reuse ? kH1 : kH2);
    log.EndThreads();
    Outcome out = Check(log, actions);
    if (reuse) EXPECT_VIOLATION(out, kInvHandleReused);
    else EXPECT_CLEAN(out);
  }
}

TEST(CheckerTest, HandleKnownBeforeTheStartBeganIsReused) {
  // The resolver met the handle at #3, before T0's start began (#5): not the start's handle.
  Log log;
  SampleHost host;
  Open(log);                          // #0, #1
  log.Nop(1);                         // #2
  log.Begin(kH1, WSAHOST_NOT_FOUND);  // #3
  log.End(kH1);                       // #4
  log.Nop(0);                         // #5
  log.Start(0, kH1, 0, -1, 0);       // #6
  EXPECT_VIOLATION(Check(log), kInvHandleReused);
}

TEST(CheckerTest, StartStillUnderWayWhenItsRequestWasAnswered) {
  // The start published its slot, the resolver answered and a pump removed the message, all
  // before the start returned: legal, and judged once the start is logged.
  Log log;
  Open(log);                          // T0: #0, #1
  log.Begin(kH1, WSAHOST_NOT_FOUND);  // the start of T0 is under way
  log.End(kH1);
  log.Message(1, kH1, WSAHOST_NOT_FOUND, 0);
  log.Start(0, kH1, 0, -1, 0);
  log.EndThreads();
  EXPECT_CLEAN(Check(log));
}

TEST(CheckerTest, CancelOfDeliveredHandleSucceedingIsStale) {
  for (int error : {0, WSAEALREADY, WSAEINVAL}) {
    Log log;
    Actions actions;
    Open(log);
    Deliver(log, &actions, kH1);
    log.Nop(0);
    log.Cancel(0, kH1, error);
    log.EndThreads();
    Outcome out = Check(log, actions);
    if (error == 0) EXPECT_VIOLATION(out, kInvStaleHandle);
    else EXPECT_CLEAN(out);
  }
}

TEST(CheckerTest, CancelOfNeverIssuedHandle) {
  for (int error : {0, WSAEINVAL, WSAEALREADY}) {
    Log log(1);
    Open(log);
    log.Cancel(0, 0xdead0001, error);
    log.EndThreads();
    Outcome out = Check(log);
    if (error == WSAEINVAL) EXPECT_CLEAN(out);
    else EXPECT_VIOLATION(out, error == 0 ? kInvStaleHandle : kInvApiResult);
  }
}

TEST(CheckerTest, CancelMayHitTheRequestOfABlockingCallUnderWay) {
  // T0's wsaf_gethostbyname started a request no event names; T1 guessed its handle.
  for (bool blocking : {true, false}) {
    Log log;
    log.Startup(0, MAKEWORD(1, 1));
    log.Nop(1);
    if (blocking) log.Call(0, EventType::kHookCancel, 0);  // T0 is inside its blocking call
    else log.Nop(0);
    log.Cancel(1, 0xc00001, 0);
    if (blocking) log.Call(0, EventType::kBlockingCall, 0, WSAEINTR);
    log.EndThreads();
    Outcome out = Check(log);
    if (blocking) EXPECT_CLEAN(out);
    else EXPECT_VIOLATION(out, kInvStaleHandle);
  }
}

TEST(CheckerTest, UnknownHandleCancelThatLosesANewerRequestIsStale) {
  // T1's cancel of a never-returned handle is accepted while T0 blocks (it might have been the
  // blocking call's own request), but T0's request, started meanwhile, then never arrives.
  Log log;
  log.Startup(0, MAKEWORD(1, 1));
  log.Window(0, 0);
  log.Nop(1);
  log.Start(2, kH2, 0, -1, 0);          // #3: T2's start, the request that will be lost
  log.Call(0, EventType::kHookCancel, 0);
  std::size_t stray = log.Cancel(1, 0x400000, 0);
  log.Call(0, EventType::kBlockingCall, 0, WSAEINTR);
  log.EndThreads();
  Outcome out = Check(log);
  EXPECT_VIOLATION(out, kInvStaleHandle);
  EXPECT_EQ(out.violation.event_index, stray);
  EXPECT_EQ(out.violation.handle, kH2);
}

TEST(CheckerTest, HandleFromBeforeTheLastFullCleanupIsInvalid) {
  for (int error : {WSAEINVAL, WSAEALREADY}) {
    Log log;
    SampleHost host;
    Open(log);
    int buf = log.Buffer(256);
    log.Start(0, kH1, 0, buf, 256);
    log.Begin(kH1, WSAHOST_NOT_FOUND);
    log.End(kH1);
    log.Message(0, kH1, WSAHOST_NOT_FOUND, 0, /*remove=*/false, /*get=*/false);
    log.Cleanup(0);
    log.Startup(0);
    log.Cancel(0, kH1, error);  // queued, but of an ended session
    log.Message(0, kH1, WSAHOST_NOT_FOUND, 0);
    log.EndThreads();
    Outcome out = Check(log);
    if (error == WSAEINVAL) EXPECT_CLEAN(out);
    else EXPECT_VIOLATION(out, kInvApiResult);
  }
}

// --- deliveries ------------------------------------------------------------------------------

TEST(CheckerTest, MessageRemovedTwiceIsDoubleDelivery) {
  for (bool twice : {true, false}) {
    Log log;
    Actions actions;
    SampleHost host;
    Open(log);
    Deliver(log, &actions, kH1);
    if (twice) log.Message(0, kH1, 0, host.size());
    log.EndThreads();
    Outcome out = Check(log, actions);
    if (twice) EXPECT_VIOLATION(out, kInvDoubleDelivery);
    else EXPECT_CLEAN(out);
  }
}

TEST(CheckerTest, MessageAfterSuccessfulCancel) {
  for (int error : {0, WSAEALREADY}) {
    Log log;
    Open(log);
    log.Start(0, kH1, 0, -1, 0);
    log.Begin(kH1, WSAHOST_NOT_FOUND);
    log.Cancel(0, kH1, error);  // the resolver is delivering: either answer is possible
    log.End(kH1);
    log.Message(1, kH1, WSAHOST_NOT_FOUND, 0);
    log.EndThreads();
    Outcome out = Check(log);
    if (error == 0) EXPECT_VIOLATION(out, kInvDeliveryAfterCancel);
    else EXPECT_CLEAN(out);
  }
}

TEST(CheckerTest, AlreadyCanceledRequestMustStillDeliver) {
  for (bool delivered : {true, false}) {
    Log log;
    Open(log);
    log.Start(0, kH1, 0, -1, 0);
    log.Begin(kH1, WSANO_DATA);
    log.End(kH1);
    log.Cancel(0, kH1, WSAEALREADY);
    if (delivered) log.Message(1, kH1, WSANO_DATA, 0);
    log.EndThreads();
    Outcome out = Check(log);
    if (delivered) EXPECT_CLEAN(out);
    else EXPECT_VIOLATION(out, kInvLostDelivery);
  }
}

TEST(CheckerTest, LostDeliveryExceptWhenCanceledSwallowedOrOrphaned) {
  Log lost;
  Open(lost);
  lost.Start(0, kH1, 0, -1, 0);
  lost.Begin(kH1, WSATRY_AGAIN);
  lost.End(kH1);
  lost.EndThreads();
  Outcome out = Check(lost);
  EXPECT_VIOLATION(out, kInvLostDelivery);
  EXPECT_NE(out.violation.detail.find("QUEUED"), std::string::npos) << out.violation.detail;

  Log orphaned;
  Open(orphaned);
  orphaned.Start(0, kH1, 0, -1, 0);
  orphaned.Window(0, 0, EventType::kDestroyWindow);
  orphaned.Begin(kH1, WSATRY_AGAIN);
  orphaned.End(kH1);
  orphaned.EndThreads();
  EXPECT_CLEAN(Check(orphaned));

  Log swallowed;
  Open(swallowed);
  swallowed.Start(0, kH1, 0, -1, 0);
  swallowed.Cleanup(0);
  swallowed.Begin(kH1, WSATRY_AGAIN);
  swallowed.End(kH1);
  swallowed.EndThreads();
  EXPECT_CLEAN(Check(swallowed));
}

TEST(CheckerTest, QueuedMessageMustSurviveTheFinalCleanup) {
  // Seen queued before the cleanup: it must still be delivered. Only resolved (it may have
  // been waiting for room when the cleanup dropped it): no requirement.
  for (bool seen : {true, false}) {
    Log log;
    Open(log);
    log.Start(0, kH1, 0, -1, 0);
    log.Begin(kH1, WSANO_DATA);
    log.End(kH1);
    if (seen) log.Message(1, kH1, WSANO_DATA, 0, /*remove=*/false, /*get=*/false);
    log.Nop(0);
    log.Cleanup(0);
    log.EndThreads();
    Outcome out = Check(log);
    if (seen) EXPECT_VIOLATION(out, kInvLostDelivery);
    else EXPECT_CLEAN(out);
  }
}

TEST(CheckerTest, DeliveryAfterTheFinalCleanup) {
  for (bool begun_after : {true, false}) {
    Log log;
    Open(log);
    log.Start(0, kH1, 0, -1, 0);
    if (!begun_after) log.Begin(kH1, WSATRY_AGAIN);
    log.Cleanup(0);
    if (begun_after) log.Begin(kH1, WSATRY_AGAIN);
    log.End(kH1);
    log.Message(1, kH1, WSATRY_AGAIN, 0);
    log.EndThreads();
    Outcome out = Check(log);
    if (begun_after) EXPECT_VIOLATION(out, kInvDeliveryAfterCleanup);
    else EXPECT_CLEAN(out);
  }
}

TEST(CheckerTest, DeliveryAfterTheWindowWasDestroyed) {
  for (bool destroyed_first : {true, false}) {
    Log log;
    Open(log);
    log.Start(0, kH1, 0, -1, 0);
    log.Begin(kH1, WSATRY_AGAIN);
    log.End(kH1);
    if (destroyed_first) log.Window(0, 0, EventType::kDestroyWindow);
    log.Message(0, kH1, WSATRY_AGAIN, 0);
    if (!destroyed_first) log.Window(0, 0, EventType::kDestroyWindow);
    log.EndThreads();
    Outcome out = Check(log);
    if (destroyed_first) EXPECT_VIOLATION(out, kInvDeliveryAfterDestroy);
    else EXPECT_CLEAN(out);
  }
}

TEST(CheckerTest, MessageForAHandleNobodyIssued) {
  Log log;
  Open(log);
  log.Message(1, 0xbad0001, WSATRY_AGAIN, 0);
  log.EndThreads();
  EXPECT_VIOLATION(Check(log), kInvMessageUnknown);
}

// --- message content ---------------------------------------------------------------------------

Outcome ContentCase(int answer_error, int msg_error, uint32_t msg_len, bool network_down) {
  Log log;
  SampleHost host;
  Actions actions;
  Open(log);
  int buf = log.Buffer(256);
  log.Start(0, kH1, 0, buf, 256);
  if (network_down) log.Network(1, 1);
  log.Begin(kH1, answer_error, answer_error == 0 ? host.size() : 0);
  std::size_t end = log.End(kH1);
  if (answer_error == 0 && msg_error == 0) actions[end] = [buf](sim::Run& run) { PackInto(run, buf); };
  if (network_down) log.Network(1, 0);
  log.Message(1, kH1, msg_error, msg_len);
  log.EndThreads();
  return Check(log, actions);
}

TEST(CheckerTest, MessageErrorMustMatchTheAnswer) {
  SampleHost host;
  EXPECT_CLEAN(ContentCase(WSAHOST_NOT_FOUND, WSAHOST_NOT_FOUND, 0, false));
  EXPECT_VIOLATION(ContentCase(WSAHOST_NOT_FOUND, WSATRY_AGAIN, 0, false), kInvMessageContent);
  EXPECT_VIOLATION(ContentCase(WSAHOST_NOT_FOUND, WSAHOST_NOT_FOUND, 4, false), kInvMessageContent);
  EXPECT_CLEAN(ContentCase(0, 0, host.size(), false));
  EXPECT_VIOLATION(ContentCase(0, 0, host.size() + 8, false), kInvMessageContent);
}

TEST(CheckerTest, NetworkDownOnlyWhileTheNetworkWasDown) {
  EXPECT_CLEAN(ContentCase(0, WSAENETDOWN, 0, true));
  EXPECT_VIOLATION(ContentCase(0, WSAENETDOWN, 0, false), kInvMessageContent);
}

TEST(CheckerTest, SuccessMustLeaveAValidResult) {
  Log log;
  SampleHost host;
  Actions actions;
  Open(log);
  int buf = log.Buffer(256);
  log.Start(0, kH1, 0, buf, 256);
  log.Begin(kH1, 0, host.size());
  actions[log.End(kH1)] = [buf](sim::Run& run) { Scribble(run, buf, 0); };  // not a hostent
  log.Message(1, kH1, 0, host.size());
  log.EndThreads();
  EXPECT_VIOLATION(Check(log, actions), kInvMessageContent);
}

TEST(CheckerTest, NoBufsMustLeaveTheBufferUntouched) {
  for (bool touched : {true, false}) {
    Log log;
    SampleHost host;
    Actions actions;
    Open(log);
    int buf = log.Buffer(8);
    log.Start(0, kH1, 0, buf, 8);
    log.Begin(kH1, 0, host.size());
    std::size_t end = log.End(kH1);
    if (touched) actions[end] = [buf](sim::Run& run) { Scribble(run, buf, 3); };
    log.Message(1, kH1, WSAENOBUFS, host.size());
    log.EndThreads();
    Outcome out = Check(log, actions);
    if (touched) EXPECT_VIOLATION(out, kInvMessageContent);
    else EXPECT_CLEAN(out);
  }
}

// --- buffers -------------------------------------------------------------------------------------

TEST(CheckerTest, CanceledBufferWrittenByTheResolver) {
  for (bool write : {true, false}) {
    Log log;
    SampleHost host;
    Actions actions;
    Open(log);
    int buf = log.Buffer(256);
    log.Start(0, kH1, 0, buf, 256);
    log.Cancel(0, kH1, 0);
    log.Begin(kH1, 0, host.size());
    std::size_t end = log.End(kH1);
    if (write) actions[end] = [buf](sim::Run& run) { PackInto(run, buf); };
    log.EndThreads();
    Outcome out = Check(log, actions);
    if (write) {
      EXPECT_VIOLATION(out, kInvBufferWriteAfterCancel);
      EXPECT_EQ(out.violation.event_index, end);
    } else {
      EXPECT_CLEAN(out);
    }
  }
}

TEST(CheckerTest, SwallowedBufferWrittenAfterTheFinalCleanup) {
  for (bool write : {true, false}) {
    Log log;
    SampleHost host;
    Actions actions;
    Open(log);
    int buf = log.Buffer(256);
    log.Start(0, kH1, 0, buf, 256);
    log.Cleanup(0);
    log.Begin(kH1, 0, host.size());
    std::size_t end = log.End(kH1);
    if (write) actions[end] = [buf](sim::Run& run) { Scribble(run, buf, 10); };
    log.EndThreads();
    Outcome out = Check(log, actions);
    if (write) EXPECT_VIOLATION(out, kInvBufferWriteAfterCancel);
    else EXPECT_CLEAN(out);
  }
}

TEST(CheckerTest, BufferChangedAfterTheFinalCleanupReturned) {
  // The resolver began before the cleanup; a write after the cleanup returned breaks SPEC.
  for (bool strict : {true, false}) {
    Log log;
    SampleHost host;
    Actions actions;
    Open(log);
    int buf = log.Buffer(256);
    log.Start(0, kH1, 0, buf, 256);
    log.Begin(kH1, 0, host.size());
    log.Cleanup(0);
    actions[log.End(kH1)] = [buf](sim::Run& run) { PackInto(run, buf); };
    log.EndThreads();
    CheckerOptions options;
    options.strict_cleanup_writes = strict;
    Outcome out = Check(log, actions, options);
    if (strict) EXPECT_VIOLATION(out, kInvBufferWriteAfterCleanup);
    else EXPECT_CLEAN(out);
  }
}

TEST(CheckerTest, GuardByteChangedIsOverrun) {
  for (bool overrun : {true, false}) {
    Log log;
    SampleHost host;
    Actions actions;
    Open(log);
    int buf = log.Buffer(host.size());
    log.Start(0, kH1, 0, buf, host.size());
    log.Begin(kH1, 0, host.size());
    actions[log.End(kH1)] = [buf, overrun](sim::Run& run) {
      PackInto(run, buf);
      if (overrun) run.buffers[buf].bytes[GuardedBuffer::kGuard + run.buffers[buf].len + 2] = 1;
    };
    log.Message(1, kH1, 0, host.size());
    log.EndThreads();
    Outcome out = Check(log, actions);
    if (overrun) EXPECT_VIOLATION(out, kInvBufferOverrun);
    else EXPECT_CLEAN(out);
  }
}

// --- overlapping calls -------------------------------------------------------------------------

TEST(CheckerTest, OverlappingCancelMayWinOrLose) {
  // T1's cancel began (#3) before the resolver committed (#4..#5): 0 and WSAEALREADY both fit.
  for (int error : {0, WSAEALREADY}) {
    Log log;
    Open(log);                          // #0 #1
    log.Start(0, kH1, 0, -1, 0);        // #2
    log.Nop(1);                         // #3 (T1's previous event)
    log.Begin(kH1, WSANO_DATA);         // #4
    log.End(kH1);                       // #5
    log.Cancel(1, kH1, error);          // #6: under way since #4
    if (error != 0) log.Message(0, kH1, WSANO_DATA, 0);
    log.EndThreads();
    EXPECT_CLEAN(Check(log));
  }
}

TEST(CheckerTest, CallStillUnderWayOnAnotherThreadIsConsidered) {
  // T1's WSACleanup (the final one) is logged after T0's start returned NOTINIT, but began
  // before it: the start may have seen the session end.
  Log log;
  Open(log);                                        // #0 #1 (T0)
  log.Nop(1);                                       // #2 T1
  log.Start(0, 0, 0, -1, 0, WSANOTINITIALISED);     // #3 T0
  log.Cleanup(1);                                   // #4 T1: began at #3
  log.EndThreads();
  EXPECT_CLEAN(Check(log));
  // Had the cleanup begun after the start returned, NOTINIT would be wrong.
  Log late;
  Open(late);
  late.Start(0, 0, 0, -1, 0, WSANOTINITIALISED);   // #2 T0
  late.Nop(1);                                      // #3 T1
  late.Cleanup(1);                                  // #4 T1: began at #4
  late.EndThreads();
  Outcome out = Check(late);
  EXPECT_VIOLATION(out, kInvApiResult);
  EXPECT_EQ(out.violation.event_index, 2u);
}

TEST(CheckerTest, ReportsNameTheStateAndWhatWasAllowed) {
  Actions actions;
  Log log = SeenQueuedThenCancel(WSAEINVAL, &actions);
  Outcome out = Check(log, actions);
  ASSERT_FALSE(out.ok);
  const std::string& d = out.violation.detail;
  EXPECT_NE(d.find("T0 WSACancelAsyncRequest(0x400001)"), std::string::npos) << d;
  EXPECT_NE(d.find("SOCKET_ERROR, WSAEINVAL"), std::string::npos) << d;
  EXPECT_NE(d.find("GetHostByName by T0"), std::string::npos) << d;
  EXPECT_EQ(out.violation.handle, kH1);
}

TEST(CheckerTest, WinsockErrorNames) {
  EXPECT_STREQ(WinsockErrorName(WSAEINVAL), "WSAEINVAL");
  EXPECT_STREQ(WinsockErrorName(WSANOTINITIALISED), "WSANOTINITIALISED");
  EXPECT_STREQ(WinsockErrorName(WSAHOST_NOT_FOUND), "WSAHOST_NOT_FOUND");
  EXPECT_STREQ(WinsockErrorName(0), "NO_ERROR");
  EXPECT_STREQ(WinsockErrorName(4242), "UNKNOWN");
  EXPECT_EQ(WinsockErrorString(4242), "error 4242");
  EXPECT_EQ(InvariantNames().size(), 14u);
}

TEST(CheckerTest, CoverageMerges) {
  Coverage a;
  a.CountCall(ApiCall::kCancel, Condition::kQueued, WSAEALREADY);
  a.CountMessageError(kHostByName, WSAENOBUFS);
  Coverage b = a;
  b.Merge(a);
  EXPECT_EQ(b.CallCount(ApiCall::kCancel, Condition::kQueued, WSAEALREADY), 2u);
  EXPECT_EQ(b.DistinctCalls(), 1);
  EXPECT_EQ(b.DistinctMessageErrors(), 1);
  EXPECT_EQ(b.calls_checked, 2u);
}


// --- Calls judged for issue 14's coverage: each rule fails when broken, counts when kept ----

Event BlockingApi(int t, sim::HookOp op, int64_t result, int error) {
  Event e;
  e.thread = t;
  e.type = EventType::kBlockingApi;
  e.arg = static_cast<int>(op);
  e.result = result;
  e.error = error;
  return e;
}

// A PeekMessage (or GetMessage) by thread t of window `target` with filter [filter, filter]
// that returned `result` and, for a message, `message` from window `from`.
Event Pump(int t, EventType type, int target, UINT filter, int64_t result, UINT message = 0, int from = -1) {
  Event e;
  e.thread = t;
  e.type = type;
  e.arg = PM_REMOVE;
  e.target = target;
  e.filter_min = e.filter_max = filter;
  e.result = result;
  e.window = from;
  e.msg_message = message;
  return e;
}

TEST(CheckerTest, StartupWithNullDataMustFault) {
  Log bad;
  bad.Startup(0, MAKEWORD(2, 2) | sim::kStartupArgNullData, 0);
  bad.EndThreads();
  EXPECT_VIOLATION(Check(bad), kInvApiResult);

  Log good;
  good.Startup(0, MAKEWORD(2, 2) | sim::kStartupArgNullData, WSAEFAULT);
  good.Startup(0, MAKEWORD(1, 0) | sim::kStartupArgNullData, WSAVERNOTSUPPORTED);  // either
  good.Start(0, 0, -1, -1, 0, WSANOTINITIALISED);  // the failed startups opened nothing
  good.EndThreads();
  Outcome out = Check(good);
  EXPECT_CLEAN(out);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kStartup, Condition::kBadArguments, WSAEFAULT), 1u);
}

TEST(CheckerTest, BlockingApiOutsideAHook) {
  Log two;  // a 2.2 session: every 1.1-only call answers WSAEOPNOTSUPP
  Open(two);
  two.Add(BlockingApi(0, sim::HookOp::kSetBlockingHook, 0, WSAEOPNOTSUPP));
  two.Add(BlockingApi(0, sim::HookOp::kIsBlocking, FALSE, WSAEOPNOTSUPP));
  two.EndThreads();
  Outcome out = Check(two);
  EXPECT_CLEAN(out);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kSetBlockingHook, Condition::kSession2x, WSAEOPNOTSUPP), 1u);

  Log wrong;
  Open(wrong);
  wrong.Add(BlockingApi(0, sim::HookOp::kUnhookBlockingHook, 0, 0));  // worked in a 2.2 session
  wrong.EndThreads();
  EXPECT_VIOLATION(Check(wrong), kInvApiResult);

  Log one;  // a 1.1 session outside any blocking call
  one.Startup(0, MAKEWORD(1, 1));
  one.Add(BlockingApi(0, sim::HookOp::kIsBlocking, FALSE, 0));
  one.Add(BlockingApi(0, sim::HookOp::kCancelBlockingCall, SOCKET_ERROR, WSAEINVAL));
  one.EndThreads();
  out = Check(one);
  EXPECT_CLEAN(out);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kCancelBlockingCallIdle, Condition::kReady, WSAEINVAL), 1u);

  Log blocking;  // WSAIsBlocking TRUE outside a blocking call
  blocking.Startup(0, MAKEWORD(1, 1));
  blocking.Add(BlockingApi(0, sim::HookOp::kIsBlocking, TRUE, 0));
  blocking.EndThreads();
  EXPECT_VIOLATION(Check(blocking), kInvApiResult);
}

TEST(CheckerTest, PumpMustHonourWindowAndFilter) {
  Log outside_filter;
  Open(outside_filter);
  outside_filter.Add(Pump(1, EventType::kPeek, 0, kCompletionMsg, TRUE, kApplicationMsg, 0));
  outside_filter.EndThreads();
  EXPECT_VIOLATION(Check(outside_filter), kInvApiResult);

  Log other_window;
  Open(other_window);
  other_window.Window(0, 1);
  other_window.Add(Pump(1, EventType::kPeek, 0, 0, TRUE, kApplicationMsg, 1));
  other_window.EndThreads();
  EXPECT_VIOLATION(Check(other_window), kInvApiResult);

  Log destroyed;
  Open(destroyed);
  destroyed.Window(0, 0, EventType::kDestroyWindow, TRUE);
  destroyed.Add(Pump(0, EventType::kGet, 0, 0, 1, kApplicationMsg, 0));
  destroyed.EndThreads();
  EXPECT_VIOLATION(Check(destroyed), kInvApiResult);

  Log good;
  Open(good);
  good.Add(Pump(1, EventType::kPeek, 0, kApplicationMsg, TRUE, kApplicationMsg, 0));
  good.Add(Pump(1, EventType::kPeek, -1, 0, TRUE, kApplicationMsg, 0));
  good.Window(0, 0, EventType::kDestroyWindow, TRUE);
  good.Add(Pump(0, EventType::kGet, 0, 0, -1));
  good.EndThreads();
  Outcome out = Check(good);
  EXPECT_CLEAN(out);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kPeekMessage, Condition::kFiltered, 0), 1u);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kPeekMessage, Condition::kAnyWindow, 0), 1u);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kGetMessage, Condition::kWindowGone, kOutcomeFalse), 1u);
}

TEST(CheckerTest, LastErrorIsPerThread) {
  auto last_error = [](int t, int set, int64_t read) {
    Event e;
    e.thread = t;
    e.type = EventType::kLastError;
    e.arg = set;
    e.result = read;
    return e;
  };
  Log leaked;  // another thread's failure overwrote this thread's last error
  Open(leaked);
  leaked.Nop(0);
  leaked.Start(1, 0, 0, -1, 5, WSAEFAULT);
  leaked.Add(last_error(0, WSAEINVAL, WSAEFAULT));
  leaked.EndThreads();
  EXPECT_VIOLATION(Check(leaked), kInvApiResult);

  Log kept;
  Open(kept);
  kept.Nop(0);
  kept.Start(1, 0, 0, -1, 5, WSAEFAULT);
  kept.Add(last_error(0, WSAEINVAL, WSAEINVAL));
  kept.Add(last_error(0, 12345, 12345));
  kept.EndThreads();
  Outcome out = Check(kept);
  EXPECT_CLEAN(out);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kLastError, Condition::kOtherThreadFailed, 0), 1u);
  EXPECT_EQ(out.coverage.CallCount(ApiCall::kLastError, Condition::kReady, 0), 1u);
}

// --- The denominator -------------------------------------------------------------------------

const AllowedCell* FindCell(CellTable t, int a, int b, int c) {
  for (const AllowedCell& cell : AllowedCells()) {
    if (cell.table == t && cell.a == a && cell.b == b && cell.c == c) return &cell;
  }
  return nullptr;
}
const AllowedCell* FindCall(ApiCall call, Condition cond, int outcome) {
  return FindCell(CellTable::kCall, static_cast<int>(call), static_cast<int>(cond), OutcomeSlot(outcome));
}

TEST(CoverageTest, AllowedCellsAreWhatTheModelAllows) {
  const AllowedCell* fault = FindCall(ApiCall::kStartup, Condition::kBadArguments, WSAEFAULT);
  ASSERT_NE(fault, nullptr);
  EXPECT_STREQ(fault->section, "WSAStartup / WSACleanup");
  EXPECT_NE(FindCall(ApiCall::kCancel, Condition::kQueued, WSAEALREADY), nullptr);
  EXPECT_NE(FindCall(ApiCall::kCancel, Condition::kOutstanding, 0), nullptr);
  EXPECT_NE(FindCall(ApiCall::kHookStartup, Condition::kInHook, WSAEINPROGRESS), nullptr);
  EXPECT_NE(FindCall(ApiCall::kIsBlocking, Condition::kSession2x, WSAEOPNOTSUPP), nullptr);
  // What SPEC.md forbids, or cannot exist, is not in the denominator.
  EXPECT_EQ(FindCall(ApiCall::kCancel, Condition::kQueued, 0), nullptr);
  EXPECT_EQ(FindCall(ApiCall::kCancel, Condition::kOutstanding, WSAEINVAL), nullptr);  // only a tolerance
  EXPECT_EQ(FindCall(ApiCall::kHookStartup, Condition::kInHook, 0), nullptr);
  for (const AllowedCell& cell : AllowedCells()) {
    if (cell.table != CellTable::kCall || cell.a != static_cast<int>(ApiCall::kStartup)) continue;
    EXPECT_NE(cell.b, static_cast<int>(Condition::kZeroHandle)) << CellName(cell);
  }
  const int serv = 4;  // GetServByName: netbase, no DNS errors
  EXPECT_EQ(FindCell(CellTable::kMessageError, serv, OutcomeSlot(WSAHOST_NOT_FOUND), 0), nullptr);
  EXPECT_NE(FindCell(CellTable::kMessageError, serv, OutcomeSlot(WSANO_DATA), 0), nullptr);
  EXPECT_NE(FindCell(CellTable::kMessageError, kHostByName, OutcomeSlot(WSATRY_AGAIN), 0), nullptr);
  auto state = [](ModelState s) { return static_cast<int>(s); };
  EXPECT_NE(FindCell(CellTable::kTransition, state(ModelState::kOutstanding), state(ModelState::kCanceled), 0), nullptr);
  EXPECT_EQ(FindCell(CellTable::kTransition, state(ModelState::kCanceled), state(ModelState::kDelivered), 0), nullptr);
  EXPECT_EQ(FindCell(CellTable::kTransition, state(ModelState::kDelivered), state(ModelState::kQueued), 0), nullptr);
  std::set<std::string> names;
  for (const AllowedCell& cell : AllowedCells()) {
    EXPECT_TRUE(names.insert(CellName(cell)).second) << "twice: " << CellName(cell);
    EXPECT_NE(std::string(cell.section), "") << CellName(cell);
    if (cell.unreachable != nullptr) {
      EXPECT_GT(std::strlen(cell.unreachable), 20u) << CellName(cell);
    }
    if (cell.table == CellTable::kTransition) {
      EXPECT_NE(cell.a, cell.b);
    }
  }
}

// A start preempted after it published its slot (every atomic a point) lets the resolver begin
// the request before the start's event: unreachable with the named sites alone, reachable then.
TEST(CoverageTest, SitesOnlyCellsAreReachableWhenEveryAtomicIsAPoint) {
  auto state = [](ModelState s) { return static_cast<int>(s); };
  const AllowedCell* early =
      FindCell(CellTable::kTransition, state(ModelState::kUnissued), state(ModelState::kStale), 0);
  ASSERT_NE(early, nullptr);
  ASSERT_NE(early->unreachable, nullptr);
  EXPECT_TRUE(early->sites_only);
  Coverage sites;
  sites.transitions[early->a * kModelStates + early->b] = 1;
  CoverageReport r = Summarize(sites);
  EXPECT_EQ(r.unreachable_hit.size(), 1u) << "with the sites alone the hit says the reason is stale";
  Coverage atomics;
  atomics.atomic_points = true;
  CoverageReport none = Summarize(atomics);
  EXPECT_LT(none.unreachable.size(), Summarize(Coverage()).unreachable.size());
  EXPECT_NE(std::find(none.untested.begin(), none.untested.end(), early), none.untested.end())
      << "reachable with atomics: untested until hit";
  atomics.transitions[early->a * kModelStates + early->b] = 1;
  CoverageReport hit = Summarize(atomics);
  EXPECT_TRUE(hit.unreachable_hit.empty());
  EXPECT_EQ(std::find(hit.untested.begin(), hit.untested.end(), early), hit.untested.end());
  Coverage merged;
  merged.Merge(atomics);
  EXPECT_TRUE(merged.atomic_points);
}

TEST(CoverageTest, MergeKeepsEveryCellPastTheSparseList) {
  // More distinct cells than CallCells::kSparseMax: the cells move to the dense table.
  Coverage many, few, total;
  int n = 0;
  for (int call = 0; call < kApiCalls && n <= CallCells::kSparseMax + 10; ++call) {
    for (int cond = 0; cond < kConditions && n <= CallCells::kSparseMax + 10; ++cond, ++n) {
      many.CountCall(static_cast<ApiCall>(call), static_cast<Condition>(cond), 0);
    }
  }
  few.CountCall(ApiCall::kCancel, Condition::kQueued, WSAEALREADY);
  EXPECT_TRUE(many.calls.dense());
  EXPECT_FALSE(few.calls.dense());
  total.Merge(few);
  EXPECT_FALSE(total.calls.dense());
  total.Merge(many);
  EXPECT_TRUE(total.calls.dense());
  total.Merge(few);
  EXPECT_EQ(total.DistinctCalls(), many.DistinctCalls() + 1);
  EXPECT_EQ(total.CallCount(ApiCall::kCancel, Condition::kQueued, WSAEALREADY), 2u);
  EXPECT_EQ(total.CallCount(ApiCall::kStartup, Condition::kNotInitialised, 0), 1u);
  Coverage again;
  again.Merge(total);
  EXPECT_EQ(again.DistinctCalls(), total.DistinctCalls());
}

TEST(CoverageTest, SummarizeCountsAgainstTheAllowedCells) {
  Coverage none;
  CoverageReport empty = Summarize(none);
  EXPECT_EQ(empty.overall.hit, 0);
  EXPECT_EQ(empty.overall.allowed, static_cast<int>(AllowedCells().size()));
  EXPECT_EQ(empty.untested.size() + empty.unreachable.size(), AllowedCells().size());
  EXPECT_FALSE(empty.complete());

  Coverage some;
  some.CountCall(ApiCall::kCancel, Condition::kQueued, WSAEALREADY);
  some.CountCall(ApiCall::kCancel, Condition::kQueued, 0);  // SPEC forbids it: outside
  some.CountMessageError(4, WSAHOST_NOT_FOUND);            // GetServByName: outside
  CoverageReport r = Summarize(some);
  EXPECT_EQ(r.overall.hit, 1);
  EXPECT_EQ(r.calls.hit, 1);
  EXPECT_EQ(r.untested.size(), empty.untested.size() - 1);
  ASSERT_EQ(r.outside.size(), 2u);
  EXPECT_EQ(r.outside[0].a, "WSACancelAsyncRequest");
  EXPECT_NE(CoverageSummaryLine(r).find("1 of " + std::to_string(r.overall.allowed) + " allowed cells hit"),
            std::string::npos);
  EXPECT_NE(UntestedRulesText(r, 3).find("(SPEC.md: "), std::string::npos);
  std::string json = CoverageReportJson(r);
  EXPECT_NE(json.find("\"untested\":[{\"table\":"), std::string::npos);
  EXPECT_NE(json.find("\"why\":\""), std::string::npos);
}

}  // namespace
}  // namespace wsaf::check
