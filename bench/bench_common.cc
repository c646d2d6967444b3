#include "bench_common.h"

#include <malloc.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "api/engine.h"

namespace wsaf_bench {

namespace {

Flags g_flags;

constexpr UINT kFillMsg = WM_USER + 99;
constexpr int kFillPerWindow = 10000;  // Window::kQueueLimit: a full window would block the resolver
constexpr int kDropTimeoutMs = 60000;  // the longest wsaf_set_dns_timeout accepts
constexpr double kFillMaxAgeS = 45;    // refill before the pending queries time out

// A zone for when the source tree is not at hand (the binary was copied elsewhere).
constexpr const char* kFallbackZone =
    "host1.test A 10.0.0.1\n"
    "host2.test A 10.0.0.2\n";

bool LoadZone(wsaf::dns::Zone* zone, std::string* error) {
#ifdef WSAF_SOURCE_DIR
  std::string path = std::string(WSAF_SOURCE_DIR) + "/corpus/zones/test.zone";
  if (access(path.c_str(), R_OK) == 0) return wsaf::dns::LoadZoneFile(path, zone, error);
#endif
  return wsaf::dns::ParseZone(kFallbackZone, zone, error);
}

}  // namespace

const Flags& GetFlags() { return g_flags; }

void ParseFlags(int* argc, char** argv) {
  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    if (std::strcmp(argv[i], "--wsaf_smoke") == 0) {
      g_flags.smoke = true;
    } else if (std::strcmp(argv[i], "--wsaf_long") == 0) {
      g_flags.long_runs = true;
    } else if (std::strncmp(argv[i], "--wsaf_table_limit=", 19) == 0) {
      g_flags.table_limit = static_cast<uint32_t>(std::strtoul(argv[i] + 19, nullptr, 10));
    } else {
      argv[out++] = argv[i];
    }
  }
  *argc = out;
  argv[out] = nullptr;
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

char* ScratchBuffer() {
  alignas(64) static char buffer[kScratchSize];
  return buffer;
}

// --- Memory -------------------------------------------------------------------------------

int64_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long long size = 0, resident = 0;
  int n = std::fscanf(f, "%lld %lld", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return resident * sysconf(_SC_PAGESIZE);
}

int64_t HeapInUseBytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

void MemoryProbe::Start() {
  rss0_ = RssBytes();
  heap0_ = HeapInUseBytes();
}

void MemoryProbe::ReportPerCancel(benchmark::State& state, uint64_t canceled) const {
  if (canceled == 0) return;
  state.counters["rss_B_per_cancel"] = static_cast<double>(RssDelta()) / canceled;
  state.counters["heap_B_per_cancel"] = static_cast<double>(HeapDelta()) / canceled;
}

// --- Outcomes -----------------------------------------------------------------------------

void Outcomes::Report(benchmark::State& state) const {
  double n = static_cast<double>(total());
  if (n == 0) return;
  state.counters["canceled"] = canceled / n;
  state.counters["too_late"] = too_late / n;
  state.counters["already_done"] = already_done / n;
  if (invalid != 0) state.counters["invalid"] = invalid / n;
  if (freed_at_once != 0) state.counters["freed_at_once"] = static_cast<double>(freed_at_once) / canceled;
}

void CancelAndCount(HANDLE h, Outcomes* out) {
  if (WSACancelAsyncRequest(h) == 0) {
    ++out->canceled;
    // A cancel that won before the resolver claimed the request freed its slot itself (FREE);
    // after the claim the slot waits CANCELED for the resolver (a racy look: the resolver may
    // have reclaimed it already, so this counts at most the cancels that freed at once).
    uint32_t index = wsaf::TaskTable::IndexOf(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(h)));
    if (BenchEnv::Get().table().StateOfSlot(index) == wsaf::SlotState::kFree) ++out->freed_at_once;
    return;
  }
  if (WSAGetLastError() != WSAEALREADY) {
    ++out->invalid;
    return;
  }
  // Which side of the post the completion was on (a racy look, for the mix only).
  uint64_t handle = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(h));
  uint32_t index = wsaf::TaskTable::IndexOf(handle);
  if (BenchEnv::Get().table().StateOfSlot(index) == wsaf::SlotState::kCompleting) {
    ++out->too_late;
  } else {
    ++out->already_done;
  }
}

