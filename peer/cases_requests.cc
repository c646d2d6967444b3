// The cases of starting a request, of its message and buffer, and of WSAStartup/WSACleanup.
#include <atomic>
#include <cstring>
#include <string>
#include <thread>

#include "cases.h"
#include "target.h"

namespace wsaf_peer {
namespace {

CaseResult Held(std::string detail) {
  CaseResult r;
  r.detail = std::move(detail);
  return r;
}

CaseResult Bad(Verdict v, std::string detail, History* h = nullptr) {
  CaseResult r;
  r.verdict = v;
  r.detail = std::move(detail);
  if (h) r.history = h->Take();
  return r;
}

std::string StartText(HANDLE h) {
  return h ? HandleText(h) : "0, " + ErrorName(WSAGetLastError());
}

// A start must fail with `want`; a handle instead is a violation.
CaseResult ExpectStartFails(HANDLE req, int want, const std::string& call, History* h, HWND w) {
  int err = WSAGetLastError();
  h->Add("t0 " + call + " -> " + StartText(req));
  if (req == nullptr && err == want) return Held(call + " fails with " + ErrorName(want));
  if (req != nullptr) {
    Reply r;
    if (WaitReply(w, req, 1000, &r)) {
      h->Add("t0 message for " + HandleText(req) + ": error " + ErrorName(r.error));
    }
  }
  return Bad(Verdict::kViolated,
             call + (req ? " returned a handle" : " failed with " + ErrorName(err)) +
                 ", not " + ErrorName(want),
             h);
}

CaseResult StartBeforeStartup() {
  HWND w = TheTarget().NewWindow();
  History h;
  CanaryBuffer buf;
  WSASetLastError(0);
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, "host1.test", buf.data(), buf.size());
  return ExpectStartFails(req, WSANOTINITIALISED, "WSAAsyncGetHostByName before WSAStartup", &h, w);
}

CaseResult NullName() {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  CanaryBuffer buf;
  WSASetLastError(0);
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, nullptr, buf.data(), buf.size());
  return ExpectStartFails(req, WSAEFAULT, "WSAAsyncGetHostByName(name=NULL)", &h, w);
}

CaseResult NullBuffer() {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  WSASetLastError(0);
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, "host1.test", nullptr, MAXGETHOSTSTRUCT);
  return ExpectStartFails(req, WSAEFAULT, "WSAAsyncGetHostByName(buf=NULL, buflen=1024)", &h, w);
}

CaseResult NegativeLength() {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  CanaryBuffer buf;
  WSASetLastError(0);
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, "host1.test", buf.data(), -1);
  return ExpectStartFails(req, WSAEFAULT, "WSAAsyncGetHostByName(buflen=-1)", &h, w);
}

// Decision: a NULL buffer of length 0 is a size query answered WSAENOBUFS with the size.
CaseResult SizeQuery() {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, "host1.test", nullptr, 0);
  h.Add("t0 WSAAsyncGetHostByName(host1.test, NULL, 0) -> " + StartText(req));
  Reply r;
  if (!req) return Bad(Verdict::kDiffers, "the size query was refused", &h);
  if (!WaitReply(w, req, 3000, &r)) return Bad(Verdict::kViolated, "no message (3 s)", &h);
  h.Add("t0 message: error " + ErrorName(r.error) + ", buflen " + std::to_string(r.buflen));
  if (r.error == WSAENOBUFS && r.buflen > 0) {
    return Held("answered WSAENOBUFS with the size needed (" + std::to_string(r.buflen) + ")");
  }
  return Bad(Verdict::kDiffers, "answered " + ErrorName(r.error), &h);
}

CaseResult TooSmall() {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  CanaryBuffer buf(20);
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, "host1.test", buf.data(), buf.size());
  h.Add("t0 WSAAsyncGetHostByName(host1.test, buffer of 20) -> " + StartText(req));
  Reply r;
  if (!req || !WaitReply(w, req, 3000, &r)) return Bad(Verdict::kViolated, "no message", &h);
  h.Add("t0 message: error " + ErrorName(r.error) + ", buflen " + std::to_string(r.buflen));
  if (r.error != WSAENOBUFS || r.buflen <= 20) {
    return Bad(Verdict::kViolated, "a 20-byte buffer got " + ErrorName(r.error), &h);
  }
  if (buf.FirstChanged() >= 0) {
    return Bad(Verdict::kDiffers, "WSAENOBUFS, but the buffer was written", &h);
  }
  return Held("WSAENOBUFS with the size needed (" + std::to_string(r.buflen) +
              "), the buffer untouched");
}

