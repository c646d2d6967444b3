// The event log of one simulated run: what every logical thread did, in the order the
// scheduler ran it. The scenario appends an event after each API call returns (and the
// simulated resolver before and after each delivery); the checkers read the log; the timeline
// renders it. Steps are the scheduler's decision counter, so a replay yields the same log.
//
// Thread safety: one simulated run lives on one OS thread; nothing here is shared.
#ifndef WSAFAULT_SIM_EVENTS_H_
#define WSAFAULT_SIM_EVENTS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace wsaf::sim {

enum class EventType : uint8_t {
  kStartup,          // WSAStartup: arg = requested version, result = return value
  kCleanup,          // WSACleanup: result 0 / -1, error = last error on failure
  kStart,            // a WSAAsyncGetXByY: kind, window, buf/buflen; handle (0 on failure), error
  kCancel,           // WSACancelAsyncRequest(handle): result 0 / -1, error
  kPeek,             // PeekMessage: arg = PM flags; result TRUE/FALSE; msg_* filled when TRUE
  kGet,              // GetMessage: result 1 / 0 / -1; msg_* filled when > 0
  kPostUser,         // PostMessage of an application message: result TRUE/FALSE
  kCreateWindow,     // window = the new window's index
  kDestroyWindow,    // result TRUE/FALSE
  kNetworkDown,      // arg = 1 down, 0 up
  kBlockingCall,     // wsaf_gethostbyname: result 1 success / 0 NULL, error
  kHookCancel,       // WSACancelBlockingCall from inside the hook: result, error
  kHookCall,         // another Winsock call from inside the hook: arg = which, result, error
  kResolverBegin,    // the simulated resolver starts delivering `handle`: answer_* filled
  kResolverEnd,      // ... and returns from DeliverAnswer
  kThreadEnd,        // a logical thread finished its script
  // Added for the coverage of every public call (scenarios with ScenarioConfig::spec_ops):
  kBlockingApi,      // a 1.1-only call outside any blocking call: arg = HookOp, result, error
  kLastError,        // WSASetLastError(arg), a yield to the other threads, then result =
                     // WSAGetLastError(): the last error is per thread
};

// kStart (and kBlockingCall): `arg` is a mask of what is wrong with the arguments the scenario
// passed (0: nothing), so the checker knows which argument error SPEC.md requires. Buffer
// defects (NULL with a nonzero length, negative length) are read from buffer/buflen instead.
inline constexpr int kStartArgNullName = 1;    // NULL name, or NULL address for GetHostByAddr
inline constexpr int kStartArgBadFamily = 2;   // GetHostByAddr type not AF_INET / AF_INET6
inline constexpr int kStartArgBadAddrLen = 4;  // GetHostByAddr len does not match the type

// kHookCall: `arg` says which Winsock call the blocking hook made (as an int). For kAsyncStart
// the event's kind/window/buffer/buflen/handle are filled as for kStart; for kAsyncCancel the
// handle is the one passed. WSACancelBlockingCall from the hook is logged as kHookCancel.
enum class HookOp : int {
  kAsyncStart = 0,     // a WSAAsyncGetXByY: handle 0 and WSAEINPROGRESS expected
  kAsyncCancel,        // WSACancelAsyncRequest: SOCKET_ERROR and WSAEINPROGRESS expected
  kStartup,            // WSAStartup: result = its return value (WSAEINPROGRESS expected)
  kCleanup,            // WSACleanup: SOCKET_ERROR and WSAEINPROGRESS expected
  kIsBlocking,         // WSAIsBlocking: result TRUE expected
  kSetBlockingHook,    // WSASetBlockingHook: result 1 when it returned non-NULL, else 0
  kUnhookBlockingHook, // WSAUnhookBlockingHook: result 0 / -1
  kBlockingCall,       // wsaf_gethostbyname: result 1 / 0
  kCancelBlockingCall, // WSACancelBlockingCall (kBlockingApi only; the hook's is kHookCancel)
};

// kStartup: `arg` is the requested version, plus this bit when lpWSAData was NULL.
inline constexpr int kStartupArgNullData = 1 << 16;

// What the simulated resolver answered for a request (before packing).
struct AnswerRecord {
  int error = 0;             // the lookup's own Winsock error (0: success)
  uint32_t packed_size = 0;  // PackX(NULL, 0).size for a success, else 0
};

struct Event {
  uint64_t step = 0;   // scheduler decision count when the event was logged
  int64_t time_ms = 0; // virtual time
  int thread = 0;      // logical thread: 0..n-1 application threads, n = resolver
  EventType type = EventType::kStartup;
  int kind = -1;       // RequestKind for kStart / kResolverBegin, else -1
  int window = -1;     // window index (into Run::windows), -1 none / NULL hwnd
  uint64_t handle = 0; // the request's task handle
  int arg = 0;         // per-type argument (see EventType)
  int64_t result = 0;  // the call's return value
  int error = 0;       // WSAGetLastError() read right after a failing call
  // Buffer of a kStart (index into Run::buffers, -1 for NULL) and its length.
  int buffer = -1;
  int buflen = 0;
  // A message (kPeek / kGet with a message).
  uint32_t msg_message = 0;
  uint64_t msg_wparam = 0;
  int64_t msg_lparam = 0;
  // kPeek / kGet: what was asked for: the window (-1: NULL hwnd, every window) and the filter
  // (0, 0: every message). `window` is the window of the message returned.
  int target = -1;
  uint32_t filter_min = 0;
  uint32_t filter_max = 0;
  AnswerRecord answer;  // kResolverBegin
  bool network_down = false;  // the network state when the event was logged
};

// A caller buffer with guard bytes around it, so a write outside [0, len) or after a
// successful cancel is seen. Filled with kCanary at allocation.
struct GuardedBuffer {
  static constexpr unsigned char kCanary = 0xA5;
  static constexpr int kGuard = 32;
  std::vector<unsigned char> bytes;  // kGuard + len + kGuard
  int len = 0;
  char* data() { return reinterpret_cast<char*>(bytes.data() + kGuard); }
  const char* data() const { return reinterpret_cast<const char*>(bytes.data() + kGuard); }
};

struct Run {
  std::vector<Event> events;
  std::vector<GuardedBuffer> buffers;
  int app_threads = 0;  // logical threads 0..app_threads-1; app_threads = the resolver
  int windows = 0;      // windows created so far
};

// A violated invariant: which one, at which event, and why.
struct Violation {
  std::string invariant;  // short name, e.g. "delivery-after-cancel"
  std::size_t event_index = 0;
  uint64_t handle = 0;
  std::string detail;
};

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_EVENTS_H_
