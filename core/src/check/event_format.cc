#include "check/event_format.h"

#include "check/names.h"
#include "check/reference_model.h"
#include "table/task_table.h"

namespace wsaf::check {

using sim::Event;
using sim::EventType;
using sim::HookOp;

namespace {

std::string WindowArg(int window) { return window < 0 ? "NULL" : "win " + std::to_string(window); }

std::string StartCall(const Event& e) {
  const char* kind = e.kind >= 0 && e.kind <= static_cast<int>(RequestKind::kServByPort)
                         ? RequestKindName(static_cast<RequestKind>(e.kind))
                         : "?";
  std::string s = std::string("WSAAsync") + kind + "(" + WindowArg(e.window);
  s += e.buffer < 0 ? ", buf NULL" : ", buf #" + std::to_string(e.buffer);
  s += ", len " + std::to_string(e.buflen);
  if (e.type == EventType::kStart) {
    if (e.arg & sim::kStartArgNullName) s += ", NULL name";
    if (e.arg & sim::kStartArgBadFamily) s += ", bad family";
    if (e.arg & sim::kStartArgBadAddrLen) s += ", bad address length";
  }
  return s + ")";
}

std::string HookCall(const Event& e) {
  auto op = static_cast<HookOp>(e.arg);
  if (op == HookOp::kAsyncStart) return "hook: " + StartCall(e);
  if (op == HookOp::kAsyncCancel) return "hook: WSACancelAsyncRequest(" + HandleString(e.handle) + ")";
  return std::string("hook: ") + HookOpName(op) + "()";
}

std::string ZeroOrError(const Event& e) {
  if (e.result == 0) return "0";
  if (e.result == SOCKET_ERROR) return "SOCKET_ERROR, " + WinsockErrorString(e.error);
  return std::to_string(e.result);
}

std::string NullOr(const Event& e, const std::string& success) {
  return e.result != 0 ? success : "NULL, " + WinsockErrorString(e.error);
}

}  // namespace

bool HasCompletionMessage(const Event& e) {
  bool has = (e.type == EventType::kPeek && e.result != 0) || (e.type == EventType::kGet && e.result > 0);
  return has && e.msg_message == kCompletionMsg;
}

bool RemovesMessage(const Event& e) {
  return e.type == EventType::kGet || (e.type == EventType::kPeek && (e.arg & PM_REMOVE) != 0);
}

std::string DescribeMessage(const Event& e) {
  std::string from = e.window >= 0 ? " from win " + std::to_string(e.window) : "";
  if (e.msg_message == kCompletionMsg) {
    DWORD reply = static_cast<DWORD>(e.msg_lparam);
    int error = WSAGETASYNCERROR(reply);
    return "completion " + HandleString(e.msg_wparam) + " " + OutcomeName(error) + " len " +
           std::to_string(WSAGETASYNCBUFLEN(reply)) + from;
  }
  if (e.msg_message == kApplicationMsg) return "application message" + from;
  if (e.msg_message == WM_QUIT) return "WM_QUIT" + from;
  return "message " + std::to_string(e.msg_message) + from;
}

namespace {
std::string PumpArgs(const Event& e) {
  std::string s = e.target < 0 ? "NULL" : "win " + std::to_string(e.target);
  if (e.filter_min != 0 || e.filter_max != 0) {
    s += ", " + std::to_string(e.filter_min) + ", " + std::to_string(e.filter_max);
  } else {
    s += ", 0, 0";
  }
  return s;
}
}  // namespace

std::string DescribeCall(const Event& e) {
  switch (e.type) {
    case EventType::kStartup:
      return "WSAStartup(" + std::to_string(LOBYTE(static_cast<WORD>(e.arg))) + "." +
             std::to_string(HIBYTE(static_cast<WORD>(e.arg))) +
             ((e.arg & sim::kStartupArgNullData) ? ", NULL)" : ")");
    case EventType::kCleanup: return "WSACleanup()";
    case EventType::kStart: return StartCall(e);
    case EventType::kCancel: return "WSACancelAsyncRequest(" + HandleString(e.handle) + ")";
    // `window` is the window the message came from; `target` the one asked for.
    case EventType::kPeek:
      return "PeekMessage(" + PumpArgs(e) + ((e.arg & PM_REMOVE) ? ", PM_REMOVE)" : ", PM_NOREMOVE)");
    case EventType::kGet: return "GetMessage(" + PumpArgs(e) + ")";
    case EventType::kBlockingApi:
      return std::string(HookOpName(static_cast<HookOp>(e.arg))) + "()";
    case EventType::kLastError:
      return "WSASetLastError(" + std::to_string(e.arg) + "), yield, WSAGetLastError()";
    case EventType::kPostUser: return "PostMessage(" + WindowArg(e.window) + ", WM_USER+2)";
    case EventType::kCreateWindow: return "wsaf_create_window()";
    case EventType::kDestroyWindow: return "DestroyWindow(" + WindowArg(e.window) + ")";
    case EventType::kNetworkDown: return "wsaf_set_network_down(" + std::to_string(e.arg) + ")";
    case EventType::kBlockingCall:
      return (e.arg & sim::kStartArgNullName) ? "wsaf_gethostbyname(NULL)" : "wsaf_gethostbyname()";
    case EventType::kHookCancel: return "hook: WSACancelBlockingCall()";
    case EventType::kHookCall: return HookCall(e);
    case EventType::kResolverBegin: {
      std::string answer = e.answer.error != 0 ? WinsockErrorString(e.answer.error)
                                               : "OK, " + std::to_string(e.answer.packed_size) + " bytes";
      return "resolver: deliver " + HandleString(e.handle) + " (answer " + answer + ")";
    }
    case EventType::kResolverEnd: return "resolver: delivered " + HandleString(e.handle);
    case EventType::kThreadEnd: return "thread end";
  }
  return "?";
}

std::string DescribeResult(const Event& e) {
  switch (e.type) {
    case EventType::kStartup: return e.result == 0 ? "0" : WinsockErrorString(static_cast<int>(e.result));
    case EventType::kCleanup:
    case EventType::kCancel:
    case EventType::kHookCancel: return ZeroOrError(e);
    case EventType::kStart: return e.handle != 0 ? HandleString(e.handle) : "NULL, " + WinsockErrorString(e.error);
    case EventType::kPeek: return e.result != 0 ? "TRUE: " + DescribeMessage(e) : "FALSE";
    case EventType::kGet:
      if (e.result > 0) return "1: " + DescribeMessage(e);
      return e.result == 0 ? "0 (WM_QUIT)" : std::to_string(e.result);
    case EventType::kPostUser:
    case EventType::kDestroyWindow: return e.result == TRUE ? "TRUE" : "FALSE";
    case EventType::kCreateWindow: return WindowArg(e.window);
    case EventType::kBlockingCall: return NullOr(e, "hostent");
    case EventType::kLastError: return std::to_string(e.result);
    case EventType::kBlockingApi:
      switch (static_cast<HookOp>(e.arg)) {
        case HookOp::kIsBlocking: return e.result ? "TRUE" : "FALSE, " + WinsockErrorString(e.error);
        case HookOp::kSetBlockingHook: return NullOr(e, "non-NULL");
        default: return ZeroOrError(e);
      }
    case EventType::kHookCall:
      switch (static_cast<HookOp>(e.arg)) {
        case HookOp::kAsyncStart:
          return e.handle != 0 ? HandleString(e.handle) : "NULL, " + WinsockErrorString(e.error);
        case HookOp::kStartup: return e.result == 0 ? "0" : WinsockErrorString(static_cast<int>(e.result));
        case HookOp::kIsBlocking: return e.result ? "TRUE" : "FALSE, " + WinsockErrorString(e.error);
        case HookOp::kSetBlockingHook:
        case HookOp::kBlockingCall: return NullOr(e, "non-NULL");
        default: return ZeroOrError(e);
      }
    default: return "";
  }
}

}  // namespace wsaf::check