// host1.test through the peer's resolver: the answer of our zone, packed inside the buffer.
CaseResult LookupAnswer(bool judge_alignment) {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  alignas(16) static char buf[MAXGETHOSTSTRUCT];
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, "alias.test", buf, sizeof buf);
  h.Add("t0 WSAAsyncGetHostByName(alias.test) -> " + StartText(req));
  Reply r;
  if (!req || !WaitReply(w, req, 5000, &r)) return Bad(Verdict::kViolated, "no message (5 s)", &h);
  h.Add("t0 message: error " + ErrorName(r.error) + ", buflen " + std::to_string(r.buflen));
  if (r.error != 0) return Bad(Verdict::kViolated, "alias.test failed: " + ErrorName(r.error), &h);
  const hostent* he = reinterpret_cast<const hostent*>(buf);
  auto inside = [&](const void* p) {
    return p >= static_cast<const void*>(buf) && p < static_cast<const void*>(buf + r.buflen);
  };
  if (!inside(he->h_name) || !inside(he->h_aliases) || !inside(he->h_addr_list) ||
      !inside(he->h_addr_list[0])) {
    return Bad(Verdict::kViolated, "a pointer of the hostent points outside [buf, buf+buflen)", &h);
  }
  unsigned char a[4];
  std::memcpy(a, he->h_addr_list[0], 4);
  std::string ip = std::to_string(a[0]) + "." + std::to_string(a[1]) + "." +
                   std::to_string(a[2]) + "." + std::to_string(a[3]);
  h.Add("t0 h_name " + std::string(he->h_name) + ", first address " + ip);
  if (judge_alignment) {
    uintptr_t al = reinterpret_cast<uintptr_t>(he->h_aliases);
    uintptr_t ad = reinterpret_cast<uintptr_t>(he->h_addr_list);
    if (al % sizeof(void*) != 0 || ad % sizeof(void*) != 0) {
      return Bad(Verdict::kDiffers,
                 "pointer arrays not aligned for pointers: h_aliases at offset " +
                     std::to_string(al - reinterpret_cast<uintptr_t>(buf)) + ", h_addr_list at " +
                     std::to_string(ad - reinterpret_cast<uintptr_t>(buf)),
                 &h);
    }
    return Held("h_aliases and h_addr_list aligned for pointers");
  }
  if (ip != "10.0.0.1") return Bad(Verdict::kViolated, "alias.test answered " + ip, &h);
  return Held("alias.test -> 10.0.0.1 from our zone, every pointer inside the buffer");
}
CaseResult Answer() { return LookupAnswer(false); }
CaseResult Alignment() { return LookupAnswer(true); }

CaseResult NotFound() {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  CanaryBuffer buf;
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, "nosuch.test", buf.data(), buf.size());
  h.Add("t0 WSAAsyncGetHostByName(nosuch.test) -> " + StartText(req));
  Reply r;
  if (!req || !WaitReply(w, req, 5000, &r)) return Bad(Verdict::kViolated, "no message (5 s)", &h);
  h.Add("t0 message: error " + ErrorName(r.error));
  if (r.error != WSAHOST_NOT_FOUND) {
    return Bad(Verdict::kViolated, "a missing name answered " + ErrorName(r.error), &h);
  }
  if (buf.FirstChanged() >= 0) return Bad(Verdict::kViolated, "a failed lookup wrote the buffer", &h);
  return Held("a missing name answers WSAHOST_NOT_FOUND, the buffer untouched");
}

