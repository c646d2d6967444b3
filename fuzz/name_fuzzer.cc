// name_fuzzer: names, addresses and argument combinations through the six start functions of
// the public API, against the production engine (c-ares backend, resolver thread).
//
// Each input is one session: WSAStartup, a window, up to kMaxOps operations read from the
// input, the final WSACleanup. An operation starts one request with arguments from the input
// (NULL or arbitrary names and protocols, addresses of every length and family, numbers,
// NULL / negative / tiny / huge buffers, a NULL window) and then cancels it at once, unless the
// input leaves it to the final cleanup; other operations put the network down or up.
//
// No waiting for DNS: host names that need DNS go to 127.0.0.1 on a port of a UDP socket this
// process binds and never answers (no packet leaves the machine), and every such request is
// canceled or ended by the final cleanup, which must not wait for DNS timeouts. Services and
// protocols come from small netbase files written at start-up; the hosts file c-ares reads is
// one of ours too (CARES_HOSTS).
//
// Checks (SPEC.md):
//   * a start returns a handle, or 0 with exactly the error its arguments call for
//     (WSAENETDOWN, then WSAEFAULT / WSAEAFNOSUPPORT, else only WSAEWOULDBLOCK may fail it);
//   * a cancel right after the start answers 0 or WSAEALREADY; a second cancel WSAEINVAL after
//     a 0, WSAEALREADY after a WSAEALREADY; with the network down, WSAENETDOWN;
//   * a request whose cancel answered WSAEALREADY posts exactly one message, with its handle and
//     wMsg: success validates in the buffer, WSAENOBUFS leaves the buffer untouched and asks for
//     more than it had, any other error is a lookup error;
//   * a canceled request posts nothing and its buffer is never written, checked after the final
//     cleanup; no message arrives for a canceled handle.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "fuzz_common.h"
#include "resolver/pack.h"
#include "wsafault/winsock_async.h"

namespace {

constexpr const char* kTarget = "name_fuzzer";
constexpr int kMaxOps = 12;
constexpr UINT kMsg = WM_USER + 7;

using wsaf::fuzz::CanaryBuffer;
using wsaf::fuzz::Fail;

const char kServices[] =
    "echo 7/tcp\necho 7/udp\nssh 22/tcp\nsmtp 25/tcp mail\ndomain 53/udp\n"
    "http 80/tcp www www-http\nkerberos 88/tcp kerberos5 krb5 kerberos-sec\n"
    "wsafault-test 65000/tcp wsaf-alias1 wsaf-alias2 wsaf-alias3\n";
const char kProtocols[] = "ip 0 IP\nicmp 1 ICMP\ntcp 6 TCP\nudp 17 UDP\nipv6 41 IPv6\n";
const char kHosts[] =
    "127.0.0.1 localhost\n10.0.0.1 host1.test h1\n10.0.0.2 host2.test\nfd00::1 v6only.test\n";

std::string WriteTempFile(const std::string& dir, const char* name, const char* text) {
  std::string path = dir + "/" + name;
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr || std::fputs(text, f) < 0 || std::fclose(f) != 0) {
    Fail(kTarget, "setup", "cannot write " + path);
  }
  return path;
}

// A UDP socket on 127.0.0.1 that is never read: DNS queries end here.
int BindSink() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sin);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&sin), &len) != 0) {
    Fail(kTarget, "setup", "cannot bind the loopback DNS sink");
  }
  return ntohs(sin.sin_port);
}

enum class Kind { kHostByName, kHostByAddr, kProtoByName, kProtoByNumber, kServByName, kServByPort };

struct Issued {
  Kind kind;
  HANDLE handle;
  int buflen;
  std::unique_ptr<CanaryBuffer> buf;  // null for a NULL buffer
  int cancel = 0;                     // 0: canceled; WSAEALREADY: completed; -1: left to cleanup
  bool has_window = true;             // false: started with a NULL window (completes silently)
};

// A string argument: NULL, or up to 300 bytes of input (NUL-terminated by the copy).
struct StrArg {
  bool null = false;
  std::string s;
  const char* get() const { return null ? nullptr : s.c_str(); }
};

StrArg ReadString(wsaf::fuzz::Reader& in) {
  StrArg a;
  uint8_t n = in.Byte();
  if (n == 0xFF) {
    a.null = true;
    return a;
  }
  std::size_t len = n == 0xFE ? 256 + in.Byte() % 45 : n;  // 256..300: past the DNS name limit
  a.s = in.Bytes(len);
  if (n == 0xFE) a.s.resize(len, 'a');
  return a;
}

