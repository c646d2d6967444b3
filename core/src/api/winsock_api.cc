// The Winsock facade: argument checks in SPEC.md's order, WSAE codes, the per-thread last
// error. Everything below it returns status values; only this file speaks Winsock errors.
#include <arpa/inet.h>
#include <sys/socket.h>

#include <cstring>

#include "api/engine.h"
#include "api/facade.h"
#include "table/mutants.h"
#include "wsafault/winsock_async.h"

namespace wsaf {
namespace {

constexpr WORD kVersion11 = MAKEWORD(1, 1);
constexpr WORD kVersion22 = MAKEWORD(2, 2);

int Fail(int error) {
  seam::CurrentThreadState().last_error = error;
  return SOCKET_ERROR;
}

HANDLE FailHandle(int error) {
  seam::CurrentThreadState().last_error = error;
  return nullptr;
}

// The session and the network flag are two words. An error decided after both checks passed
// (a bad argument, a blocking call in progress) must have held at one instant: the session
// read again and unchanged (every final cleanup moves its epoch on) says the session check
// still held when the flag was read; otherwise the checks start again. Without it a start
// racing a final cleanup and a network toggle answered WSAEFAULT although the session was
// never initialised while the network was up (found by POS under TSO,
// corpus/sim/regressions/fault-after-cleanup-and-network-up.tape).
bool SessionHeld(Engine& e, uint64_t session) { return e.table.Session() == session; }

// The checks every start and cancel makes first, in SPEC.md's order. Returns 0 or the error;
// *session is the word the caller must pass on to the table.
int CheckSession(Engine& e, uint64_t* session) {
  *session = e.table.Session();
  if (WSAF_MUTANT(kStartNetDownFirst) && e.network_down.load(std::memory_order_acquire)) {
    return WSAENETDOWN;
  }
  if (TaskTable::RefsOf(*session) == 0) return WSANOTINITIALISED;
  if (e.network_down.load(std::memory_order_acquire)) {
    // The session and the network flag are two words: a final cleanup between the two reads
    // means the session check no longer holds (found by wsafault sim preempting between them).
    // WSAENETDOWN only if the session did not move across the flag's read: a cleanup, a new
    // startup and the network back up in between leave no instant that was both.
    const uint64_t first = *session;
    *session = e.table.Session();
    if (TaskTable::RefsOf(*session) == 0) return WSANOTINITIALISED;
    if (*session == first || WSAF_MUTANT(kTornSessionCheck)) return WSAENETDOWN;
    return CheckSession(e, session);
  }
  if (seam::CurrentThreadState().in_blocking_call) {
    // The mutant still reads the session (the same scheduling points, so one tape replays
    // with and without it), then ignores what it read.
    return SessionHeld(e, *session) || WSAF_MUTANT(kTornSessionCheck) ? WSAEINPROGRESS
                                                                       : CheckSession(e, session);
  }
  return 0;
}

}  // namespace

// `arg_error` is the caller's verdict on its own arguments (0: fine); it comes after the
// session checks, as SPEC.md orders them.
int CheckStart(Engine& e, uint64_t* session, int arg_error) {
  for (;;) {
    if (int err = CheckSession(e, session)) return err;
    if (arg_error == 0 || SessionHeld(e, *session) || WSAF_MUTANT(kTornSessionCheck)) return arg_error;
  }
}

HANDLE StartRequest(const RequestArgs& args, int arg_error) {
  Engine& e = CurrentEngine();
  uint64_t session;
  if (arg_error == 0 && (args.buflen < 0 || (args.buf == nullptr && args.buflen != 0))) arg_error = WSAEFAULT;
  for (;;) {
    if (int err = CheckStart(e, &session, arg_error)) return FailHandle(err);
    uint64_t handle = 0;
    switch (e.table.Start(args, session, &handle)) {
      case StartStatus::kOk: return reinterpret_cast<HANDLE>(static_cast<uintptr_t>(handle));
      case StartStatus::kNotInitialised: return FailHandle(WSANOTINITIALISED);
      case StartStatus::kNoSlot:
        // Like an argument error, "no slot" must hold with the session checks at one instant
        // (found by POS under TSO after CheckStart: WSAEWOULDBLOCK in a state that never was).
        if (SessionHeld(e, session) || WSAF_MUTANT(kTornSessionCheck)) return FailHandle(WSAEWOULDBLOCK);
        continue;
    }
    return FailHandle(WSAEWOULDBLOCK);
  }
}

}  // namespace wsaf