// --- Windows ------------------------------------------------------------------------------

uint64_t PumpAll(HWND w) {
  MSG m;
  uint64_t n = 0;
  while (PeekMessage(&m, w, 0, 0, PM_REMOVE)) ++n;
  return n;
}

uint64_t PumpAtLeast(HWND w, uint64_t n, int timeout_ms) {
  MSG m;
  uint64_t got = 0;
  double deadline = NowSeconds() + timeout_ms / 1000.0;
  while (got < n) {
    if (PeekMessage(&m, w, 0, 0, PM_REMOVE)) {
      ++got;
      continue;
    }
    if (NowSeconds() > deadline) break;
    std::this_thread::yield();
  }
  return got;
}

// --- The environment ----------------------------------------------------------------------

BenchEnv& BenchEnv::Get() {
  static BenchEnv env;
  return env;
}

wsaf::TaskTable& BenchEnv::table() { return wsaf::CurrentEngine().table; }

bool BenchEnv::Init(std::string* error) {
  wsaf::dns::Zone zone;
  if (!LoadZone(&zone, error)) return false;
  zone_server_ = std::make_unique<wsaf::dns::Server>(zone);
  drop_server_ = std::make_unique<wsaf::dns::Server>(std::move(zone));
  if (!zone_server_->Start(0, error) || !drop_server_->Start(0, error)) return false;
  drop_server_->SetFault(wsaf::dns::Fault::kDrop);
  RestoreTableLimit();
  // Before the first request of the process: DNS goes to the embedded server only.
  UseZoneServer();
  WSADATA data;
  if (int rc = WSAStartup(MAKEWORD(2, 2), &data); rc != 0) {
    *error = "WSAStartup failed: " + std::to_string(rc);
    return false;
  }
  started_ = true;
  window_ = wsaf_create_window();
  return window_ != nullptr;
}

void BenchEnv::RestoreTableLimit() { table().SetCapacityLimit(g_flags.table_limit); }

void BenchEnv::Shutdown() {
  Filler::Get().Clear();
  if (started_) WSACleanup();
  started_ = false;
  if (window_ != nullptr) DestroyWindow(window_);
  window_ = nullptr;
  if (drop_server_) drop_server_->Stop();
  if (zone_server_) zone_server_->Stop();
}

void BenchEnv::UseZoneServer() {
  wsaf_set_dns_servers(zone_server_->ServersCsv().c_str());
  wsaf_set_dns_timeout(2000, 2);
}

void BenchEnv::UseDropServer() {
  wsaf_set_dns_servers(drop_server_->ServersCsv().c_str());
  wsaf_set_dns_timeout(kDropTimeoutMs, 1);
}

void BenchEnv::RestartSession() {
  WSACleanup();
  UseZoneServer();
  WSADATA data;
  WSAStartup(MAKEWORD(2, 2), &data);
  PumpAll(window_);
}

