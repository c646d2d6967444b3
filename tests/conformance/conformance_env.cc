#include "conformance_env.h"

#include <atomic>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

namespace wsaf_conf {

using ::testing::AssertionFailure;
using ::testing::AssertionResult;
using ::testing::AssertionSuccess;

void SleepMs(int ms) { std::this_thread::sleep_for(milliseconds(ms)); }

long long MillisSince(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

CanaryBuffer::CanaryBuffer(std::size_t size) : bytes_(size, static_cast<char>(kCanary)) {}

bool CanaryBuffer::Intact() const {
  for (char c : bytes_) {
    if (static_cast<unsigned char>(c) != kCanary) return false;
  }
  return true;
}

Reply Decode(const MSG& m) {
  Reply r;
  r.msg = m;
  r.error = WSAGETASYNCERROR(m.lParam);
  r.buflen = WSAGETASYNCBUFLEN(m.lParam);
  return r;
}

namespace {

bool Inside(const char* buf, int len, const void* p, std::size_t n) {
  if (len < 0) return false;
  auto b = reinterpret_cast<uintptr_t>(buf);
  auto q = reinterpret_cast<uintptr_t>(p);
  auto size = static_cast<std::size_t>(len);
  return q >= b && n <= size && q - b <= size - n;
}

AssertionResult CheckString(const char* buf, int len, const char* s, const std::string& what) {
  if (s == nullptr) return AssertionFailure() << what << " is NULL";
  if (!Inside(buf, len, s, 1)) {
    return AssertionFailure() << what << " points outside [buf, buf + " << len << ") (offset "
                              << (reinterpret_cast<intptr_t>(s) - reinterpret_cast<intptr_t>(buf))
                              << ")";
  }
  std::size_t room = static_cast<std::size_t>(buf + len - s);
  if (std::memchr(s, 0, room) == nullptr) {
    return AssertionFailure() << what << " is not terminated inside the reported length";
  }
  return AssertionSuccess();
}

// elem_len < 0: entries are strings; otherwise entries are elem_len-byte objects.
AssertionResult CheckArray(const char* buf, int len, char** arr, const std::string& what,
                           int elem_len) {
  if (arr == nullptr) return AssertionFailure() << what << " is NULL (must be an empty list)";
  if (reinterpret_cast<uintptr_t>(arr) % alignof(char*) != 0) {
    return AssertionFailure() << what << " is not aligned for pointers";
  }
  for (std::size_t i = 0;; ++i) {
    if (!Inside(buf, len, &arr[i], sizeof(char*))) {
      return AssertionFailure() << what << "[" << i
                                << "] lies outside the buffer (missing NULL terminator?)";
    }
    char* e = arr[i];
    if (e == nullptr) break;
    std::string name = what + "[" + std::to_string(i) + "]";
    if (elem_len < 0) {
      AssertionResult r = CheckString(buf, len, e, name);
      if (!r) return r;
    } else if (!Inside(buf, len, e, static_cast<std::size_t>(elem_len))) {
      return AssertionFailure() << name << " points outside the buffer";
    }
  }
  return AssertionSuccess();
}

}  // namespace

AssertionResult PackedHostent(const char* buf, int len) {
  if (buf == nullptr) return AssertionFailure() << "buffer is NULL";
  if (len < static_cast<int>(sizeof(hostent))) {
    return AssertionFailure() << "reported length " << len << " is smaller than a hostent";
  }
  hostent h;
  std::memcpy(&h, buf, sizeof h);
  AssertionResult r = CheckString(buf, len, h.h_name, "h_name");
  if (!r) return r;
  r = CheckArray(buf, len, h.h_aliases, "h_aliases", -1);
  if (!r) return r;
  if (!((h.h_addrtype == AF_INET && h.h_length == 4) ||
        (h.h_addrtype == AF_INET6 && h.h_length == 16))) {
    return AssertionFailure() << "h_addrtype " << h.h_addrtype << " with h_length " << h.h_length;
  }
  return CheckArray(buf, len, h.h_addr_list, "h_addr_list", h.h_length);
}

AssertionResult PackedServent(const char* buf, int len) {
  if (buf == nullptr) return AssertionFailure() << "buffer is NULL";
  if (len < static_cast<int>(sizeof(servent))) {
    return AssertionFailure() << "reported length " << len << " is smaller than a servent";
  }
  servent s;
  std::memcpy(&s, buf, sizeof s);
  AssertionResult r = CheckString(buf, len, s.s_name, "s_name");
  if (!r) return r;
  r = CheckArray(buf, len, s.s_aliases, "s_aliases", -1);
  if (!r) return r;
  return CheckString(buf, len, s.s_proto, "s_proto");
}

AssertionResult PackedProtoent(const char* buf, int len) {
  if (buf == nullptr) return AssertionFailure() << "buffer is NULL";
  if (len < static_cast<int>(sizeof(protoent))) {
    return AssertionFailure() << "reported length " << len << " is smaller than a protoent";
  }
  protoent p;
  std::memcpy(&p, buf, sizeof p);
  AssertionResult r = CheckString(buf, len, p.p_name, "p_name");
  if (!r) return r;
  return CheckArray(buf, len, p.p_aliases, "p_aliases", -1);
}

std::set<std::string> HostAddresses(const hostent* h) {
  std::set<std::string> out;
  if (h == nullptr || h->h_addr_list == nullptr) return out;
  for (char** p = h->h_addr_list; *p != nullptr; ++p) {
    char text[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(h->h_addrtype, *p, text, sizeof text) != nullptr) out.insert(text);
  }
  return out;
}

std::vector<std::string> AliasList(char** list) {
  std::vector<std::string> out;
  if (list == nullptr) return out;
  for (char** p = list; *p != nullptr; ++p) out.emplace_back(*p);
  return out;
}

std::string FreshMissingName() {
  static std::atomic<unsigned> counter{0};
  return "wsaf-missing-" + std::to_string(CurrentProcessId()) + "-" + std::to_string(counter++) + ".test";
}

namespace {
// Names and addresses handed to the library stay alive for the whole process.
const char* KeepAlive(std::string s) {
  static std::mutex mu;
  static std::deque<std::string> names;
  std::lock_guard<std::mutex> lock(mu);
  names.push_back(std::move(s));
  return names.back().c_str();
}
}  // namespace

const std::vector<Starter>& AllStarters() {
  static const in_addr* addr = [] {
    static in_addr a;
    inet_pton(AF_INET, "10.0.0.1", &a);
    return &a;
  }();
  static const std::vector<Starter> starters = {
      {"WSAAsyncGetHostByName",
       [](HWND w, UINT m, char* b, int n) {
         return WSAAsyncGetHostByName(w, m, "10.9.8.7", b, n);
       }},
      {"WSAAsyncGetHostByAddr",
       [](HWND w, UINT m, char* b, int n) {
         return WSAAsyncGetHostByAddr(w, m, reinterpret_cast<const char*>(addr), 4, AF_INET, b,
                                      n);
       }},
      {"WSAAsyncGetProtoByName",
       [](HWND w, UINT m, char* b, int n) { return WSAAsyncGetProtoByName(w, m, "tcp", b, n); }},
      {"WSAAsyncGetProtoByNumber",
       [](HWND w, UINT m, char* b, int n) { return WSAAsyncGetProtoByNumber(w, m, 17, b, n); }},
      {"WSAAsyncGetServByName",
       [](HWND w, UINT m, char* b, int n) {
         return WSAAsyncGetServByName(w, m, "http", "tcp", b, n);
       }},
      {"WSAAsyncGetServByPort",
       [](HWND w, UINT m, char* b, int n) {
         return WSAAsyncGetServByPort(w, m, htons(443), "tcp", b, n);
       }},
  };
  return starters;
}

void CleanupAll() {
  for (int i = 0; i < 64; ++i) {
    if (WSACleanup() != 0) break;
  }
}

void WsaTest::SetUp() {
  wsaf_set_network_down(0);
  CleanupAll();
  wsaf::dns::Zone zone;
  std::string error;
  ASSERT_TRUE(wsaf::dns::LoadZoneFile(WSAF_SOURCE_DIR "/corpus/zones/test.zone", &zone, &error))
      << error;
  server_ = std::make_unique<wsaf::dns::Server>(std::move(zone));
  ASSERT_TRUE(server_->Start(0, &error)) << error;
  if (HasControl(kResolverSettings)) {  // elsewhere: the environment's DNS and netbase
    ASSERT_EQ(0, wsaf_set_dns_servers(server_->ServersCsv().c_str()));
    ASSERT_EQ(0, wsaf_set_dns_timeout(dns_timeout_ms_, 1));
    ASSERT_EQ(0, wsaf_set_netbase_files(WSAF_SOURCE_DIR "/corpus/netbase/services",
                                        WSAF_SOURCE_DIR "/corpus/netbase/protocols"));
  }
  if (startup_version_ != 0) {
    WSADATA data;
    ASSERT_EQ(0, WSAStartup(startup_version_, &data));
  }
  hwnd_ = NewWindow();
  ASSERT_NE(nullptr, hwnd_);
}

void WsaTest::TearDown() {
  wsaf_set_network_down(0);
  CleanupAll();
  for (HWND w : windows_) DestroyWindow(w);
  windows_.clear();
  if (server_) server_->Stop();
  server_.reset();
}

uint64_t WsaTest::ServerQueries() const {
  wsaf::dns::ServerStats s = server_->stats();
  return s.udp_queries + s.tcp_queries;
}

HWND WsaTest::NewWindow() {
  HWND w = wsaf_create_window();
  if (w != nullptr) windows_.push_back(w);
  return w;
}

void WsaTest::Pump(HWND w) {
  if (w == nullptr) w = hwnd_;
  MSG m;
  // Bounded: a queue holds at most 10,000 messages.
  for (int i = 0; i < 20000 && PeekMessage(&m, w, 0, 0, PM_REMOVE); ++i) inbox_.push_back(m);
}

bool WsaTest::WaitReply(HANDLE h, Reply* out, UINT wMsg, milliseconds limit, HWND w) {
  auto deadline = Clock::now() + limit;
  for (;;) {
    Pump(w);
    for (auto it = inbox_.begin(); it != inbox_.end(); ++it) {
      if (it->message == wMsg && it->wParam == reinterpret_cast<WPARAM>(h)) {
        if (out != nullptr) *out = Decode(*it);
        inbox_.erase(it);
        return true;
      }
    }
    if (Clock::now() > deadline) return false;
    SleepMs(1);
  }
}

int WsaTest::CountRepliesAfter(HANDLE h, milliseconds how_long, HWND w) {
  auto deadline = Clock::now() + how_long;
  do {
    Pump(w);
    SleepMs(5);
  } while (Clock::now() < deadline);
  Pump(w);
  int n = 0;
  for (const MSG& m : inbox_) {
    if (m.wParam == reinterpret_cast<WPARAM>(h)) ++n;
  }
  return n;
}

bool WsaTest::WaitQueued(HANDLE h, UINT wMsg, milliseconds limit, HWND w) {
  if (w == nullptr) w = hwnd_;
  auto deadline = Clock::now() + limit;
  for (;;) {
    MSG m;
    if (PeekMessage(&m, w, wMsg, wMsg, PM_NOREMOVE) && m.wParam == reinterpret_cast<WPARAM>(h)) {
      return true;
    }
    if (Clock::now() > deadline) return false;
    SleepMs(1);
  }
}

bool WsaTest::NoMessageAnywhere() {
  MSG m;
  return !PeekMessage(&m, nullptr, 0, 0, PM_NOREMOVE);
}

HANDLE WsaTest::StartPending(char* buf, int len, HWND w, UINT wMsg) {
  return WSAAsyncGetHostByName(w != nullptr ? w : hwnd_, wMsg, KeepAlive(FreshMissingName()), buf,
                               len);
}

HANDLE WsaTest::StartNumeric(char* buf, int len, const char* ip, HWND w, UINT wMsg) {
  return WSAAsyncGetHostByName(w != nullptr ? w : hwnd_, wMsg, ip, buf, len);
}

}  // namespace wsaf_conf