CaseResult ServiceAndProtocol() {
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  alignas(16) static char sbuf[MAXGETHOSTSTRUCT];
  alignas(16) static char pbuf[MAXGETHOSTSTRUCT];
  HANDLE sr = WSAAsyncGetServByName(w, kMsg, "http", "tcp", sbuf, sizeof sbuf);
  HANDLE pr = WSAAsyncGetProtoByName(w, kMsg, "udp", pbuf, sizeof pbuf);
  h.Add("t0 WSAAsyncGetServByName(http, tcp) -> " + StartText(sr) +
        "; WSAAsyncGetProtoByName(udp) -> " + StartText(pr));
  std::vector<Reply> got;
  if (sr && pr) PumpFor(w, kMsg, 500, &got);
  for (int i = 0; i < 10 && sr && pr && (CountFor(got, sr) == 0 || CountFor(got, pr) == 0); ++i) {
    PumpFor(w, kMsg, 300, &got);
  }
  if (!sr || !pr || CountFor(got, sr) != 1 || CountFor(got, pr) != 1) {
    return Bad(Verdict::kViolated, "not exactly one message each (3 s)", &h);
  }
  Reply a, b;
  for (const Reply& r : got) (r.handle == sr ? a : b) = r;
  h.Add("t0 messages: errors " + ErrorName(a.error) + ", " + ErrorName(b.error));
  const servent* se = reinterpret_cast<const servent*>(sbuf);
  const protoent* pe = reinterpret_cast<const protoent*>(pbuf);
  if (a.error != 0 || b.error != 0 || ntohs(se->s_port) != 80 || pe->p_proto != 17) {
    return Bad(Verdict::kViolated, "http/tcp or udp answered wrong", &h);
  }
  return Held("http/tcp -> port 80 in network byte order, udp -> 17");
}

CaseResult StartupVersions() {
  History h;
  WSADATA d;
  int low = WSAStartup(MAKEWORD(1, 0), &d);
  h.Add("t0 WSAStartup(1.0) -> " + std::to_string(low));
  if (low == 0) WSACleanup();
  int v11 = WSAStartup(MAKEWORD(1, 1), &d);
  WORD got11 = d.wVersion;
  h.Add("t0 WSAStartup(1.1) -> " + std::to_string(v11) + ", wVersion " + Hex(got11));
  if (v11 == 0) WSACleanup();
  int v22 = WSAStartup(MAKEWORD(2, 2), &d);
  WORD got22 = d.wVersion;
  h.Add("t0 WSAStartup(2.2) -> " + std::to_string(v22) + ", wVersion " + Hex(got22));
  if (v22 == 0) WSACleanup();
  int extra = WSACleanup();
  int extra_err = WSAGetLastError();
  h.Add("t0 WSACleanup without a startup -> " + std::to_string(extra));
  if (v11 != 0 || got11 != MAKEWORD(1, 1) || v22 != 0 || got22 != MAKEWORD(2, 2)) {
    return Bad(Verdict::kViolated, "1.1 or 2.2 negotiated wrong", &h);
  }
  if (extra != SOCKET_ERROR || extra_err != WSANOTINITIALISED) {
    return Bad(Verdict::kViolated, "an unmatched WSACleanup did not fail with WSANOTINITIALISED", &h);
  }
  // SPEC.md refuses 1.0, but Microsoft's WSAStartup documents 1.0 among the versions ws2_32
  // accepts: refusing it is wsafault's choice, and a peer that accepts it differs.
  if (low != WSAVERNOTSUPPORTED) {
    return Bad(Verdict::kDiffers, "WSAStartup(1.0) answered " + std::to_string(low) +
                                      " (wsafault refuses it; Microsoft documents 1.0 as accepted)",
               &h);
  }
  return Held("1.0 refused, 1.1 and 2.2 negotiated, an unmatched cleanup fails");
}

CaseResult NullWsadata() {
  History h;
  int rc = WSAStartup(MAKEWORD(2, 2), nullptr);
  h.Add("t0 WSAStartup(2.2, NULL) -> " + std::to_string(rc));
  if (rc == 0) WSACleanup();
  if (rc == WSAEFAULT) return Held("WSAStartup(NULL WSADATA) answers WSAEFAULT");
  return Bad(Verdict::kViolated, "WSAStartup(NULL WSADATA) answered " + std::to_string(rc), &h);
}

// Any Win32 call may overwrite the last error, so between the set and the get each thread
// touches only atomics.
CaseResult LastErrorPerThread() {
  Session s;
  std::atomic<int> stage{0};
  int other = -1;
  std::thread t([&] {
    while (stage.load() != 1) {
    }
    WSASetLastError(5678);
    stage.store(2);
    while (stage.load() != 3) {
    }
    other = WSAGetLastError();
  });
  WSASetLastError(1234);
  stage.store(1);
  while (stage.load() != 2) {
  }
  int mine = WSAGetLastError();
  stage.store(3);
  t.join();
  if (mine == 1234 && other == 5678) return Held("each thread keeps its own last error");
  return Bad(Verdict::kViolated, "last error leaked between threads: main read " +
                                     std::to_string(mine) + ", the other " + std::to_string(other));
}