bool BenchEnv::WaitTableSettled(int timeout_ms) {
  double deadline = NowSeconds() + timeout_ms / 1000.0;
  for (;;) {
    uint32_t counts[6];
    table().CountStates(counts);
    PumpAll(window_);
    bool busy = counts[static_cast<int>(wsaf::SlotState::kPending)] != 0 ||
                counts[static_cast<int>(wsaf::SlotState::kCanceled)] != 0 ||
                counts[static_cast<int>(wsaf::SlotState::kCompleting)] != 0;
    if (!busy) return true;
    if (NowSeconds() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// --- Occupancy ----------------------------------------------------------------------------

Filler& Filler::Get() {
  static Filler filler;
  return filler;
}

void Filler::Clear() {
  if (handles_.empty() && windows_.empty()) return;
  BenchEnv& env = BenchEnv::Get();
  // The final cleanup cancels every pending request and destroys the channels (their
  // callbacks reclaim the slots); destroying the windows settles the queued ones.
  env.RestartSession();
  for (HWND w : windows_) DestroyWindow(w);
  windows_.clear();
  handles_.clear();
  env.WaitTableSettled(10000);
}

bool Filler::FillTo(Mode mode, uint64_t n, std::string* error) {
  // Pending requests time out after kDropTimeoutMs: an old pending fill is made anew.
  bool fresh = mode == Mode::kQueued || NowSeconds() - started_at_s_ < kFillMaxAgeS;
  bool reusable = mode == mode_ && n >= handles_.size() && (handles_.empty() || fresh);
  if (!reusable) Clear();
  if (handles_.empty()) started_at_s_ = NowSeconds();
  mode_ = mode;
  uint64_t add = n - handles_.size();
  if (add == 0) return true;
  return mode == Mode::kPending ? AddPending(add, error) : AddQueued(add, error);
}

bool Filler::AddPending(uint64_t n, std::string* error) {
  BenchEnv& env = BenchEnv::Get();
  env.UseDropServer();
  uint64_t queries0 = env.drop_server().stats().udp_queries;
  for (uint64_t i = 0; i < n; ++i) {
    if (handles_.size() % kFillPerWindow == 0) windows_.push_back(wsaf_create_window());
    HANDLE h = WSAAsyncGetHostByName(windows_.back(), kFillMsg, kPendingHost, ScratchBuffer(),
                                     kScratchSize);
    if (h == nullptr) {
      *error = "fill start failed: " + std::to_string(WSAGetLastError());
      env.UseZoneServer();
      return false;
    }
    handles_.push_back(h);
  }
  // The resolver sends each query as it takes the request: wait until the drop server saw
  // them all, or its count stops moving for a second (the kernel may drop datagrams on the
  // way, which leaves those requests pending all the same).
  uint64_t target = queries0 + n;
  uint64_t last = 0;
  double deadline = NowSeconds() + 300, last_change = NowSeconds();
  for (;;) {
    uint64_t now = env.drop_server().stats().udp_queries;
    if (now >= target || NowSeconds() > deadline) break;
    if (now != last) {
      last = now;
      last_change = NowSeconds();
    } else if (!env.table().HasSubmitted() && NowSeconds() - last_change > 1.0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Later lookups (the measured ones) make a new channel to the zone server; this one keeps
  // its queries until they time out or the session ends.
  env.UseZoneServer();
  uint32_t counts[6];
  env.table().CountStates(counts);
  uint64_t pending = counts[static_cast<int>(wsaf::SlotState::kPending)];
  if (pending < handles_.size()) {
    *error = "only " + std::to_string(pending) + " of " + std::to_string(handles_.size()) +
             " fill requests pending";
    return false;
  }
  return true;
}

bool Filler::AddQueued(uint64_t n, std::string* error) {
  BenchEnv& env = BenchEnv::Get();
  for (uint64_t i = 0; i < n; ++i) {
    if (handles_.size() % kFillPerWindow == 0) windows_.push_back(wsaf_create_window());
    HANDLE h = WSAAsyncGetHostByName(windows_.back(), kFillMsg, kNumericHost, ScratchBuffer(),
                                     kScratchSize);
    if (h == nullptr) {
      *error = "fill start failed: " + std::to_string(WSAGetLastError());
      return false;
    }
    handles_.push_back(h);
  }
  double deadline = NowSeconds() + 120;
  for (;;) {
    uint32_t counts[6];
    env.table().CountStates(counts);
    if (counts[static_cast<int>(wsaf::SlotState::kQueued)] >= handles_.size()) return true;
    if (NowSeconds() > deadline) {
      *error = "fill did not complete: " +
               std::to_string(counts[static_cast<int>(wsaf::SlotState::kQueued)]) + " queued";
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace wsaf_bench
