#include "sim/scenario.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <string>

#include "sim/blocking_hook.h"
#include "sim/sim_resolver.h"

namespace wsaf::sim {

namespace {

constexpr UINT kMsg = check::kCompletionMsg;
constexpr int kDrainRounds = 4000;

class AppThread {
 public:
  AppThread(World* world, int id) : w_(*world), s_(world->scheduler()), id_(id) {}
  void RunScript();
  void Drain();

 private:
  void Start();
  void Cancel();
  void Peek();
  void PostUser();
  void Session();
  void Network();
  void WindowOp();
  void Blocking();
  void BlockingApi();
  void LastError();
  HANDLE CallStart(int kind, HWND hwnd, char* buf, int buflen, int* bad_args);
  int PickWindow(bool allow_null);  // -1: NULL hwnd
  HWND Hwnd(int index) { return index < 0 ? nullptr : w_.window(index); }
  // `target` is the window asked for (-1: NULL hwnd), `filter` the message filter (0: none).
  void LogMessage(EventType type, int64_t result, int arg, const MSG& m, int target, UINT filter);
  void LogBlockingApi(HookOp op, int64_t result, bool failed);
  bool PumpOnce();
  bool PumpAnyWindow();
  int WindowWithMessageDue();

  World& w_;
  Scheduler& s_;
  int id_;
  uint64_t last_handle_ = 0;
  uint64_t last_cancel_ = 0;
};

void AppThread::RunScript() {
  const ScenarioConfig& c = w_.config();
  const int weights[] = {
      c.w_start,
      c.w_cancel,
      c.w_peek,
      w_.FaultActive(SimFault::kQueueFull) ? c.w_post : 0,
      w_.FaultActive(SimFault::kCleanup) ? c.w_session : 0,
      w_.FaultActive(SimFault::kNetworkDown) ? c.w_network : 0,
      w_.FaultActive(SimFault::kWindowDestroy) ? c.w_window : 0,
      w_.FaultActive(SimFault::kBlocking) ? c.w_blocking : 0,
      // spec_ops only (the weights are 0 elsewhere, so older scenarios draw as before):
      c.spec_ops ? c.w_blocking_api : 0,
      c.spec_ops ? c.w_last_error : 0,
  };
  int total = 0;
  for (int x : weights) total += x;
  for (int i = 0; i < c.ops_per_thread && !w_.violated(); ++i) {
    int op = 0;
    if (c.cycle_ops) {
      op = i % 3;  // start, cancel, pump
      if (op == 2) {
        // Sleep a virtual millisecond so the resolver reclaims the slot even on a quiet tape
        // (whose scheduling choice is "keep running the current thread").
        static const char kCycleKey = 0;
        s_.WaitFor(&kCycleKey, 1);
      }
    } else {
      int pick = static_cast<int>(s_.Decide(static_cast<uint32_t>(total)));
      while (pick >= weights[op]) pick -= weights[op++];
    }
    switch (op) {
      case 0: Start(); break;
      case 1: Cancel(); break;
      case 2: Peek(); break;
      case 3: PostUser(); break;
      case 4: Session(); break;
      case 5: Network(); break;
      case 6: WindowOp(); break;
      case 7: Blocking(); break;
      case 8: BlockingApi(); break;
      default: LastError(); break;
    }
  }
  Event end;
  end.type = EventType::kThreadEnd;
  w_.Log(end);
}

int AppThread::PickWindow(bool allow_null) {
  uint32_t n = static_cast<uint32_t>(w_.window_count()) + (allow_null ? 1 : 0);
  int v = static_cast<int>(s_.Decide(n));
  return v < w_.window_count() ? v : -1;
}

HANDLE AppThread::CallStart(int kind, HWND hwnd, char* buf, int buflen, int* bad_args) {
  *bad_args = 0;
  static const char* const kHosts[] = {"host1.test", "multi.test", "10.1.2.3", "nosuch.test", "", nullptr};
  static const char* const kServices[] = {"http", "ssh", "nosuch", nullptr};
  static const char* const kProtos[] = {"tcp", nullptr, "udp", "nosuchproto"};
  static const int kPorts[] = {80, 22, 9};
  static const int kNumbers[] = {6, 17, 99};
  static const unsigned char kAddr4[4] = {10, 0, 0, 1};
  static const unsigned char kAddr6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  switch (kind) {
    case 0: {
      uint32_t v = s_.Decide(7);
      if (v == 6) {
        static const std::string kLong(4000, 'a');
        return WSAAsyncGetHostByName(hwnd, kMsg, kLong.c_str(), buf, buflen);
      }
      if (kHosts[v] == nullptr) *bad_args = kStartArgNullName;
      return WSAAsyncGetHostByName(hwnd, kMsg, kHosts[v], buf, buflen);
    }
    case 1: {
      uint32_t v = s_.Decide(5);
      static const int kBad[] = {0, 0, kStartArgNullName, kStartArgBadAddrLen, kStartArgBadFamily};
      *bad_args = kBad[v];
      switch (v) {
        case 0: return WSAAsyncGetHostByAddr(hwnd, kMsg, reinterpret_cast<const char*>(kAddr4), 4, AF_INET, buf, buflen);
        case 1: return WSAAsyncGetHostByAddr(hwnd, kMsg, reinterpret_cast<const char*>(kAddr6), 16, AF_INET6, buf, buflen);
        case 2: return WSAAsyncGetHostByAddr(hwnd, kMsg, nullptr, 4, AF_INET, buf, buflen);
        case 3: return WSAAsyncGetHostByAddr(hwnd, kMsg, reinterpret_cast<const char*>(kAddr4), 3, AF_INET, buf, buflen);
        default: return WSAAsyncGetHostByAddr(hwnd, kMsg, reinterpret_cast<const char*>(kAddr4), 4, 99, buf, buflen);
      }
    }
    case 2: {
      const char* name = kProtos[s_.Decide(4)];
      if (name == nullptr) *bad_args = kStartArgNullName;
      return WSAAsyncGetProtoByName(hwnd, kMsg, name, buf, buflen);
    }
    case 3: return WSAAsyncGetProtoByNumber(hwnd, kMsg, kNumbers[s_.Decide(3)], buf, buflen);
    case 4: {
      const char* name = kServices[s_.Decide(4)];
      if (name == nullptr) *bad_args = kStartArgNullName;
      return WSAAsyncGetServByName(hwnd, kMsg, name, kProtos[s_.Decide(3)], buf, buflen);
    }
    default: return WSAAsyncGetServByPort(hwnd, kMsg, htons(kPorts[s_.Decide(3)]), kProtos[s_.Decide(3)], buf, buflen);
  }
}

void AppThread::Start() {
  int kind = static_cast<int>(s_.Decide(6));
  int window = PickWindow(true);
  static const int kLens[] = {MAXGETHOSTSTRUCT, 48, 96, 0, 16, -1};
  uint32_t b = s_.Decide(6);
  int buflen = kLens[b];
  int buffer = -1;
  char* buf = nullptr;
  if (b != 3 && b != 4) {  // 3: NULL/0 size query, 4: NULL with a length (WSAEFAULT)
    Run& run = w_.run();
    GuardedBuffer gb;
    gb.len = buflen > 0 ? buflen : 0;
    gb.bytes.assign(gb.len + 2 * GuardedBuffer::kGuard, GuardedBuffer::kCanary);
    run.buffers.push_back(std::move(gb));
    buffer = static_cast<int>(run.buffers.size()) - 1;
    buf = run.buffers.back().data();
  }
  int bad_args = 0;
  HANDLE h = CallStart(kind, Hwnd(window), buf, buflen, &bad_args);
  Event e;
  e.type = EventType::kStart;
  e.arg = bad_args;
  e.kind = kind;
  e.window = window;
  e.buffer = buffer;
  e.buflen = buflen;
  e.handle = reinterpret_cast<uintptr_t>(h);
  e.result = h != nullptr;
  e.error = h == nullptr ? WSAGetLastError() : 0;
  if (h != nullptr) {
    last_handle_ = e.handle;
    w_.issued().push_back(e.handle);
  }
  w_.Log(e);
}

void AppThread::Cancel() {
  uint64_t h = 0;
  std::vector<uint64_t>& issued = w_.issued();
  switch (w_.config().cancel_last_only ? 0 : s_.Decide(6)) {
    case 0: h = last_handle_; break;
    case 1: h = issued.empty() ? 0 : issued[s_.Decide(static_cast<uint32_t>(issued.size()))]; break;
    case 2: h = 0; break;
    case 3: h = last_handle_ + (uint64_t{1} << TaskTable::kIndexBits); break;  // a later generation
    case 4: h = 1 + s_.Decide(65536); break;  // an arbitrary value
    default: h = last_cancel_; break;          // the same handle again
  }
  last_cancel_ = h;
  Event e;
  e.type = EventType::kCancel;
  e.handle = h;
  e.result = WSACancelAsyncRequest(reinterpret_cast<HANDLE>(h));
  e.error = e.result != 0 ? WSAGetLastError() : 0;
  w_.Log(e);
}

void AppThread::LogMessage(EventType type, int64_t result, int arg, const MSG& m, int target, UINT filter) {
  Event e;
  e.type = type;
  e.arg = arg;
  e.result = result;
  e.target = target;
  e.filter_min = e.filter_max = filter;
  if (result > 0) {
    e.window = w_.WindowIndex(m.hwnd);
    e.msg_message = m.message;
    e.msg_wparam = m.wParam;
    e.msg_lparam = m.lParam;
    e.handle = m.message == kMsg ? m.wParam : 0;
  }
  w_.Log(e);
}

void AppThread::Peek() {
  int window = PickWindow(true);
  int flags = s_.Decide(2) == 0 ? PM_REMOVE : PM_NOREMOVE;
  static const UINT kFilters[][2] = {{0, 0}, {kMsg, kMsg}, {kUserMsg, kUserMsg}};
  uint32_t f = s_.Decide(3);
  MSG m{};
  BOOL got = PeekMessage(&m, Hwnd(window), kFilters[f][0], kFilters[f][1], flags);
  LogMessage(EventType::kPeek, got, flags, m, window, kFilters[f][0]);
}

void AppThread::PostUser() {
  int window = PickWindow(false);
  Event e;
  e.type = EventType::kPostUser;
  e.window = window;
  e.result = PostMessage(Hwnd(window), kUserMsg, id_, 0);
  w_.Log(e);
}

void AppThread::Session() {
  // Decision 1 is a cleanup; the others are startups asking for 2.2, 1.1 and 1.0.
  // spec_ops adds 4 and 5: 2.2 and 1.0 with a NULL lpWSAData.
  static const WORD kVersions[] = {MAKEWORD(2, 2), 0, MAKEWORD(1, 1), MAKEWORD(1, 0), MAKEWORD(2, 2), MAKEWORD(1, 0)};
  Event e;
  uint32_t choice = s_.Decide(w_.config().spec_ops ? 6 : 4);
  if (choice == 1) {
    e.type = EventType::kCleanup;
    e.result = WSACleanup();
    e.error = e.result != 0 ? WSAGetLastError() : 0;
  } else {
    WSADATA d;
    bool null_data = choice >= 4;
    e.type = EventType::kStartup;
    e.arg = kVersions[choice] | (null_data ? kStartupArgNullData : 0);
    e.result = WSAStartup(kVersions[choice], null_data ? nullptr : &d);
  }
  w_.Log(e);
}

void AppThread::Network() {
  Event e;
  e.type = EventType::kNetworkDown;
  e.arg = static_cast<int>(s_.Decide(2));
  wsaf_set_network_down(e.arg);
  w_.Log(e);
}

void AppThread::WindowOp() {
  Event e;
  if (s_.Decide(2) == 0 && w_.window_count() > 0) {
    e.type = EventType::kDestroyWindow;
    e.window = PickWindow(false);
    e.result = DestroyWindow(Hwnd(e.window));
    if (w_.config().spec_ops && e.result == TRUE) {
      w_.Log(e);
      // GetMessage on the window just destroyed returns -1 at once (nothing to wait for).
      MSG m{};
      BOOL got = GetMessage(&m, Hwnd(e.window), 0, 0);
      LogMessage(EventType::kGet, got, 0, m, e.window, 0);
      return;
    }
  } else {
    e.type = EventType::kCreateWindow;
    e.window = w_.AddWindow(wsaf_create_window());
    e.result = 1;
  }
  w_.Log(e);
}

void AppThread::LogBlockingApi(HookOp op, int64_t result, bool failed) {
  Event e;
  e.type = EventType::kBlockingApi;
  e.arg = static_cast<int>(op);
  e.result = result;
  e.error = failed ? WSAGetLastError() : 0;
  w_.Log(e);
}

void AppThread::Blocking() {
  ArmBlockingHook(id_, static_cast<int>(s_.Decide(w_.config().spec_ops ? kSpecHookModes : kHookModes)));
  // Logged (no decision): in a 2.x session it fails with WSAEOPNOTSUPP and the lookup runs
  // without the hook.
  bool hooked = WSASetBlockingHook(&SimBlockingHook) != nullptr;
  LogBlockingApi(HookOp::kSetBlockingHook, hooked, !hooked);
  Event e;
  e.type = EventType::kBlockingCall;
  hostent* h = wsaf_gethostbyname("host1.test");
  e.result = h != nullptr;
  e.error = h == nullptr ? WSAGetLastError() : 0;
  w_.Log(e);
  if (h == nullptr && e.error == WSAEINPROGRESS) return;
  int unhooked = WSAUnhookBlockingHook();
  LogBlockingApi(HookOp::kUnhookBlockingHook, unhooked, unhooked != 0);
}

// A 1.1-only call outside any blocking call: works in a 1.1 session, WSAEOPNOTSUPP in a 2.x
// one; WSAIsBlocking answers FALSE and WSACancelBlockingCall WSAEINVAL (nothing to cancel).
void AppThread::BlockingApi() {
  switch (s_.Decide(5)) {
    case 0: {
      FARPROC previous = WSASetBlockingHook(&SimBlockingHook);
      LogBlockingApi(HookOp::kSetBlockingHook, previous != nullptr, previous == nullptr);
      break;
    }
    case 1: {
      int r = WSAUnhookBlockingHook();
      LogBlockingApi(HookOp::kUnhookBlockingHook, r, r != 0);
      break;
    }
    case 2: {
      WSASetLastError(0);  // FALSE alone does not tell "not blocking" from a failure
      BOOL r = WSAIsBlocking();
      LogBlockingApi(HookOp::kIsBlocking, r, r == FALSE);
      break;
    }
    case 3: {
      int r = WSACancelBlockingCall();
      LogBlockingApi(HookOp::kCancelBlockingCall, r, r != 0);
      break;
    }
    default: {
      // A blocking lookup of NULL fails at once (after the session checks) with WSAEFAULT.
      Event e;
      e.type = EventType::kBlockingCall;
      e.arg = kStartArgNullName;
      hostent* h = wsaf_gethostbyname(nullptr);
      e.result = h != nullptr;
      e.error = h == nullptr ? WSAGetLastError() : 0;
      w_.Log(e);
      break;
    }
  }
}

// The last error is per thread: a value set here survives the other threads' failing calls.
void AppThread::LastError() {
  static const int kValues[] = {WSAEINVAL, WSAEWOULDBLOCK, 12345};
  Event e;
  e.type = EventType::kLastError;
  e.arg = kValues[s_.Decide(3)];
  WSASetLastError(e.arg);
  static const char kLastErrorKey = 0;
  s_.WaitFor(&kLastErrorKey, 1);  // the other threads run meanwhile
  e.result = WSAGetLastError();
  w_.Log(e);
}

// A live window that a pending request held by the resolver will post to, or -1.
int AppThread::WindowWithMessageDue() {
  Engine& e = w_.engine();
  // A copy: Find() below is a scheduling point, and the resolver may change its list meanwhile.
  std::vector<uint64_t> held = w_.resolver().held();
  for (uint64_t h : held) {
    uint32_t index = TaskTable::IndexOf(h);
    if (e.table.StateOfSlot(index) != SlotState::kPending) continue;
    HWND hwnd = e.table.RequestOf(index).hwnd;
    int window = w_.WindowIndex(hwnd);
    if (window >= 0 && e.windows.Find(hwnd) != nullptr) return window;
  }
  return -1;
}

// Removes one message from any live window. True if one was there.
bool AppThread::PumpOnce() {
  for (int i = 0; i < w_.window_count(); ++i) {
    MSG m{};
    if (PeekMessage(&m, w_.window(i), 0, 0, PM_REMOVE)) {
      LogMessage(EventType::kPeek, 1, PM_REMOVE, m, i, 0);
      return true;
    }
  }
  return false;
}

// GetMessage(NULL) once PeekMessage(NULL, PM_NOREMOVE) saw a message: it returns that one at
// once (waiting in it would poll every millisecond through a 30 s timeout). True if it did.
bool AppThread::PumpAnyWindow() {
  MSG m{};
  BOOL seen = PeekMessage(&m, nullptr, 0, 0, PM_NOREMOVE);
  LogMessage(EventType::kPeek, seen, PM_NOREMOVE, m, -1, 0);
  if (!seen) return false;
  MSG g{};
  BOOL got = GetMessage(&g, nullptr, 0, 0);
  LogMessage(EventType::kGet, got, 0, g, -1, 0);
  return true;
}

void AppThread::Drain() {
  // A filtered GetMessage could wait forever behind a tiny queue full of application messages.
  const bool tiny_queues = w_.FaultActive(SimFault::kQueueFull);
  w_.EndFaults();
  s_.DisableFaults();
  if (w_.engine().network_down.load()) {
    wsaf_set_network_down(0);
    Event e;
    e.type = EventType::kNetworkDown;
    e.arg = 0;
    w_.Log(e);
  }
  static const char kDrainKey = 0;
  for (int round = 0; round < kDrainRounds && !w_.violated(); ++round) {
    // Idle first, then an empty pump: nothing can be posted after that (a pump may yield to
    // the resolver, which could post behind the pump's back).
    if (w_.config().spec_ops && round % 3 == 2 && PumpAnyWindow()) continue;
    bool idle = w_.resolver().Idle();
    if (PumpOnce()) continue;
    if (idle) return;
    int window = WindowWithMessageDue();
    if (window >= 0) {
      // A pending request will post here: block in GetMessage as a real pump would.
      MSG m{};
      // spec_ops: filtered on alternate rounds (the filter lets completions through; the
      // application's messages wait for PumpOnce).
      UINT filter = w_.config().spec_ops && !tiny_queues && round % 2 == 1 ? kMsg : 0;
      BOOL got = GetMessage(&m, w_.window(window), filter, filter);
      LogMessage(EventType::kGet, got, 0, m, window, filter);
      continue;
    }
    s_.WaitFor(&kDrainKey, 1000);  // virtual time: lets a 30 s timeout run out
  }
  if (!w_.violated()) {
    Violation v;
    v.invariant = "liveness-stuck";
    v.event_index = w_.run().events.empty() ? 0 : w_.run().events.size() - 1;
    v.detail = "with faults off, requests did not drain after " + std::to_string(kDrainRounds) +
               " rounds of pumping";
    w_.SetViolation(v);
  }
}

void Setup(World& w) {
  Scheduler& s = w.scheduler();
  uint32_t mask = 0;
  for (int f = 0; f < static_cast<int>(SimFault::kCount); ++f) {
    if ((w.config().allowed_faults & (1u << f)) && s.Decide(2, DecisionKind::kFault)) mask |= 1u << f;
  }
  w.ActivateFaults(mask);
  if (w.FaultActive(SimFault::kSlotAllocFail)) {
    s.SetEnabledFaults(1u << static_cast<int>(seam::FaultSite::kSlotAllocFail));
  }
  w.engine().windows.SetQueueLimit(w.FaultActive(SimFault::kQueueFull) ? w.config().queue_limit
                                                                       : Window::kQueueLimit);
  WSADATA d;
  Event e;
  e.type = EventType::kStartup;
  e.arg = w.FaultActive(SimFault::kBlocking) && s.Decide(2) ? MAKEWORD(1, 1) : MAKEWORD(2, 2);
  e.result = WSAStartup(static_cast<WORD>(e.arg), &d);
  w.Log(e);
  for (int i = 0; i < w.config().initial_windows; ++i) {
    Event c;
    c.type = EventType::kCreateWindow;
    c.window = w.AddWindow(wsaf_create_window());
    c.result = 1;
    w.Log(c);
  }
}

}  // namespace

void RunScenario(World& world) {
  Scheduler& s = world.scheduler();
  BindBlockingHook(&world);
  InstallEngine(&world.engine());
  s.Install();
  Setup(world);
  int apps = world.config().app_threads;
  int finished = 0;
  static const char kFinishedKey = 0;
  std::vector<std::unique_ptr<AppThread>> threads;
  for (int i = 0; i < apps; ++i) {
    threads.push_back(std::make_unique<AppThread>(&world, i));
    AppThread* t = threads.back().get();
    s.Spawn("app" + std::to_string(i), [&, t, i] {
      t->RunScript();
      ++finished;
      s.Wake(&kFinishedKey);
      if (i != 0) return;
      while (finished < apps) s.Wait(&kFinishedKey);
      t->Drain();
      world.resolver().Shutdown();
    });
  }
  s.Spawn("resolver", [&] { world.resolver().Body(); });
  RunOutcome outcome = s.Run();
  if (outcome != RunOutcome::kFinished && !world.violated()) {
    Violation v;
    v.invariant = outcome == RunOutcome::kDeadlock ? "liveness-deadlock" : "liveness-step-limit";
    v.event_index = world.run().events.empty() ? 0 : world.run().events.size() - 1;
    v.detail = outcome == RunOutcome::kDeadlock ? "no thread can run: " + s.DescribeBlocked()
                                                : "the run exceeded its step limit: " + s.DescribeBlocked();
    world.SetViolation(v);
  }
  if (!world.violated() && !world.checker().AtEnd()) world.SetViolation(world.checker().violation());
  InstallEngine(nullptr);
  BindBlockingHook(nullptr);
}

}  // namespace wsaf::sim
