// The cases of handle values and of the order of the error checks (issue 12, item 4).
//   zero-handle-valid: handle 0 names nothing, even while requests are live (Wine: index 0 is
//     never issued, but a table that decodes 0 like any handle would cancel or answer for slot 0);
//   sixteen-bit-handles: handles are nonzero and never repeat past 65,536 requests (Wine's are
//     LOWORD of a counter); on a target with kMaxRequests the table is limited to one slot, so
//     every request reuses the same slot and a generation that wraps at 2^16 shows;
//   wrong-error-order: SPEC.md's order, not initialised, then network down, then the handle or
//     argument (WSAEINVAL, WSAEFAULT).
#include <map>
#include <string>
#include <thread>

#include "cases.h"
#include "target.h"

namespace wsaf_peer {
namespace {

CaseResult Done(Verdict v, std::string detail, History* h = nullptr) {
  CaseResult r;
  r.verdict = v;
  r.detail = std::move(detail);
  if (h) r.history = h->Take();
  return r;
}

std::string CancelText(int rc, int err) {
  return rc == 0 ? "0" : "SOCKET_ERROR, " + ErrorName(err);
}

// Live requests (queued, not yet pumped) while WSACancelAsyncRequest(0) is asked twice.
CaseResult ZeroHandleValid() {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  constexpr int kLive = 8;
  static CanaryBuffer bufs[kLive];
  HANDLE reqs[kLive] = {};
  for (int i = 0; i < kLive; ++i) {
    reqs[i] = WSAAsyncGetHostByName(w, kMsg, "10.9.8.7", bufs[i].data(), bufs[i].size());
    if (reqs[i] == nullptr) {
      h.Add("t0 WSAAsyncGetHostByName #" + std::to_string(i + 1) + " -> 0, " +
            ErrorName(WSAGetLastError()));
      return Done(Verdict::kViolated, "a start returned handle 0 (the failure value)", &h);
    }
  }
  h.Add("t0 " + std::to_string(kLive) + " WSAAsyncGetHostByName(10.9.8.7), first " +
        HandleText(reqs[0]) + ", every handle nonzero");
  WSASetLastError(0);
  int rc1 = WSACancelAsyncRequest(nullptr);
  int err1 = WSAGetLastError();
  h.Add("t0 WSACancelAsyncRequest(0) at once -> " + CancelText(rc1, err1));
  SleepMs(300);  // they complete; their messages wait in the queue
  WSASetLastError(0);
  int rc2 = WSACancelAsyncRequest(nullptr);
  int err2 = WSAGetLastError();
  h.Add("t0 WSACancelAsyncRequest(0) with the messages queued -> " + CancelText(rc2, err2));
  std::vector<Reply> got;
  PumpFor(w, kMsg, 500, &got);
  for (int i = 0; i < 6; ++i) {
    bool all = true;
    for (HANDLE r : reqs) all = all && CountFor(got, r) >= 1;
    if (all) break;
    PumpFor(w, kMsg, 500, &got);
  }
  int missing = 0;
  for (HANDLE r : reqs) missing += CountFor(got, r) != 1;
  h.Add("t0 pumped: " + std::to_string(got.size()) + " message(s), " + std::to_string(missing) +
        " request(s) without exactly one");
  bool inval1 = rc1 == SOCKET_ERROR && err1 == WSAEINVAL;
  bool inval2 = rc2 == SOCKET_ERROR && err2 == WSAEINVAL;
  if (!inval1 || !inval2) {
    return Done(Verdict::kViolated,
                "WSACancelAsyncRequest(0) with live requests answered " +
                    CancelText(inval1 ? rc2 : rc1, inval1 ? err2 : err1) + ", not WSAEINVAL",
                &h);
  }
  if (missing > 0) {
    return Done(Verdict::kViolated,
                std::to_string(missing) + " request(s) not delivered exactly once after cancel(0)", &h);
  }
  return Done(Verdict::kHeld,
              "handle 0 answers WSAEINVAL with requests pending and queued; each delivered once");
}

// 65,536 + 16 requests, every handle nonzero and distinct. Bounded by count and by 90 s.
CaseResult SixteenHandlesRun(bool one_slot) {
  constexpr int kRequests = 65536 + 16;
  constexpr unsigned long long kBoundMs = 90000;
  Session s;
  HWND w = TheTarget().NewWindow();
  DestroyWindow(w);  // no messages: a request whose window is gone completes silently
  std::map<uintptr_t, int> first_seen;
  CanaryBuffer buf(64);  // too small for a protoent: WSAENOBUFS, never written
  unsigned long long end = NowMs() + kBoundMs;
  int started = 0;
  while (started < kRequests) {
    HANDLE req = WSAAsyncGetProtoByNumber(w, kMsg, 6, buf.data(), 8);
    if (req == nullptr) {
      int err = WSAGetLastError();
      if (err != WSAEWOULDBLOCK) {
        return Done(Verdict::kViolated,
                    "request " + std::to_string(started + 1) + " failed: " + ErrorName(err));
      }
      if (NowMs() > end) break;
      std::this_thread::yield();  // the slot is still in use: it is reclaimed in microseconds
      continue;
    }
    ++started;
    uintptr_t v = reinterpret_cast<uintptr_t>(req);
    auto [it, fresh] = first_seen.emplace(v, started);
    if (!fresh) {
      History h;
      h.Add("t0 request #" + std::to_string(it->second) + " WSAAsyncGetProtoByNumber(6) -> " + Hex(v));
      h.Add("t0 request #" + std::to_string(started) + " WSAAsyncGetProtoByNumber(6) -> " + Hex(v) +
            " again");
      return Done(Verdict::kViolated,
                  "handle " + Hex(v) + " repeated: request #" + std::to_string(started) +
                      " got the handle of request #" + std::to_string(it->second) + " (" +
                      std::to_string(started - it->second) + " requests apart" +
                      (one_slot ? ", table limited to one slot" : "") + ")",
                  &h);
    }
    if (NowMs() > end) break;
  }
  if (started < kRequests) {
    return Done(Verdict::kSkipped, "the 90 s bound ended the run after " + std::to_string(started) +
                                       " requests, before 65,537: nothing to judge");
  }
  return Done(Verdict::kHeld, std::to_string(started) + " requests" +
                                  (one_slot ? " through one slot" : "") +
                                  ", every handle nonzero and distinct");
}

CaseResult SixteenBitHandles() {
  // Outside a session (wsafault refuses the control during one).
  bool one_slot = TheTarget().Has(kMaxRequests) && TheTarget().SetMaxRequests(1);
  CaseResult r = SixteenHandlesRun(one_slot);
  if (one_slot) TheTarget().SetMaxRequests(0);  // 0: back to the default
  return r;
}

// One check of the order: `got` must fail with `want`.
struct OrderCheck {
  std::string what;
  bool failed;
  int err;
  int want;
};

std::string OrderText(const OrderCheck& c) {
  return c.what + " -> " + (c.failed ? ErrorName(c.err) : std::string("success")) +
         " (SPEC: " + ErrorName(c.want) + ")";
}

// SPEC.md: not initialised first, then network down, then the handle (WSAEINVAL) or the
// argument (WSAEFAULT). Starts get a negative length (WSAEFAULT once the session and network
// checks pass) rather than a NULL pointer, so a peer that skips the argument check does not
// crash before the order is seen; this runs in a child process all the same.
CaseResult WrongErrorOrder() {
  HWND w = TheTarget().NewWindow();
  History h;
  std::vector<OrderCheck> checks;
  char buf[MAXGETHOSTSTRUCT];
  auto cancel = [&](const std::string& what, HANDLE handle, int want) {
    WSASetLastError(0);
    int rc = WSACancelAsyncRequest(handle);
    checks.push_back({what, rc == SOCKET_ERROR, WSAGetLastError(), want});
  };
  auto start = [&](const std::string& what, int want) {
    WSASetLastError(0);
    HANDLE req = WSAAsyncGetHostByName(w, kMsg, "host1.test", buf, -1);
    checks.push_back({what, req == nullptr, WSAGetLastError(), want});
    if (req != nullptr) WSACancelAsyncRequest(req);
  };
  cancel("no session: WSACancelAsyncRequest(0)", nullptr, WSANOTINITIALISED);
  cancel("no session: WSACancelAsyncRequest(0x7ead1234)", reinterpret_cast<HANDLE>(uintptr_t{0x7ead1234}),
         WSANOTINITIALISED);
  start("no session: WSAAsyncGetHostByName(buflen=-1)", WSANOTINITIALISED);
  bool down = TheTarget().Has(kNetworkDown);
  if (down) {
    TheTarget().SetNetworkDown(true);
    cancel("no session, network down: WSACancelAsyncRequest(0)", nullptr, WSANOTINITIALISED);
    start("no session, network down: WSAAsyncGetHostByName(buflen=-1)", WSANOTINITIALISED);
  }
  {
    Session s;
    if (down) {
      cancel("session, network down: WSACancelAsyncRequest(0)", nullptr, WSAENETDOWN);
      start("session, network down: WSAAsyncGetHostByName(buflen=-1)", WSAENETDOWN);
      TheTarget().SetNetworkDown(false);
    }
    cancel("session: WSACancelAsyncRequest(0)", nullptr, WSAEINVAL);
    start("session: WSAAsyncGetHostByName(buflen=-1)", WSAEFAULT);
  }
  const OrderCheck* bad = nullptr;
  for (const OrderCheck& c : checks) {
    h.Add("t0 " + OrderText(c));
    if (bad == nullptr && !(c.failed && c.err == c.want)) bad = &c;
  }
  if (bad != nullptr) return Done(Verdict::kViolated, OrderText(*bad), &h);
  return Done(Verdict::kHeld,
              std::to_string(checks.size()) + " checks in SPEC.md's order" +
                  (down ? "" : " (network-down steps skipped: " + std::string(TheTarget().Name()) +
                                   " has no network-down control)"));
}

}  // namespace

void AddHandleCases(std::vector<Case>* out) {
  const RuleKind W = RuleKind::kWinsock;
  out->push_back({"zero-handle-valid", "handle 0 is invalid (WSAEINVAL) while requests are live",
                  "WSACancelAsyncRequest(h)", W, false, "WSACancelAsyncRequest(0)", ZeroHandleValid});
  out->push_back({"sixteen-bit-handles", "handles never repeat past 65,536 requests (one slot where possible)",
                  "Starting a request", W, false, "WSAAsyncGetProtoByNumber", SixteenBitHandles});
  out->push_back({"wrong-error-order", "not initialised, then network down, then handle/argument",
                  "Starting a request", W, true, "WSACancelAsyncRequest / WSAAsyncGetHostByName",
                  WrongErrorOrder});
}

}  // namespace wsaf_peer
