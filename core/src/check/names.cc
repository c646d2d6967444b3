#include "check/names.h"

#include <cinttypes>
#include <cstdio>

#include "wsafault/winsock_async.h"

namespace wsaf::check {

const char* WinsockErrorName(int error) {
  switch (error) {
    case 0: return "NO_ERROR";
    case WSAEINTR: return "WSAEINTR";
    case WSAEBADF: return "WSAEBADF";
    case WSAEACCES: return "WSAEACCES";
    case WSAEFAULT: return "WSAEFAULT";
    case WSAEINVAL: return "WSAEINVAL";
    case WSAEMFILE: return "WSAEMFILE";
    case WSAEWOULDBLOCK: return "WSAEWOULDBLOCK";
    case WSAEINPROGRESS: return "WSAEINPROGRESS";
    case WSAEALREADY: return "WSAEALREADY";
    case WSAEOPNOTSUPP: return "WSAEOPNOTSUPP";
    case WSAEAFNOSUPPORT: return "WSAEAFNOSUPPORT";
    case WSAENETDOWN: return "WSAENETDOWN";
    case WSAENOBUFS: return "WSAENOBUFS";
    case WSASYSNOTREADY: return "WSASYSNOTREADY";
    case WSAVERNOTSUPPORTED: return "WSAVERNOTSUPPORTED";
    case WSANOTINITIALISED: return "WSANOTINITIALISED";
    case WSAHOST_NOT_FOUND: return "WSAHOST_NOT_FOUND";
    case WSATRY_AGAIN: return "WSATRY_AGAIN";
    case WSANO_RECOVERY: return "WSANO_RECOVERY";
    case WSANO_DATA: return "WSANO_DATA";
  }
  return "UNKNOWN";
}

std::string WinsockErrorString(int error) {
  const char* name = WinsockErrorName(error);
  if (error == 0 || std::string(name) != "UNKNOWN") return name;
  return "error " + std::to_string(error);
}

const char* EventLabel(sim::EventType type) {
  using sim::EventType;
  switch (type) {
    case EventType::kStartup: return "WSAStartup";
    case EventType::kCleanup: return "WSACleanup";
    case EventType::kStart: return "WSAAsyncGet";
    case EventType::kCancel: return "WSACancelAsyncRequest";
    case EventType::kPeek: return "PeekMessage";
    case EventType::kGet: return "GetMessage";
    case EventType::kPostUser: return "PostMessage";
    case EventType::kCreateWindow: return "wsaf_create_window";
    case EventType::kDestroyWindow: return "DestroyWindow";
    case EventType::kNetworkDown: return "wsaf_set_network_down";
    case EventType::kBlockingCall: return "wsaf_gethostbyname";
    case EventType::kHookCancel: return "hook: WSACancelBlockingCall";
    case EventType::kHookCall: return "hook:";
    case EventType::kResolverBegin: return "resolver: deliver";
    case EventType::kResolverEnd: return "resolver: delivered";
    case EventType::kThreadEnd: return "thread end";
    case EventType::kBlockingApi: return "1.1 call";
    case EventType::kLastError: return "WSAGetLastError";
  }
  return "?";
}

const char* HookOpName(sim::HookOp op) {
  using sim::HookOp;
  switch (op) {
    case HookOp::kAsyncStart: return "WSAAsyncGet";
    case HookOp::kAsyncCancel: return "WSACancelAsyncRequest";
    case HookOp::kStartup: return "WSAStartup";
    case HookOp::kCleanup: return "WSACleanup";
    case HookOp::kIsBlocking: return "WSAIsBlocking";
    case HookOp::kSetBlockingHook: return "WSASetBlockingHook";
    case HookOp::kUnhookBlockingHook: return "WSAUnhookBlockingHook";
    case HookOp::kBlockingCall: return "wsaf_gethostbyname";
    case HookOp::kCancelBlockingCall: return "WSACancelBlockingCall";
  }
  return "?";
}

std::string HandleString(uint64_t handle) {
  if (handle == 0) return "NULL";
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, handle);
  return buf;
}

std::string ThreadLabel(const sim::Run& run, int thread) {
  if (thread == run.app_threads) return "R";
  return "T" + std::to_string(thread);
}

}  // namespace wsaf::check