using wsaf::CurrentEngine;
using wsaf::Engine;
using wsaf::RequestArgs;
using wsaf::RequestKind;

extern "C" {

int WSAStartup(WORD requested, LPWSADATA data) {
  WSAF_API_ENTRY();
  if (wsaf::seam::CurrentThreadState().in_blocking_call) return WSAEINPROGRESS;
  if (data == nullptr) return WSAEFAULT;
  std::memset(data, 0, sizeof(*data));
  data->wHighVersion = wsaf::kVersion22;
  int major = LOBYTE(requested), minor = HIBYTE(requested);
  if (major < 1 || (major == 1 && minor < 1)) {
    data->wVersion = wsaf::kVersion22;
    return WSAVERNOTSUPPORTED;
  }
  WORD negotiated = major == 1 ? wsaf::kVersion11 : wsaf::kVersion22;
  data->wVersion = negotiated;
  data->iMaxSockets = 0;
  data->iMaxUdpDg = 0;
  std::strcpy(data->szDescription, "wsafault Winsock async database API on c-ares");
  std::strcpy(data->szSystemStatus, "Running");
  Engine& e = CurrentEngine();
  wsaf::seam::Point(wsaf::seam::Site::kSession);
  wsaf::seam::MutexLock lock(e.session_mu);
  bool first = wsaf::TaskTable::RefsOf(e.table.Session()) == 0;
  if (first) {
    e.session_version = negotiated;
    e.blocking_supported.store(negotiated == wsaf::kVersion11, std::memory_order_release);
    if (e.backend() != nullptr) e.backend()->Start();
  }
  e.table.AddSessionRef();
  return 0;
}

int WSACleanup(void) {
  WSAF_API_ENTRY();
  if (wsaf::seam::CurrentThreadState().in_blocking_call) return wsaf::Fail(WSAEINPROGRESS);
  Engine& e = CurrentEngine();
  wsaf::seam::Point(wsaf::seam::Site::kSession);
  wsaf::seam::MutexLock lock(e.session_mu);
  if (wsaf::TaskTable::RefsOf(e.table.Session()) == 0) return wsaf::Fail(WSANOTINITIALISED);
  if (e.table.ReleaseSessionRef()) {
    // Completions waiting for queue room belong to the ended session: drop them.
    for (auto& w : e.windows.AllIncludingInternal()) w->DropUnwanted();
    if (e.backend() != nullptr) e.backend()->Stop();
    e.blocking_supported.store(false, std::memory_order_release);
  }
  return 0;
}

int WSAGetLastError(void) {
  WSAF_API_ENTRY();
  return wsaf::seam::CurrentThreadState().last_error;
}

void WSASetLastError(int error) {
  WSAF_API_ENTRY();
  wsaf::seam::CurrentThreadState().last_error = error;
}

HANDLE WSAAsyncGetHostByName(HWND hwnd, u_int msg, const char* name, char* buf, int buflen) {
  WSAF_API_ENTRY();
  RequestArgs a;
  a.kind = RequestKind::kHostByName;
  a.hwnd = hwnd;
  a.msg = msg;
  a.name = name;
  a.buf = buf;
  a.buflen = buflen;
  return wsaf::StartRequest(a, name == nullptr ? WSAEFAULT : 0);
}

HANDLE WSAAsyncGetHostByAddr(HWND hwnd, u_int msg, const char* addr, int len, int type, char* buf,
                             int buflen) {
  WSAF_API_ENTRY();
  int arg_error = 0;
  if (addr == nullptr) {
    arg_error = WSAEFAULT;
  } else if (type != AF_INET && type != AF_INET6) {
    arg_error = WSAEAFNOSUPPORT;
  } else if (len != (type == AF_INET ? 4 : 16)) {
    arg_error = WSAEFAULT;
  }
  RequestArgs a;
  a.kind = RequestKind::kHostByAddr;
  a.hwnd = hwnd;
  a.msg = msg;
  a.addr = addr;
  a.addr_len = len;
  a.family = type;
  a.buf = buf;
  a.buflen = buflen;
  return wsaf::StartRequest(a, arg_error);
}

HANDLE WSAAsyncGetProtoByName(HWND hwnd, u_int msg, const char* name, char* buf, int buflen) {
  WSAF_API_ENTRY();
  RequestArgs a;
  a.kind = RequestKind::kProtoByName;
  a.hwnd = hwnd;
  a.msg = msg;
  a.name = name;
  a.buf = buf;
  a.buflen = buflen;
  return wsaf::StartRequest(a, name == nullptr ? WSAEFAULT : 0);
}

HANDLE WSAAsyncGetProtoByNumber(HWND hwnd, u_int msg, int number, char* buf, int buflen) {
  WSAF_API_ENTRY();
  RequestArgs a;
  a.kind = RequestKind::kProtoByNumber;
  a.hwnd = hwnd;
  a.msg = msg;
  a.number = number;
  a.buf = buf;
  a.buflen = buflen;
  return wsaf::StartRequest(a, 0);
}

HANDLE WSAAsyncGetServByName(HWND hwnd, u_int msg, const char* name, const char* proto, char* buf,
                             int buflen) {
  WSAF_API_ENTRY();
  RequestArgs a;
  a.kind = RequestKind::kServByName;
  a.hwnd = hwnd;
  a.msg = msg;
  a.name = name;
  a.proto = proto;
  a.buf = buf;
  a.buflen = buflen;
  return wsaf::StartRequest(a, name == nullptr ? WSAEFAULT : 0);
}

HANDLE WSAAsyncGetServByPort(HWND hwnd, u_int msg, int port, const char* proto, char* buf,
                             int buflen) {
  WSAF_API_ENTRY();
  RequestArgs a;
  a.kind = RequestKind::kServByPort;
  a.hwnd = hwnd;
  a.msg = msg;
  a.number = port;
  a.proto = proto;
  a.buf = buf;
  a.buflen = buflen;
  return wsaf::StartRequest(a, 0);
}

int WSACancelAsyncRequest(HANDLE h) {
  WSAF_API_ENTRY();
  Engine& e = CurrentEngine();
  uint64_t handle = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(h));
  if (WSAF_MUTANT(kCancelStub)) return 0;
  if (WSAF_MUTANT(kWrongErrorOrder) && handle == 0) return wsaf::Fail(WSAEINVAL);
  for (;;) {
    uint64_t s;
    if (int err = wsaf::CheckSession(e, &s)) return wsaf::Fail(err);
    int error = 0;
    switch (e.table.Cancel(handle, s)) {
      case wsaf::CancelStatus::kCanceled: return 0;
      case wsaf::CancelStatus::kAlready: error = WSAEALREADY; break;
      case wsaf::CancelStatus::kInvalid: error = WSAEINVAL; break;
      case wsaf::CancelStatus::kNotInitialised: return wsaf::Fail(WSANOTINITIALISED);
    }
    // The handle's verdict must hold with the session checks at one instant, as a start's
    // errors do (found by POS under TSO: WSAEALREADY answered from a session read before a
    // final cleanup and a network flag read after it). Neither verdict changed the table.
    if (wsaf::SessionHeld(e, s) || WSAF_MUTANT(kTornSessionCheck)) return wsaf::Fail(error);
  }
}

