#include "table/completion.h"

#include <ares.h>

#include <cstring>
#include <vector>

#include "resolver/pack.h"
#include "table/mutants.h"

namespace wsaf {

int WinsockErrorFromAres(int status) {
  switch (status) {
    case ARES_SUCCESS: return 0;
    case ARES_ENOTFOUND:
    case ARES_EBADNAME: return WSAHOST_NOT_FOUND;
    case ARES_ENODATA: return WSANO_DATA;
    case ARES_ESERVFAIL:
    case ARES_ETIMEOUT:
    case ARES_ECONNREFUSED:
    case ARES_ECANCELLED:
    case ARES_EDESTRUCTION: return WSATRY_AGAIN;
    default: return WSANO_RECOVERY;  // refused, malformed, unusable
  }
}

LookupAnswer AnswerFromAres(RequestKind kind, int ares_status, const hostent* host) {
  LookupAnswer a;
  a.error = WinsockErrorFromAres(ares_status);
  if (a.error != 0) return a;
  if (host == nullptr) {
    a.error = WSANO_RECOVERY;
  } else if (kind == RequestKind::kHostByName && (host->h_addrtype != AF_INET || host->h_length != 4)) {
    a.error = WSANO_DATA;  // found by dns_reply_fuzzer
  } else {
    a.host = host;
  }
  return a;
}

namespace {

PackResult PackAnswer(const LookupAnswer& a, char* buf, std::size_t len) {
  if (a.host != nullptr) return PackHostent(*a.host, buf, len);
  if (a.serv != nullptr) return PackServent(*a.serv, buf, len);
  if (a.proto != nullptr) return PackProtoent(*a.proto, buf, len);
  return {false, 0};
}

// The planted overrun: a size check short by one pointer, then the whole result copied.
bool OverrunMutant(const LookupAnswer& a, const Request& r, std::size_t* used) {
  PackResult need = PackAnswer(a, nullptr, 0);
  std::size_t len = static_cast<std::size_t>(r.buflen);
  if (r.buf == nullptr || need.size <= len || need.size > len + sizeof(void*)) return false;
  std::vector<char> tmp(need.size);
  PackAnswer(a, tmp.data(), tmp.size());
  std::memcpy(r.buf, tmp.data(), tmp.size());
  *used = need.size;
  return true;
}

// Fills the buffer (when the answer fits) and returns the message's lParam.
LPARAM WriteResult(const LookupAnswer& a, const Request& r, int error) {
  if (error != 0) return WSAMAKEASYNCREPLY(0, error);
  std::size_t used = 0;
  if (WSAF_MUTANT(kBufferOverrun) && OverrunMutant(a, r, &used)) {
    return WSAMAKEASYNCREPLY(used, 0);
  }
  PackResult need = PackAnswer(a, nullptr, 0);
  if (need.size == 0) return WSAMAKEASYNCREPLY(0, WSANO_RECOVERY);
  if (r.buf == nullptr || need.size > static_cast<std::size_t>(r.buflen)) {
    return WSAMAKEASYNCREPLY(need.size, WSAENOBUFS);
  }
  seam::Point(seam::Site::kBufferWrite);
  PackResult done = PackAnswer(a, r.buf, static_cast<std::size_t>(r.buflen));
  return WSAMAKEASYNCREPLY(done.size, 0);
}

}  // namespace

void DeliverAnswer(TaskTable& table, WindowRegistry& windows, const seam::Atomic<bool>& network_down,
                   uint64_t handle, const LookupAnswer& answer) {
  uint32_t index = TaskTable::IndexOf(handle);
  if (WSAF_MUTANT(kWriteAfterCancel) && answer.error == 0) {
    WriteResult(answer, table.RequestOf(index), 0);  // the bug: written before the decision
  }
  if (!table.TryBeginCommit(handle)) {
    table.ReclaimCanceled(index);
    return;
  }
  const Request& r = table.RequestOf(index);
  std::shared_ptr<Window> window = windows.Find(r.hwnd);
  if (window == nullptr) {
    table.FinishDone(handle);  // the window is gone: complete silently
    return;
  }
  int error = network_down.load(std::memory_order_acquire) ? WSAENETDOWN : answer.error;
  if (error == WSAENETDOWN && WSAF_MUTANT(kNetworkDownDrops)) {
    table.FinishDone(handle);  // the planted bug: the request vanishes
    return;
  }
  MSG msg{};
  msg.hwnd = r.hwnd;
  msg.message = r.msg;
  msg.wParam = static_cast<WPARAM>(handle);
  msg.lParam = WriteResult(answer, r, error);
  switch (window->PostCompletion(msg, handle)) {
    case Window::PostResult::kPosted:
    case Window::PostResult::kDeferred:  // the window posts it when a pump makes room
      return;
    case Window::PostResult::kGone:
    case Window::PostResult::kAborted:
      table.FinishDone(handle);
      return;
  }
}

}  // namespace wsaf
