#include "stress_common.h"

#include <chrono>

#include "wsafault/winsock_async.h"

namespace wsaf::stress {

namespace {

std::atomic<int64_t> g_epoch_ns{0};

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int kCodes[kErrorSlots - 1] = {
    0,          WSAENOBUFS,     WSAHOST_NOT_FOUND, WSATRY_AGAIN,       WSANO_RECOVERY,
    WSANO_DATA, WSAENETDOWN,    WSAEINVAL,         WSAEALREADY,        WSANOTINITIALISED,
    WSAEFAULT,  WSAEWOULDBLOCK, WSAEINPROGRESS,    WSAVERNOTSUPPORTED,
};

}  // namespace

void ResetClock() { g_epoch_ns.store(SteadyNs(), std::memory_order_relaxed); }

int64_t NowUs() { return (SteadyNs() - g_epoch_ns.load(std::memory_order_relaxed)) / 1000; }

int ErrorSlot(int error) {
  for (int i = 0; i < kErrorSlots - 1; ++i) {
    if (kCodes[i] == error) return i;
  }
  return kErrorSlots - 1;
}

int ErrorOfSlot(int slot) { return slot < kErrorSlots - 1 ? kCodes[slot] : -1; }

const char* ErrorName(int e) {
  switch (e) {
    case 0:
      return "0";
    case SOCKET_ERROR:
      return "SOCKET_ERROR";
    case WSAEINTR:
      return "WSAEINTR";
    case WSAEFAULT:
      return "WSAEFAULT";
    case WSAEINVAL:
      return "WSAEINVAL";
    case WSAEWOULDBLOCK:
      return "WSAEWOULDBLOCK";
    case WSAEINPROGRESS:
      return "WSAEINPROGRESS";
    case WSAEALREADY:
      return "WSAEALREADY";
    case WSAEOPNOTSUPP:
      return "WSAEOPNOTSUPP";
    case WSAEAFNOSUPPORT:
      return "WSAEAFNOSUPPORT";
    case WSAENETDOWN:
      return "WSAENETDOWN";
    case WSAENOBUFS:
      return "WSAENOBUFS";
    case WSAVERNOTSUPPORTED:
      return "WSAVERNOTSUPPORTED";
    case WSANOTINITIALISED:
      return "WSANOTINITIALISED";
    case WSAHOST_NOT_FOUND:
      return "WSAHOST_NOT_FOUND";
    case WSATRY_AGAIN:
      return "WSATRY_AGAIN";
    case WSANO_RECOVERY:
      return "WSANO_RECOVERY";
    case WSANO_DATA:
      return "WSANO_DATA";
    default:
      return "other";
  }
}

}  // namespace wsaf::stress