// --- Message windows ---------------------------------------------------------------------

HWND wsaf_create_window(void) {
  WSAF_API_ENTRY();
  return CurrentEngine().windows.Create();
}

BOOL DestroyWindow(HWND hwnd) {
  WSAF_API_ENTRY();
  Engine& e = CurrentEngine();
  std::shared_ptr<wsaf::Window> w = e.windows.Remove(hwnd);
  if (w == nullptr) return FALSE;
  // Queued completions are settled: their requests completed, their messages are gone.
  uint32_t freed = 0;
  for (const wsaf::QueuedMessage& m : w->Destroy()) {
    if (m.task != 0) {
      e.table.OnDispatched(m.task);
      ++freed;
    }
  }
  // Many slots came free at once: give wholly free chunks of the table back.
  if (freed >= wsaf::TaskTable::kChunkSlots / 4) e.table.Trim();
  return TRUE;
}

BOOL PostMessage(HWND hwnd, UINT message, WPARAM wparam, LPARAM lparam) {
  WSAF_API_ENTRY();
  std::shared_ptr<wsaf::Window> w = CurrentEngine().windows.Find(hwnd);
  if (w == nullptr) return FALSE;
  MSG m{};
  m.hwnd = hwnd;
  m.message = message;
  m.wParam = wparam;
  m.lParam = lparam;
  return w->Post(m) ? TRUE : FALSE;
}