// Buffer choices: a size query, the two WSAEFAULT cases, and sizes around the struct sizes.
void ReadBuffer(wsaf::fuzz::Reader& in, Issued* r, bool* null_buf) {
  static const int kLens[] = {1, 8, 16, 31, 32, 40, 48, 64, 100, 200, 512, 1024, 4096, 65536};
  uint8_t b = in.Byte();
  *null_buf = false;
  switch (b % 20) {
    case 0: *null_buf = true; r->buflen = 0; break;             // size query
    case 1: *null_buf = true; r->buflen = 1 + in.Byte(); break; // WSAEFAULT
    case 2: r->buflen = -1 - in.Byte(); break;                  // WSAEFAULT
    case 3: r->buflen = in.U16(); break;
    case 4: r->buflen = 0; break;                               // a real buffer of length 0
    default: r->buflen = kLens[b % (sizeof(kLens) / sizeof(kLens[0]))]; break;
  }
  if (!*null_buf) {
    r->buf = std::make_unique<CanaryBuffer>(r->buflen > 0 ? r->buflen : 0, (b >> 5) % 8);
  }
}

struct Session {
  HWND hwnd = nullptr;
  bool network_down = false;
  std::vector<Issued> issued;
};

void StartOne(wsaf::fuzz::Reader& in, Session& s, uint8_t op) {
  Issued r;
  r.kind = static_cast<Kind>(op % 6);
  bool null_buf = false;
  ReadBuffer(in, &r, &null_buf);
  char* buf = r.buf ? r.buf->data() : nullptr;
  HWND hwnd = (op & 0x40) ? nullptr : s.hwnd;
  r.has_window = hwnd != nullptr;
  int arg_error = 0;
  HANDLE h = nullptr;
  WSASetLastError(0);
  switch (r.kind) {
    case Kind::kHostByName: {
      StrArg name = ReadString(in);
      if (name.null) arg_error = WSAEFAULT;
      h = WSAAsyncGetHostByName(hwnd, kMsg, name.get(), buf, r.buflen);
      break;
    }
    case Kind::kHostByAddr: {
      uint8_t t = in.Byte();
      int type = t % 4 == 0 ? AF_INET : t % 4 == 1 ? AF_INET6 : t % 4 == 2 ? static_cast<int>(in.Byte()) - 8 : AF_UNSPEC;
      uint8_t l = in.Byte();
      int len = l < 128 ? (type == AF_INET6 ? 16 : 4) : static_cast<int>(static_cast<int8_t>(in.Byte()));
      std::string addr = in.Bytes(32);
      addr.resize(32, '\0');
      bool null_addr = (t & 0x80) != 0;
      if (null_addr) arg_error = WSAEFAULT;
      else if (type != AF_INET && type != AF_INET6) arg_error = WSAEAFNOSUPPORT;
      else if (len != (type == AF_INET ? 4 : 16)) arg_error = WSAEFAULT;
      h = WSAAsyncGetHostByAddr(hwnd, kMsg, null_addr ? nullptr : addr.data(), len, type, buf,
                                r.buflen);
      break;
    }
    case Kind::kProtoByName: {
      StrArg name = ReadString(in);
      if (name.null) arg_error = WSAEFAULT;
      h = WSAAsyncGetProtoByName(hwnd, kMsg, name.get(), buf, r.buflen);
      break;
    }
    case Kind::kProtoByNumber: {
      int number = static_cast<int16_t>(in.U16());
      h = WSAAsyncGetProtoByNumber(hwnd, kMsg, number, buf, r.buflen);
      break;
    }
    case Kind::kServByName: {
      StrArg name = ReadString(in);
      StrArg proto = ReadString(in);
      if (name.null) arg_error = WSAEFAULT;
      h = WSAAsyncGetServByName(hwnd, kMsg, name.get(), proto.get(), buf, r.buflen);
      break;
    }
    case Kind::kServByPort: {
      const int low = in.U16();
      const int high = in.Byte() & 0x81;  // mostly 0..65535, sometimes beyond or negative-ish
      const int port = (high & 0x80) ? -low : low | (high << 16);
      StrArg proto = ReadString(in);
      h = WSAAsyncGetServByPort(hwnd, kMsg, port, proto.get(), buf, r.buflen);
      break;
    }
  }
  const int err = WSAGetLastError();
  if (arg_error == 0 && (r.buflen < 0 || (null_buf && r.buflen != 0))) arg_error = WSAEFAULT;
  if (s.network_down) arg_error = WSAENETDOWN;  // checked before the arguments
  if (arg_error != 0) {
    if (h != nullptr || err != arg_error) {
      Fail(kTarget, "start-error", "kind " + std::to_string(op % 6) + ": handle " +
                                       std::to_string(h != nullptr) + ", error " +
                                       std::to_string(err) + ", expected 0 and " +
                                       std::to_string(arg_error));
    }
    return;
  }
  if (h == nullptr) {
    if (err != WSAEWOULDBLOCK) {
      Fail(kTarget, "start-error", "valid start failed with " + std::to_string(err));
    }
    return;
  }
  for (const Issued& old : s.issued) {
    if (old.handle == h) Fail(kTarget, "handle-unique", "a handle was issued twice");
  }
  r.handle = h;
  if (op & 0x80) {
    r.cancel = -1;  // left to the final cleanup
  } else {
    int rc = WSACancelAsyncRequest(h);
    int cerr = rc == 0 ? 0 : WSAGetLastError();
    if (rc != 0 && cerr != WSAEALREADY) {
      Fail(kTarget, "cancel-error", "cancel right after start: " + std::to_string(cerr));
    }
    int rc2 = WSACancelAsyncRequest(h);
    int cerr2 = rc2 == 0 ? 0 : WSAGetLastError();
    int want2 = rc == 0 ? WSAEINVAL : WSAEALREADY;
    if (rc2 == 0 || cerr2 != want2) {
      Fail(kTarget, "cancel-twice", "second cancel answered " + std::to_string(cerr2) +
                                        ", expected " + std::to_string(want2));
    }
    r.cancel = cerr;
  }
  s.issued.push_back(std::move(r));
}

