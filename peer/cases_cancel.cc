// The cases of WSACancelAsyncRequest, of handles and of the last WSACleanup.
#include <map>
#include <string>

#include "cases.h"
#include "target.h"

namespace wsaf_peer {
namespace {

constexpr int kSettleMs = 1500;
constexpr UINT kMarker = WM_USER + 8;  // long enough for any lookup of our zone to have delivered

CaseResult Fail(Verdict v, std::string detail, History* h) {
  CaseResult r;
  r.verdict = v;
  r.detail = std::move(detail);
  if (h) r.history = h->Take();
  return r;
}

std::string CancelText(int rc) {
  return rc == 0 ? "0" : "SOCKET_ERROR, " + ErrorName(WSAGetLastError());
}

// Cancel at once; if it answered 0, no message and no byte may follow.
CaseResult CancelPending() {
  Session s;
  HWND w = TheTarget().NewWindow();
  for (int attempt = 0; attempt < 20; ++attempt) {
    History h;
    auto* buf = new CanaryBuffer();  // leaked on purpose: a late write must land in live memory
    HANDLE req = WSAAsyncGetHostByName(w, kMsg, "host1.test", buf->data(), buf->size());
    h.Add("t0 WSAAsyncGetHostByName(host1.test, buffer of 1024) -> " + HandleText(req));
    int rc = WSACancelAsyncRequest(req);
    h.Add("t0 WSACancelAsyncRequest(" + HandleText(req) + ") -> " + CancelText(rc));
    if (rc != 0) {
      std::vector<Reply> drained;
      PumpFor(w, kMsg, 200, &drained);
      continue;  // it completed first; try again
    }
    std::vector<Reply> after;
    PumpFor(w, kMsg, kSettleMs, &after);
    int changed = buf->FirstChanged();
    int n = CountFor(after, req);
    if (n > 0 || changed >= 0) {
      for (const Reply& r : after) {
        if (r.handle == req) {
          h.Add("t0 message for " + HandleText(req) + ": error " + ErrorName(r.error) +
                ", buflen " + std::to_string(r.buflen));
        }
      }
      if (changed >= 0) h.Add("byte " + std::to_string(changed) + " of the buffer changed");
      return Fail(Verdict::kViolated,
                  "WSACancelAsyncRequest answered 0, then " + std::to_string(n) +
                      " message(s) came and the buffer was " +
                      (changed >= 0 ? "written" : "not written"),
                  &h);
    }
    CaseResult r;
    r.detail = "a cancel that answered 0 was followed by no message and no write (" +
               std::to_string(kSettleMs) + " ms)";
    return r;
  }
  CaseResult r;
  r.verdict = Verdict::kSkipped;
  r.detail = "every cancel of 20 lost the race to completion: nothing to judge";
  return r;
}

// A cancel must name an issued, live request.
CaseResult CancelBadHandle(HANDLE bad, const char* what) {
  Session s;
  History h;
  WSASetLastError(0);
  int rc = WSACancelAsyncRequest(bad);
  int err = WSAGetLastError();
  h.Add(std::string("t0 WSACancelAsyncRequest(") + what + ") -> " + CancelText(rc));
  if (rc == SOCKET_ERROR && err == WSAEINVAL) {
    CaseResult r;
    r.detail = std::string("a cancel of ") + what + " answers WSAEINVAL";
    return r;
  }
  return Fail(Verdict::kViolated,
              std::string("a cancel of ") + what + " answered " +
                  (rc == 0 ? std::string("0 (success)") : ErrorName(err)) + ", not WSAEINVAL",
              &h);
}

CaseResult CancelZero() { return CancelBadHandle(nullptr, "handle 0"); }
CaseResult CancelNeverIssued() {
  return CancelBadHandle(reinterpret_cast<HANDLE>(uintptr_t{0x7ead1234}),
                         "0x7ead1234, never issued");
}

// Start, wait until the message is queued, then cancel: WSAEALREADY, and one delivery.
CaseResult CancelQueued() {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  CanaryBuffer buf;
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, "10.9.8.7", buf.data(), buf.size());
  h.Add("t0 WSAAsyncGetHostByName(10.9.8.7) -> " + HandleText(req));
  MSG m;
  unsigned long long end = NowMs() + 5000;
  bool queued = false;
  while (NowMs() < end) {
    if (PeekMessage(&m, w, kMsg, kMsg, PM_NOREMOVE)) {
      queued = true;
      break;
    }
    SleepMs(1);
  }
  if (!queued) return Fail(Verdict::kViolated, "the request never delivered (5 s)", &h);
  h.Add("t0 PeekMessage(PM_NOREMOVE): its message is queued");
  WSASetLastError(0);
  int rc = WSACancelAsyncRequest(req);
  int err = WSAGetLastError();
  h.Add("t0 WSACancelAsyncRequest(" + HandleText(req) + ") -> " + CancelText(rc));
  std::vector<Reply> got;
  PumpFor(w, kMsg, 300, &got);
  int n = CountFor(got, req);
  h.Add("t0 pumped: " + std::to_string(n) + " message(s) for it");
  if (rc == SOCKET_ERROR && err == WSAEALREADY && n == 1) {
    CaseResult r;
    r.detail = "a cancel while the message is queued answers WSAEALREADY; it is delivered once";
    return r;
  }
  return Fail(Verdict::kViolated,
              "a cancel while the message was queued answered " +
                  (rc == 0 ? std::string("0 (success)") : ErrorName(err)) +
                  ", not WSAEALREADY; messages delivered: " + std::to_string(n),
              &h);
}

// Cancel twice before anything completes: the second is WSAEINVAL (already canceled) unless
// the request completed in between (then WSAEALREADY).
CaseResult CancelTwice() {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  auto* buf = new CanaryBuffer();  // leaked on purpose, as in CancelPending
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, "host2.test", buf->data(), buf->size());
  h.Add("t0 WSAAsyncGetHostByName(host2.test) -> " + HandleText(req));
  int rc1 = WSACancelAsyncRequest(req);
  h.Add("t0 WSACancelAsyncRequest -> " + CancelText(rc1));
  WSASetLastError(0);
  int rc2 = WSACancelAsyncRequest(req);
  int err2 = WSAGetLastError();
  h.Add("t0 WSACancelAsyncRequest again -> " + CancelText(rc2));
  std::vector<Reply> got;
  PumpFor(w, kMsg, 300, &got);
  if (rc1 == 0 && rc2 == 0) {
    return Fail(Verdict::kViolated, "two cancels of one request both answered 0", &h);
  }
  if (rc1 == 0 && !(rc2 == SOCKET_ERROR && err2 == WSAEINVAL)) {
    return Fail(Verdict::kViolated, "the second cancel answered " + ErrorName(err2), &h);
  }
  CaseResult r;
  r.detail = rc1 == 0 ? "the second cancel answers WSAEINVAL" : "the first cancel lost (completed)";
  return r;
}