CaseResult HookInWinsock2() {
  Session s;
  History h;
  WSASetLastError(0);
  FARPROC old = WSASetBlockingHook(nullptr);
  int err = WSAGetLastError();
  h.Add("t0 WSASetBlockingHook in a 2.2 session -> " + Hex(reinterpret_cast<uintptr_t>(old)) +
        ", " + ErrorName(err));
  if (old == nullptr && err == WSAEOPNOTSUPP) return Held("1.1 hooks refused in 2.2 with WSAEOPNOTSUPP");
  return Bad(Verdict::kViolated, "WSASetBlockingHook in a 2.2 session did not fail with WSAEOPNOTSUPP", &h);
}

CaseResult NetworkDown() {
  if (!TheTarget().Has(kNetworkDown)) {
    return Bad(Verdict::kSkipped, std::string(TheTarget().Name()) + " has no network-down control");
  }
  Session s;
  HWND w = TheTarget().NewWindow();
  History h;
  CanaryBuffer buf;
  TheTarget().SetNetworkDown(true);
  WSASetLastError(0);
  HANDLE req = WSAAsyncGetHostByName(w, kMsg, "host1.test", buf.data(), buf.size());
  CaseResult r = ExpectStartFails(req, WSAENETDOWN, "WSAAsyncGetHostByName while down", &h, w);
  TheTarget().SetNetworkDown(false);
  return r;
}

}  // namespace

void AddRequestCases(std::vector<Case>* out) {
  const RuleKind W = RuleKind::kWinsock, D = RuleKind::kDecision;
  out->push_back({"start-before-startup", "WSANOTINITIALISED before WSAStartup", "Starting a request",
                  W, false, "WSAAsyncGetHostByName before WSAStartup", StartBeforeStartup});
  out->push_back({"null-name", "a NULL name fails with WSAEFAULT, no crash", "Starting a request", W,
                  true, "WSAAsyncGetHostByName(name=NULL)", NullName});
  out->push_back({"null-buffer", "a NULL buffer with a nonzero length fails with WSAEFAULT",
                  "Starting a request", W, true, "WSAAsyncGetHostByName(buf=NULL, buflen=1024)",
                  NullBuffer});
  out->push_back({"negative-length", "a negative length fails with WSAEFAULT", "Starting a request",
                  W, true, "WSAAsyncGetHostByName(buflen=-1)", NegativeLength});
  out->push_back({"size-query", "NULL buffer, length 0: WSAENOBUFS with the size", "Starting a request",
                  D, true, "WSAAsyncGetHostByName(buf=NULL, buflen=0)", SizeQuery});
  out->push_back({"too-small", "WSAENOBUFS with the size needed; buffer untouched (Decision)",
                  "The completion message", W, false, "WSAAsyncGetHostByName", TooSmall});
  out->push_back({"answer", "the zone's answer, every pointer inside the buffer",
                  "The completion message", W, false, "WSAAsyncGetHostByName", Answer});
  out->push_back({"alignment", "pointer arrays aligned for pointers", "The completion message", D,
                  false, "WSAAsyncGetHostByName", Alignment});
  out->push_back({"not-found", "a missing name: WSAHOST_NOT_FOUND, buffer untouched",
                  "The completion message", W, false, "WSAAsyncGetHostByName", NotFound});
  out->push_back({"service-protocol", "services and protocols, ports in network byte order",
                  "The completion message", W, false, "WSAAsyncGetServByName", ServiceAndProtocol});
  out->push_back({"startup-versions", "1.0 refused, 1.1/2.2 negotiated, unmatched cleanup fails",
                  "WSAStartup / WSACleanup", W, false, "WSAStartup", StartupVersions});
  out->push_back({"null-wsadata", "a NULL WSADATA fails with WSAEFAULT", "WSAStartup / WSACleanup",
                  W, true, "WSAStartup(2.2, NULL)", NullWsadata});
  out->push_back({"last-error-per-thread", "the last error is per thread", "Threads", W, false,
                  "WSASetLastError", LastErrorPerThread});
  out->push_back({"hook-in-winsock2", "1.1 blocking hooks fail with WSAEOPNOTSUPP in 2.x",
                  "Winsock 1.1 blocking calls", W, false, "WSASetBlockingHook", HookInWinsock2});
  out->push_back({"network-down", "starts fail with WSAENETDOWN while the network is down",
                  "Network down", W, false, "WSAAsyncGetHostByName", NetworkDown});
}

}  // namespace wsaf_peer