bool ValidateFor(Kind k, const char* buf, std::size_t len, const char** why) {
  switch (k) {
    case Kind::kHostByName:
    case Kind::kHostByAddr: return wsaf::ValidatePackedHostent(buf, len, why);
    case Kind::kProtoByName:
    case Kind::kProtoByNumber: return wsaf::ValidatePackedProtoent(buf, len, why);
    default: return wsaf::ValidatePackedServent(buf, len, why);
  }
}

void CheckMessage(const Issued& r, const MSG& m) {
  if (m.message != kMsg) Fail(kTarget, "message", "wrong wMsg");
  const int error = WSAGETASYNCERROR(m.lParam);
  const std::size_t len = WSAGETASYNCBUFLEN(m.lParam);
  if (error == 0) {
    if (r.buf == nullptr || len > static_cast<std::size_t>(r.buflen)) {
      Fail(kTarget, "message-size", "success reports more bytes than the buffer has");
    }
    if (!r.buf->GuardsIntact()) Fail(kTarget, "buffer-overflow", "bytes outside the buffer written");
    const char* why = "";
    if (!ValidateFor(r.kind, r.buf->data(), len, &why)) {
      Fail(kTarget, "result-validates", std::string("delivered result: ") + why);
    }
    return;
  }
  if (error == WSAENOBUFS) {
    if (r.buf != nullptr && !r.buf->Untouched()) {
      Fail(kTarget, "enobufs-untouched", "WSAENOBUFS but the buffer was written");
    }
    if (r.buflen >= 0 && len <= static_cast<std::size_t>(r.buf ? r.buflen : 0)) {
      Fail(kTarget, "enobufs-size", "WSAENOBUFS asks for " + std::to_string(len) +
                                        " bytes but the buffer had " + std::to_string(r.buflen));
    }
    return;
  }
  if (error != WSAHOST_NOT_FOUND && error != WSATRY_AGAIN && error != WSANO_RECOVERY &&
      error != WSANO_DATA && error != WSAENETDOWN) {
    Fail(kTarget, "message-error", "completion error " + std::to_string(error));
  }
}

// Completed before the cancel, to a live window: exactly one message is owed.
bool MessageDue(const Issued& r) { return r.cancel == WSAEALREADY && r.has_window; }

const Issued* FindIssued(const Session& s, WPARAM w) {
  for (const Issued& r : s.issued) {
    if (reinterpret_cast<WPARAM>(r.handle) == w) return &r;
  }
  return nullptr;
}

