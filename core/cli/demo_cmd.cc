// `wsafault demo`: a visible tour of the public API against the embedded DNS server.
#include <arpa/inet.h>

#include <chrono>
#include <functional>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "check/names.h"
#include "commands.h"
#include "dnsserver/dns_server.h"
#include "wsafault/winsock_async.h"

namespace {

constexpr UINT kMsg = WM_USER + 7;

const char* ErrorName(int e) { return e == 0 ? "ok" : wsaf::check::WinsockErrorName(e); }

struct Row {
  std::string call;
  std::string start;
  std::string cancel = "-";
  std::string message = "-";
  std::string result = "-";
};

// Waits (bounded) for the message of `h`; returns false when none came.
bool WaitMessage(HWND w, HANDLE h, MSG* out, int ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (PeekMessage(out, w, kMsg, kMsg, PM_REMOVE)) {
      if (out->wParam == reinterpret_cast<WPARAM>(h)) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

std::string Describe(int kind, const char* buf) {
  char text[160];
  if (kind == 0) {
    auto* h = reinterpret_cast<const hostent*>(buf);
    char addr[64] = "";
    if (h->h_addr_list[0] != nullptr) inet_ntop(h->h_addrtype, h->h_addr_list[0], addr, sizeof(addr));
    int n = 0;
    while (h->h_addr_list[n] != nullptr) ++n;
    std::snprintf(text, sizeof(text), "%s %s (%d addr)", h->h_name, addr, n);
  } else if (kind == 1) {
    auto* s = reinterpret_cast<const servent*>(buf);
    std::snprintf(text, sizeof(text), "%s %d/%s", s->s_name, ntohs(static_cast<uint16_t>(s->s_port)),
                  s->s_proto);
  } else {
    auto* p = reinterpret_cast<const protoent*>(buf);
    std::snprintf(text, sizeof(text), "%s %d", p->p_name, p->p_proto);
  }
  return text;
}

// Starts one lookup, optionally cancels it at a chosen moment, and records what happened.
struct Case {
  std::string call;
  int kind;  // 0 hostent, 1 servent, 2 protoent
  std::function<HANDLE(HWND, char*, int)> start;
  enum { kNoCancel, kCancelAtOnce, kCancelQueued, kCancelDispatched } cancel = kNoCancel;
  int buflen = MAXGETHOSTSTRUCT;
};

Row RunCase(HWND w, const Case& c) {
  Row row;
  row.call = c.call;
  std::vector<char> buf(MAXGETHOSTSTRUCT);
  HANDLE h = c.start(w, buf.data(), c.buflen);
  if (h == nullptr) {
    row.start = std::string("fail ") + ErrorName(WSAGetLastError());
    return row;
  }
  char hs[32];
  std::snprintf(hs, sizeof(hs), "%#llx", static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(h)));
  row.start = hs;
  auto cancel = [&] {
    int rc = WSACancelAsyncRequest(h);
    row.cancel = rc == 0 ? "0 (won)" : std::string(ErrorName(WSAGetLastError()));
  };
  if (c.cancel == Case::kCancelAtOnce) cancel();
  if (c.cancel == Case::kCancelQueued) {
    MSG peek;
    for (int i = 0; i < 2000 && !PeekMessage(&peek, w, kMsg, kMsg, PM_NOREMOVE); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    cancel();
  }
  MSG m{};
  bool got = WaitMessage(w, h, &m, c.cancel == Case::kCancelAtOnce ? 800 : 3000);
  if (!got) {
    row.message = "none";
    return row;
  }
  int err = WSAGETASYNCERROR(m.lParam);
  row.message = std::string(ErrorName(err)) + " len " + std::to_string(WSAGETASYNCBUFLEN(m.lParam));
  if (err == 0) row.result = Describe(c.kind, buf.data());
  if (c.cancel == Case::kCancelDispatched) cancel();
  return row;
}

std::vector<Case> Cases() {
  static const char kAddr[4] = {10, 0, 0, 1};
  std::vector<Case> cases = {
      {"GetHostByName host1.test", 0, [](HWND w, char* b, int n) { return WSAAsyncGetHostByName(w, kMsg, "host1.test", b, n); }},
      {"GetHostByName alias2.test (CNAME)", 0, [](HWND w, char* b, int n) { return WSAAsyncGetHostByName(w, kMsg, "alias2.test", b, n); }},
      {"GetHostByName 10.9.8.7 (numeric)", 0, [](HWND w, char* b, int n) { return WSAAsyncGetHostByName(w, kMsg, "10.9.8.7", b, n); }},
      {"GetHostByAddr 10.0.0.1", 0, [](HWND w, char* b, int n) { return WSAAsyncGetHostByAddr(w, kMsg, kAddr, 4, AF_INET, b, n); }},
      {"GetServByName http/tcp", 1, [](HWND w, char* b, int n) { return WSAAsyncGetServByName(w, kMsg, "http", "tcp", b, n); }},
      {"GetServByPort 22/tcp", 1, [](HWND w, char* b, int n) { return WSAAsyncGetServByPort(w, kMsg, htons(22), "tcp", b, n); }},
      {"GetProtoByName udp", 2, [](HWND w, char* b, int n) { return WSAAsyncGetProtoByName(w, kMsg, "udp", b, n); }},
      {"GetProtoByNumber 6", 2, [](HWND w, char* b, int n) { return WSAAsyncGetProtoByNumber(w, kMsg, 6, b, n); }},
      {"GetHostByName nosuch.test", 0, [](HWND w, char* b, int n) { return WSAAsyncGetHostByName(w, kMsg, "nosuch.test", b, n); }},
      {"GetHostByName v6only.test", 0, [](HWND w, char* b, int n) { return WSAAsyncGetHostByName(w, kMsg, "v6only.test", b, n); }},
      {"GetHostByName big.test (120 addr)", 0, [](HWND w, char* b, int n) { return WSAAsyncGetHostByName(w, kMsg, "big.test", b, n); }},
      {"GetServByName nosuch", 1, [](HWND w, char* b, int n) { return WSAAsyncGetServByName(w, kMsg, "nosuch", nullptr, b, n); }},
      {"GetHostByName NULL name", 0, [](HWND w, char* b, int n) { return WSAAsyncGetHostByName(w, kMsg, nullptr, b, n); }},
      {"GetHostByName size query (NULL, 0)", 0, [](HWND w, char*, int) { return WSAAsyncGetHostByName(w, kMsg, "multi.test", nullptr, 0); }},
  };
  Case won{"GetHostByName host2.test, cancel at once", 0, [](HWND w, char* b, int n) { return WSAAsyncGetHostByName(w, kMsg, "host2.test", b, n); }};
  won.cancel = Case::kCancelAtOnce;
  Case queued{"GetHostByName 10.1.2.3, cancel when queued", 0, [](HWND w, char* b, int n) { return WSAAsyncGetHostByName(w, kMsg, "10.1.2.3", b, n); }};
  queued.cancel = Case::kCancelQueued;
  Case dispatched{"GetProtoByNumber 17, cancel after dispatch", 2, [](HWND w, char* b, int n) { return WSAAsyncGetProtoByNumber(w, kMsg, 17, b, n); }};
  dispatched.cancel = Case::kCancelDispatched;
  cases.push_back(won);
  cases.push_back(queued);
  cases.push_back(dispatched);
  return cases;
}

}  // namespace

int RunDemoCommand(int argc, char** argv) {
  std::string zone_path = "corpus/zones/test.zone";
  std::string netbase_dir = "corpus/netbase";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--zone" && i + 1 < argc) zone_path = argv[++i];
    else if (a == "--netbase-dir" && i + 1 < argc) netbase_dir = argv[++i];
    else {
      std::fprintf(stderr, "usage: wsafault demo [--zone FILE] [--netbase-dir DIR]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  wsaf::dns::Zone zone;
  std::string error;
  if (!wsaf::dns::LoadZoneFile(zone_path, &zone, &error)) {
    std::fprintf(stderr, "demo: cannot load zone %s: %s\n", zone_path.c_str(), error.c_str());
    return 2;
  }
  wsaf::dns::Server server(std::move(zone));
  if (!server.Start(0, &error)) {
    std::fprintf(stderr, "demo: cannot start the DNS server: %s\n", error.c_str());
    return 1;
  }
  std::string services = netbase_dir + "/services", protocols = netbase_dir + "/protocols";
  if (wsaf_set_dns_servers(server.ServersCsv().c_str()) != 0 ||
      wsaf_set_netbase_files(services.c_str(), protocols.c_str()) != 0) {
    std::fprintf(stderr, "demo: cannot configure the resolver (netbase files in %s?)\n", netbase_dir.c_str());
    return 2;
  }
  wsaf_set_dns_timeout(500, 1);
  WSADATA data;
  if (int rc = WSAStartup(MAKEWORD(2, 2), &data)) {
    std::fprintf(stderr, "demo: WSAStartup failed: %d\n", rc);
    return 1;
  }
  std::printf("embedded DNS server on %s; %s\n\n", server.ServersCsv().c_str(), data.szDescription);
  HWND w = wsaf_create_window();
  std::printf("%-44s %-18s %-12s %-24s %s\n", "call", "start", "cancel", "message", "result");
  for (const Case& c : Cases()) {
    bool slow = c.cancel == Case::kCancelAtOnce;
    if (slow) server.SetFault(wsaf::dns::Fault::kDelay, 300);  // keep it pending for the cancel
    Row r = RunCase(w, c);
    if (slow) server.SetFault(wsaf::dns::Fault::kNone);
    std::printf("%-44s %-18s %-12s %-24s %s\n", r.call.c_str(), r.start.c_str(), r.cancel.c_str(),
                r.message.c_str(), r.result.c_str());
  }
  int rc = WSACancelAsyncRequest(nullptr);
  std::printf("%-44s %-18s %-12s\n", "WSACancelAsyncRequest(0)", "-",
              rc == 0 ? "0" : ErrorName(WSAGetLastError()));
  DestroyWindow(w);
  WSACleanup();
  rc = WSACancelAsyncRequest(reinterpret_cast<HANDLE>(1));
  std::printf("%-44s %-18s %-12s\n", "cancel after the final WSACleanup", "-",
              rc == 0 ? "0" : ErrorName(WSAGetLastError()));
  wsaf::dns::ServerStats st = server.stats();
  std::printf("\nDNS server: %llu UDP queries, %llu TCP queries, %llu answered\n",
              static_cast<unsigned long long>(st.udp_queries),
              static_cast<unsigned long long>(st.tcp_queries),
              static_cast<unsigned long long>(st.answered));
  return 0;
}
