// The scenarios' blocking hook: the Winsock calls it makes, per mode (blocking_hook.h).
#include "sim/blocking_hook.h"

#include "sim/scenario.h"

namespace wsaf::sim {

namespace {

constexpr UINT kMsg = check::kCompletionMsg;
constexpr HookOp kHookOps[] = {HookOp::kStartup,         HookOp::kCleanup,            HookOp::kIsBlocking,
                               HookOp::kSetBlockingHook, HookOp::kUnhookBlockingHook, HookOp::kBlockingCall,
                               HookOp::kAsyncStart,      HookOp::kAsyncCancel};
static_assert(kSpecHookModes == kHookModes + sizeof(kHookOps) / sizeof(kHookOps[0]));

// The hook needs the world of the thread that runs it: one OS thread runs the whole
// simulation, so plain statics are enough.
World* g_world = nullptr;
int g_hook_mode[64];
int g_hook_calls[64];

// One Winsock call from inside the hook: each must fail with WSAEINPROGRESS except
// WSAIsBlocking (TRUE). Fills e.result / e.error.
void HookCallOf(World& w, HookOp op, Event* e) {
  e->arg = static_cast<int>(op);
  bool failed = false;
  switch (op) {
    case HookOp::kAsyncStart: {
      e->kind = static_cast<int>(RequestKind::kHostByName);
      e->window = w.window_count() > 0 ? 0 : -1;
      e->buflen = 0;
      HANDLE h = WSAAsyncGetHostByName(e->window >= 0 ? w.window(0) : nullptr, kMsg, "host1.test", nullptr, 0);
      e->handle = reinterpret_cast<uintptr_t>(h);
      e->result = h != nullptr;
      failed = h == nullptr;
      break;
    }
    case HookOp::kAsyncCancel:
      e->handle = w.issued().empty() ? 0 : w.issued().back();
      e->result = WSACancelAsyncRequest(reinterpret_cast<HANDLE>(e->handle));
      failed = e->result != 0;
      break;
    case HookOp::kStartup: {
      WSADATA d;
      e->result = WSAStartup(MAKEWORD(2, 2), &d);
      e->error = static_cast<int>(e->result);  // WSAStartup returns its error
      return;
    }
    case HookOp::kCleanup:
      e->result = WSACleanup();
      failed = e->result != 0;
      break;
    case HookOp::kIsBlocking:
      WSASetLastError(0);
      e->result = WSAIsBlocking();
      failed = e->result == FALSE;
      break;
    case HookOp::kSetBlockingHook:
      e->result = WSASetBlockingHook(&SimBlockingHook) != nullptr;
      failed = e->result == 0;
      break;
    case HookOp::kUnhookBlockingHook:
      e->result = WSAUnhookBlockingHook();
      failed = e->result != 0;
      break;
    default:
      e->result = wsaf_gethostbyname("host1.test") != nullptr;
      failed = e->result == 0;
      break;
  }
  e->error = failed ? WSAGetLastError() : 0;
}

}  // namespace

intptr_t SimBlockingHook() {
  const seam::SimulatorCode simulator;  // called back from inside wsaf_gethostbyname
  World& w = *g_world;
  Scheduler& s = w.scheduler();
  int me = s.current();
  int mode = g_hook_mode[me];
  ++g_hook_calls[me];
  if (mode == 1 || mode == 2) {
    Event e;
    e.type = EventType::kHookCall;
    bool start = mode == 2;
    if (!start) {
      e.arg = static_cast<int>(HookOp::kAsyncCancel);
      e.handle = w.issued().empty() ? 0 : w.issued().back();
      e.result = WSACancelAsyncRequest(reinterpret_cast<HANDLE>(e.handle));
    } else {
      e.arg = static_cast<int>(HookOp::kAsyncStart);
      e.kind = static_cast<int>(RequestKind::kHostByName);
      e.window = w.window_count() > 0 ? 0 : -1;
      e.buflen = 0;
      HANDLE h = WSAAsyncGetHostByName(e.window >= 0 ? w.window(0) : nullptr, kMsg, "host1.test",
                                       nullptr, 0);
      e.handle = reinterpret_cast<uintptr_t>(h);
      e.result = h != nullptr;
    }
    bool failed = start ? e.result == 0 : e.result != 0;
    e.error = failed ? WSAGetLastError() : 0;
    w.Log(e);
    g_hook_mode[me] = 0;
  } else if (mode >= kHookModes && mode < kSpecHookModes) {
    static const char kSpecHookKey = 0;
    Event first;
    first.type = EventType::kHookCall;
    HookCallOf(w, kHookOps[mode - kHookModes], &first);
    w.Log(first);
    s.WaitFor(&kSpecHookKey, 20);
    // Then every call a hook can make, against whatever session the wait left.
    for (HookOp op : kHookOps) {
      Event e;
      e.type = EventType::kHookCall;
      HookCallOf(w, op, &e);
      w.Log(e);
    }
    g_hook_mode[me] = 0;  // the cancel below, now
    mode = 0;
  }
  if (mode == 0 || g_hook_calls[me] > 40) {
    Event e;
    e.type = EventType::kHookCancel;
    e.result = WSACancelBlockingCall();
    e.error = e.result != 0 ? WSAGetLastError() : 0;
    w.Log(e);
    g_hook_mode[me] = 3;  // cancel once
  }
  static const char kHookKey = 0;
  s.WaitFor(&kHookKey, 1);
  return FALSE;
}

void BindBlockingHook(World* world) { g_world = world; }

void ArmBlockingHook(int thread, int mode) {
  g_hook_mode[thread] = mode;
  g_hook_calls[thread] = 0;
}

}  // namespace wsaf::sim
