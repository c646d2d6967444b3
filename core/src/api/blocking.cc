// Winsock 1.1 blocking calls: the blocking hook, WSAIsBlocking, WSACancelBlockingCall and the
// blocking lookup wsaf_gethostbyname, which runs the hook while it waits.
#include "api/engine.h"
#include "api/facade.h"
#include "wsafault/winsock_async.h"

namespace wsaf {
namespace {

constexpr std::size_t kBlockingResultBytes = 64 * 1024;
constexpr UINT kBlockingMsg = WM_USER + 1;

intptr_t DefaultBlockingHook(void) {
  seam::SleepMs(1);
  return FALSE;
}

int SetError(int error) {
  seam::CurrentThreadState().last_error = error;
  return SOCKET_ERROR;
}

// 0, or the error a 1.1-only call fails with before doing anything.
// The session word and the 1.1 flag are read as one: a startup or a final cleanup between the
// two reads (the word moves on: its epoch never repeats) means look again, or a 1.1 session
// that a cleanup is ending answers WSAEOPNOTSUPP (found by wsafault sim preempting between
// the two loads).
int CheckBlockingApi(Engine& e, bool allowed_inside_hook) {
  for (;;) {
    uint64_t session = e.table.Session();
    if (TaskTable::RefsOf(session) == 0) return WSANOTINITIALISED;
    if (!allowed_inside_hook && seam::CurrentThreadState().in_blocking_call) return WSAEINPROGRESS;
    bool supported = e.blocking_supported.load(std::memory_order_acquire);
    if (e.table.Session() != session) continue;
    return supported ? 0 : WSAEOPNOTSUPP;
  }
}

FARPROC CurrentHook(Engine& e, seam::ThreadState& t) {
  bool valid = t.blocking_hook != nullptr && t.hook_epoch == TaskTable::EpochOf(e.table.Session());
  return valid ? t.blocking_hook : &DefaultBlockingHook;
}

// Waits for the request's message on its private window, running the hook in a 1.1 session.
// Returns the message's lParam, or sets *error (WSAEINTR, WSANOTINITIALISED).
LPARAM WaitForAnswer(Engine& e, Window& w, uint64_t handle, uint32_t epoch, int* error) {
  seam::ThreadState& t = seam::CurrentThreadState();
  bool hooked = e.blocking_supported.load(std::memory_order_acquire);
  QueuedMessage m{};
  for (;;) {
    // After a cancel request the call fails even if the answer is already here.
    if (t.cancel_blocking) {
      m = QueuedMessage{};
      if (e.table.Cancel(handle, e.table.Session(), /*owner=*/true) == CancelStatus::kAlready) {
        // Committed already: the resolver may be writing our buffer; wait for its message.
        while (!w.WaitAndRemove(0, 0, &m, 50)) {
          if (TaskTable::EpochOf(e.table.Session()) != epoch) break;
        }
        if (m.task != 0) e.table.OnDispatched(m.task);
      }
      *error = WSAEINTR;
      return 0;
    }
    if (w.Peek(0, 0, true, &m)) {
      e.table.OnDispatched(m.task);
      return m.msg.lParam;
    }
    if (TaskTable::EpochOf(e.table.Session()) != epoch) {
      *error = WSANOTINITIALISED;  // a final cleanup on another thread canceled it
      return 0;
    }
    if (hooked) {
      t.in_blocking_call = true;
      CurrentHook(e, t)();
      t.in_blocking_call = false;
    } else if (w.WaitAndRemove(0, 0, &m, 500)) {
      e.table.OnDispatched(m.task);
      return m.msg.lParam;
    }
  }
}

}  // namespace
}  // namespace wsaf

using wsaf::CurrentEngine;
using wsaf::Engine;

extern "C" {

BOOL WSAIsBlocking(void) {
  WSAF_API_ENTRY();
  Engine& e = CurrentEngine();
  if (int err = wsaf::CheckBlockingApi(e, true)) {
    wsaf::SetError(err);
    return FALSE;
  }
  return wsaf::seam::CurrentThreadState().in_blocking_call ? TRUE : FALSE;
}

int WSACancelBlockingCall(void) {
  WSAF_API_ENTRY();
  Engine& e = CurrentEngine();
  if (int err = wsaf::CheckBlockingApi(e, true)) return wsaf::SetError(err);
  wsaf::seam::ThreadState& t = wsaf::seam::CurrentThreadState();
  if (!t.in_blocking_call) return wsaf::SetError(WSAEINVAL);
  t.cancel_blocking = true;
  return 0;
}

FARPROC WSASetBlockingHook(FARPROC hook) {
  WSAF_API_ENTRY();
  Engine& e = CurrentEngine();
  if (int err = wsaf::CheckBlockingApi(e, false)) {
    wsaf::SetError(err);
    return nullptr;
  }
  if (hook == nullptr) {
    wsaf::SetError(WSAEFAULT);
    return nullptr;
  }
  wsaf::seam::ThreadState& t = wsaf::seam::CurrentThreadState();
  FARPROC previous = wsaf::CurrentHook(e, t);
  t.blocking_hook = hook;
  t.hook_epoch = wsaf::TaskTable::EpochOf(e.table.Session());
  return previous;
}

int WSAUnhookBlockingHook(void) {
  WSAF_API_ENTRY();
  Engine& e = CurrentEngine();
  if (int err = wsaf::CheckBlockingApi(e, false)) return wsaf::SetError(err);
  wsaf::seam::CurrentThreadState().blocking_hook = nullptr;
  return 0;
}

struct hostent* wsaf_gethostbyname(const char* name) {
  WSAF_API_ENTRY();
  Engine& e = CurrentEngine();
  wsaf::seam::ThreadState& t = wsaf::seam::CurrentThreadState();
  uint64_t session = 0;
  // One check for both words (found torn by POS under TSO: WSAENETDOWN although the network
  // went down only after the final cleanup).
  int error = wsaf::CheckStart(e, &session, name == nullptr ? WSAEFAULT : 0);
  if (error != 0) {
    wsaf::SetError(error);
    return nullptr;
  }
  if (!t.blocking_result) t.blocking_result.reset(new char[wsaf::kBlockingResultBytes]);
  HWND hwnd = e.windows.Create(/*internal=*/true);
  std::shared_ptr<wsaf::Window> w = e.windows.Find(hwnd);
  wsaf::RequestArgs args;
  args.kind = wsaf::RequestKind::kHostByName;
  args.hwnd = hwnd;
  args.msg = wsaf::kBlockingMsg;
  args.name = name;
  args.buf = t.blocking_result.get();
  args.buflen = static_cast<int>(wsaf::kBlockingResultBytes);
  args.internal = true;  // the application never sees this handle: it cannot cancel it
  HANDLE h = wsaf::StartRequest(args, 0);
  LPARAM reply = 0;
  if (h == nullptr) {
    error = t.last_error;
  } else {
    t.cancel_blocking = false;
    reply = wsaf::WaitForAnswer(e, *w, reinterpret_cast<uintptr_t>(h),
                                wsaf::TaskTable::EpochOf(session), &error);
    t.cancel_blocking = false;
    if (error == 0) error = WSAGETASYNCERROR(reply);
  }
  DestroyWindow(hwnd);
  if (error != 0) {
    wsaf::SetError(error);
    return nullptr;
  }
  return reinterpret_cast<struct hostent*>(t.blocking_result.get());
}

}  // extern "C"