// Handles are nonzero and never repeat: start many short requests, pumping as we go.
// The window is destroyed before the first start: the handles are all this case reads, and a
// request whose window is gone completes without a message (no pumping, no queue to fill),
// which is what lets 65,536 requests fit in seconds under Wine.
CaseResult HandlesUnique() {
  Session s;
  HWND w = TheTarget().NewWindow();
  DestroyWindow(w);
  std::map<uintptr_t, int> first_seen;
  CanaryBuffer buf(64);  // too small for any protoent: answered WSAENOBUFS, never written
  int total = Knobs().handle_requests;
  for (int i = 1; i <= total; ++i) {
    HANDLE req = WSAAsyncGetProtoByNumber(w, kMsg, 6, buf.data(), 8);
    uintptr_t v = reinterpret_cast<uintptr_t>(req);
    if (req == nullptr) {
      if (WSAGetLastError() == WSAEWOULDBLOCK) {
        --i;  // the table is full for a moment: wait for it to reclaim
        SleepMs(1);
        continue;
      }
      return Fail(Verdict::kViolated, "request " + std::to_string(i) + " failed: " +
                                          ErrorName(WSAGetLastError()), nullptr);
    }
    auto [it, fresh] = first_seen.emplace(v, i);
    if (!fresh) {
      History h;
      h.Add("t0 request #" + std::to_string(it->second) + " WSAAsyncGetProtoByNumber(6) -> " +
            Hex(v));
      h.Add("t0 request #" + std::to_string(i) + " WSAAsyncGetProtoByNumber(6) -> " + Hex(v) +
            " again");
      return Fail(Verdict::kViolated,
                  "handle " + Hex(v) + " repeated: request #" + std::to_string(i) +
                      " got the handle of request #" + std::to_string(it->second) + " (" +
                      std::to_string(i - it->second) + " requests apart)",
                  &h);
    }
  }
  CaseResult r;
  r.detail = std::to_string(total) + " requests, every handle nonzero and distinct";
  return r;
}