BOOL PeekMessage(LPMSG out, HWND hwnd, UINT min, UINT max, UINT remove) {
  WSAF_API_ENTRY();
  if (out == nullptr) return FALSE;
  Engine& e = CurrentEngine();
  bool take = (remove & PM_REMOVE) != 0;
  auto try_window = [&](wsaf::Window& w) {
    wsaf::QueuedMessage m;
    if (!w.Peek(min, max, take, &m)) return false;
    *out = m.msg;
    if (take && m.task != 0) e.table.OnDispatched(m.task);
    return true;
  };
  if (hwnd != nullptr) {
    std::shared_ptr<wsaf::Window> w = e.windows.Find(hwnd);
    return w != nullptr && try_window(*w) ? TRUE : FALSE;
  }
  for (auto& w : e.windows.All()) {
    if (try_window(*w)) return TRUE;
  }
  return FALSE;
}

BOOL GetMessage(LPMSG out, HWND hwnd, UINT min, UINT max) {
  WSAF_API_ENTRY();
  if (out == nullptr) return -1;
  Engine& e = CurrentEngine();
  if (hwnd == nullptr) {
    // Every window: poll them in creation order (rare; a real pump names its window).
    for (;;) {
      if (PeekMessage(out, nullptr, min, max, PM_REMOVE)) return out->message == WM_QUIT ? 0 : 1;
      if (e.windows.All().empty()) return -1;
      wsaf::seam::SleepMs(1);
    }
  }
  std::shared_ptr<wsaf::Window> w = e.windows.Find(hwnd);
  if (w == nullptr) return -1;
  wsaf::QueuedMessage m;
  if (!w->WaitAndRemove(min, max, &m)) return -1;
  *out = m.msg;
  if (m.task != 0) e.table.OnDispatched(m.task);
  return out->message == WM_QUIT ? 0 : 1;
}

// --- Control -------------------------------------------------------------------------------

void wsaf_set_network_down(int down) {
  WSAF_API_ENTRY();
  wsaf::seam::Point(wsaf::seam::Site::kSession);
  // seq_cst: a start on another thread after this returns must see it. A release store may
  // still sit in this core's store buffer then (found by wsafault sim --memory tso).
  CurrentEngine().network_down.store(down != 0, std::memory_order_seq_cst);
}

}  // extern "C"