// Waits (bounded) for the messages of requests that completed before their cancel.
void CollectCompleted(Session& s, std::map<WPARAM, int>* seen) {
  auto due = [&] {
    for (const Issued& r : s.issued) {
      if (MessageDue(r) && seen->count(reinterpret_cast<WPARAM>(r.handle)) == 0) return true;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  MSG m;
  while (due() && std::chrono::steady_clock::now() < deadline) {
    if (!PeekMessage(&m, s.hwnd, 0, 0, PM_REMOVE)) {
      std::this_thread::yield();
      continue;
    }
    const Issued* r = FindIssued(s, m.wParam);
    if (r == nullptr) Fail(kTarget, "message-handle", "a message for a handle never issued");
    if ((*seen)[m.wParam]++ > 0) Fail(kTarget, "delivered-once", "a request posted twice");
    if (r->cancel == 0) Fail(kTarget, "no-message-after-cancel", "a canceled request posted");
    CheckMessage(*r, m);
  }
}

void RunSession(wsaf::fuzz::Reader& in) {
  const uint8_t flags = in.Byte();
  Session s;
  // Before WSAStartup every start fails with WSANOTINITIALISED.
  if (flags & 1) {
    char b[8];
    if (WSAAsyncGetHostByName(nullptr, kMsg, "x", b, sizeof b) != nullptr ||
        WSAGetLastError() != WSANOTINITIALISED) {
      Fail(kTarget, "not-initialised", "a start before WSAStartup did not fail as it should");
    }
  }
  WSADATA wsa;
  if (WSAStartup((flags & 2) ? MAKEWORD(1, 1) : MAKEWORD(2, 2), &wsa) != 0) {
    Fail(kTarget, "startup", "WSAStartup failed");
  }
  s.hwnd = wsaf_create_window();
  for (int i = 0; i < kMaxOps && in.remaining() > 0; ++i) {
    const uint8_t op = in.Byte();
    if ((op & 0x3f) >= 60) {  // rare: the network goes down or up
      s.network_down = !s.network_down;
      wsaf_set_network_down(s.network_down ? 1 : 0);
      continue;
    }
    StartOne(in, s, op);
  }
  if (s.network_down) {
    wsaf_set_network_down(0);
    s.network_down = false;
  }
  std::map<WPARAM, int> seen;
  CollectCompleted(s, &seen);
  if (WSACleanup() != 0) Fail(kTarget, "cleanup", "the final WSACleanup failed");
  // After the final cleanup: what is queued may be read; nothing more is written.
  MSG m;
  while (PeekMessage(&m, s.hwnd, 0, 0, PM_REMOVE)) {
    const Issued* r = FindIssued(s, m.wParam);
    if (r == nullptr) Fail(kTarget, "message-handle", "a message for a handle never issued");
    if (seen[m.wParam]++ > 0) Fail(kTarget, "delivered-once", "a request posted twice");
    if (r->cancel == 0) Fail(kTarget, "no-message-after-cancel", "a canceled request posted");
    CheckMessage(*r, m);
  }
  for (const Issued& r : s.issued) {
    if (MessageDue(r) && seen.count(reinterpret_cast<WPARAM>(r.handle)) == 0) {
      Fail(kTarget, "completed-posts", "cancel said WSAEALREADY but no message arrived");
    }
    if (r.cancel == 0 && r.buf != nullptr && !r.buf->Untouched()) {
      Fail(kTarget, "write-after-cancel", "a canceled request's buffer was written");
    }
  }
  DestroyWindow(s.hwnd);
}

std::string g_tmpdir;

void RemoveTempFiles() {
  for (const char* f : {"services", "protocols", "hosts"}) unlink((g_tmpdir + "/" + f).c_str());
  rmdir(g_tmpdir.c_str());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/wsafault-name-fuzzer-XXXXXX";
  const char* dir = mkdtemp(tmpl);
  if (dir == nullptr) Fail(kTarget, "setup", "mkdtemp failed");
  g_tmpdir = dir;
  std::atexit(RemoveTempFiles);
  const std::string services = WriteTempFile(dir, "services", kServices);
  const std::string protocols = WriteTempFile(dir, "protocols", kProtocols);
  setenv("CARES_HOSTS", WriteTempFile(dir, "hosts", kHosts).c_str(), 1);
  if (wsaf_set_netbase_files(services.c_str(), protocols.c_str()) != 0) {
    Fail(kTarget, "setup", "wsaf_set_netbase_files failed");
  }
  const std::string servers = "127.0.0.1:" + std::to_string(BindSink());
  if (wsaf_set_dns_servers(servers.c_str()) != 0 || wsaf_set_dns_timeout(50, 1) != 0) {
    Fail(kTarget, "setup", "cannot point DNS at the loopback sink");
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wsaf::fuzz::Reader in(data, size);
  RunSession(in);
  return 0;
}