// The last WSACleanup cancels everything: after it returns, no message and no buffer write.
// Messages already queued when it returned are not judged; a round in which every request had
// delivered before the cleanup proves nothing, so it is retried with more requests.
CaseResult CleanupCancels() {
  HWND w = TheTarget().NewWindow();
  for (int requests = 64; requests <= 1024; requests *= 2) {
    WSADATA d;
    if (WSAStartup(MAKEWORD(2, 2), &d) != 0) return Fail(Verdict::kError, "WSAStartup failed", nullptr);
    std::vector<CanaryBuffer*> bufs;
    std::vector<HANDLE> reqs;
    History h;
    for (int i = 0; i < requests; ++i) {
      bufs.push_back(new CanaryBuffer());  // leaked on purpose: late writes land in live memory
      const char* name = (i % 2) ? "multi.test" : "host1.test";
      reqs.push_back(WSAAsyncGetHostByName(w, kMsg, name, bufs.back()->data(), bufs.back()->size()));
    }
    h.Add("t0 started " + std::to_string(requests) + " host lookups, first " + HandleText(reqs[0]));
    WSACleanup();
    // Posted messages keep their order: whatever follows this marker was posted after the
    // last WSACleanup returned.
    PostMessage(w, kMarker, 0, 0);
    std::vector<std::vector<char>> snapshot;
    for (CanaryBuffer* b : bufs) snapshot.emplace_back(b->data(), b->data() + b->size());
    std::vector<Reply> before, after;
    bool past_marker = false;
    MSG m;
    unsigned long long end = NowMs() + kSettleMs;
    while (NowMs() < end) {
      if (!PeekMessage(&m, w, 0, 0, PM_REMOVE)) {
        SleepMs(2);
        continue;
      }
      if (m.message == kMarker) past_marker = true;
      if (m.message != kMsg) continue;
      Reply r;
      r.handle = reinterpret_cast<HANDLE>(m.wParam);
      r.error = WSAGETASYNCERROR(m.lParam);
      (past_marker ? after : before).push_back(r);
    }
    h.Add("t0 WSACleanup (the last) returned; " + std::to_string(before.size()) +
          " message(s) already queued, not judged");
    int written = 0;
    for (size_t i = 0; i < bufs.size(); ++i) {
      written += std::vector<char>(bufs[i]->data(), bufs[i]->data() + bufs[i]->size()) != snapshot[i];
    }
    if (!after.empty() || written > 0) {
      h.Add("t0 message for " + HandleText(after.empty() ? nullptr : after[0].handle) +
            " after the cleanup: error " + ErrorName(after.empty() ? 0 : after[0].error));
      return Fail(Verdict::kViolated,
                  std::to_string(after.size()) + " message(s) delivered and " +
                      std::to_string(written) +
                      " buffer(s) written after the last WSACleanup returned",
                  &h);
    }
    if (int(before.size()) < requests) {
      CaseResult r;
      r.detail = std::to_string(requests - int(before.size())) +
                 " requests outstanding at the last WSACleanup: none delivered or written after";
      return r;
    }
  }
  CaseResult r;
  r.verdict = Verdict::kSkipped;
  r.detail = "every request delivered before the cleanup returned, even 1024: nothing to judge";
  return r;
}

// After the last cleanup every call answers WSANOTINITIALISED first.
CaseResult CancelAfterCleanup() {
  HWND w = TheTarget().NewWindow();
  History h;
  HANDLE req = nullptr;
  {
    Session s;
    CanaryBuffer buf;
    req = WSAAsyncGetHostByName(w, kMsg, "10.9.8.7", buf.data(), buf.size());
    Reply r;
    WaitReply(w, req, 3000, &r);
    h.Add("t0 WSAAsyncGetHostByName(10.9.8.7) -> " + HandleText(req) + ", delivered");
  }
  h.Add("t0 WSACleanup (the last)");
  WSASetLastError(0);
  int rc = WSACancelAsyncRequest(req);
  int err = WSAGetLastError();
  h.Add("t0 WSACancelAsyncRequest(" + HandleText(req) + ") -> " + CancelText(rc));
  if (rc == SOCKET_ERROR && err == WSANOTINITIALISED) {
    CaseResult r;
    r.detail = "a cancel after the last WSACleanup answers WSANOTINITIALISED";
    return r;
  }
  return Fail(Verdict::kViolated,
              "a cancel after the last WSACleanup answered " +
                  (rc == 0 ? std::string("0 (success)") : ErrorName(err)),
              &h);
}

}  // namespace

void AddCancelCases(std::vector<Case>* out) {
  const RuleKind W = RuleKind::kWinsock;
  out->push_back({"cancel-pending", "no message and no buffer byte after a cancel that returned 0",
                  "Lifecycle of one request", W, false, "WSACancelAsyncRequest", CancelPending});
  out->push_back({"cancel-zero", "handle 0 is invalid: WSAEINVAL", "WSACancelAsyncRequest(h)", W,
                  false, "WSACancelAsyncRequest(0)", CancelZero});
  out->push_back({"cancel-never-issued", "a handle never issued: WSAEINVAL",
                  "WSACancelAsyncRequest(h)", W, false, "WSACancelAsyncRequest", CancelNeverIssued});
  out->push_back({"cancel-queued", "WSAEALREADY while the message is queued; delivered once",
                  "WSACancelAsyncRequest(h)", W, false, "WSACancelAsyncRequest", CancelQueued});
  out->push_back({"cancel-twice", "an already canceled request: WSAEINVAL",
                  "WSACancelAsyncRequest(h)", W, false, "WSACancelAsyncRequest", CancelTwice});
  out->push_back({"handles-unique", "handles nonzero and never repeated", "Starting a request",
                  W, false, "WSAAsyncGetProtoByNumber", HandlesUnique});
  out->push_back({"cleanup-cancels", "the last WSACleanup cancels without messages or writes",
                  "WSAStartup / WSACleanup", W, false, "WSACleanup", CleanupCancels});
  out->push_back({"cancel-after-cleanup", "WSANOTINITIALISED first, after the last WSACleanup",
                  "WSACancelAsyncRequest(h)", W, false, "WSACancelAsyncRequest",
                  CancelAfterCleanup});
}

}  // namespace wsaf_peer
