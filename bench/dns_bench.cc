// Dispatch and end to end.
//   BM_Window_PostPeek              PostMessage then PeekMessage(PM_REMOVE), one thread
//   BM_BaselineMutexDeque_PostPeek  the same through a std::mutex + std::deque + condvar
//   BM_Window_PostGetMessage        one thread posts, another GetMessage()s
//   BM_EndToEnd_Lookups             host1.test through the API against the embedded server,
//                                   kDepth lookups in flight, 0% or 10% of them canceled
//   BM_RawCares_Lookups             raw c-ares on the same server, same depth: the floor
//   BM_RawCares_LookupsHostsFirst   the same with lookups "fb" (the hosts file first, as our
//                                   resolver's channel does), to price that part apart
#include <ares.h>
#include <arpa/inet.h>
#include <poll.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "bench_common.h"

namespace wsaf_bench {
namespace {

constexpr int kDepth = 32;  // lookups in flight, ours and raw c-ares alike

// --- Dispatch -----------------------------------------------------------------------------

void BM_Window_PostPeek(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  HWND w = wsaf_create_window();
  MSG m;
  uint64_t lost = 0;
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) lost += !PostMessage(w, kMsg, static_cast<WPARAM>(i), 0);
    for (int i = 0; i < n; ++i) lost += !PeekMessage(&m, w, 0, 0, PM_REMOVE);
  }
  DestroyWindow(w);
  if (lost != 0) state.SkipWithError("a message was lost");
  state.SetItemsProcessed(state.iterations() * n);
}

class MutexDeque {
 public:
  bool Post(const MSG& m) {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= 10000) return false;
    queue_.push_back(m);
    cv_.notify_all();
    return true;
  }
  bool Peek(MSG* out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.empty()) return false;
    *out = queue_.front();
    queue_.pop_front();
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<MSG> queue_;  // guarded by mu_
};

void BM_BaselineMutexDeque_PostPeek(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  MutexDeque q;
  MSG m{};
  uint64_t lost = 0;
  for (auto _ : state) {
    for (int i = 0; i < n; ++i) {
      m.wParam = static_cast<WPARAM>(i);
      lost += !q.Post(m);
    }
    for (int i = 0; i < n; ++i) lost += !q.Peek(&m);
  }
  if (lost != 0) state.SkipWithError("a message was lost");
  state.SetItemsProcessed(state.iterations() * n);
}

HWND CrossThreadWindow() {
  static HWND w = wsaf_create_window();
  return w;
}

// Thread 0 posts (retrying while the queue is full), thread 1 takes with GetMessage. Both run
// the same number of iterations, so every message posted is taken.
void BM_Window_PostGetMessage(benchmark::State& state) {
  HWND w = CrossThreadWindow();
  if (state.thread_index() == 0) {
    for (auto _ : state) {
      while (!PostMessage(w, kMsg, 0, 0)) std::this_thread::yield();
    }
    return;
  }
  MSG m;
  for (auto _ : state) GetMessage(&m, w, 0, 0);
  state.SetItemsProcessed(state.iterations());
}

// --- End to end ---------------------------------------------------------------------------

// range(0) = percentage of lookups canceled right after their start.
void BM_EndToEnd_Lookups(benchmark::State& state) {
  BenchEnv& env = BenchEnv::Get();
  HWND w = env.window();
  const int cancel_pct = static_cast<int>(state.range(0));
  env.zone_server().SetFault(wsaf::dns::Fault::kNone);
  PumpAll(w);
  int in_flight = 0;
  uint64_t answered = 0, errors = 0, start_errors = 0, i = 0;
  Outcomes out;
  MSG m;
  auto take_one = [&] {
    if (GetMessage(&m, w, 0, 0) <= 0) return;
    --in_flight;
    ++answered;
    if (WSAGETASYNCERROR(m.lParam) != 0) ++errors;
  };
  for (auto _ : state) {
    HANDLE h = WSAAsyncGetHostByName(w, kMsg, kZoneHost, ScratchBuffer(), kScratchSize);
    if (h == nullptr) {
      ++start_errors;
      continue;
    }
    ++in_flight;
    if (static_cast<int>(i++ % 100) < cancel_pct) {
      uint64_t won = out.canceled;
      CancelAndCount(h, &out);
      if (out.canceled > won) --in_flight;
    }
    // Every lookup completes within the DNS timeout (2 s, 2 tries), so this wait is bounded.
    while (in_flight >= kDepth) take_one();
  }
  while (in_flight > 0) take_one();
  if (cancel_pct > 0) out.Report(state);
  state.counters["answered"] = static_cast<double>(answered);
  state.counters["errors"] = static_cast<double>(errors + start_errors);
  state.SetItemsProcessed(state.iterations());
}

// A channel that reads no system configuration: every option that c-ares would otherwise take
// from the system resolver configuration is set, then the servers are replaced by the embedded one.
bool MakeRawChannel(const std::string& servers_csv, const char* lookups, ares_channel* out) {
  ares_options opts{};
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
             ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS | ARES_OPT_SORTLIST | ARES_OPT_SERVERS;
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
  opts.timeout = 2000;
  opts.tries = 2;
  opts.ndots = 1;
  opts.domains = nullptr;
  opts.ndomains = 0;
  std::string lookups_copy = lookups;
  opts.lookups = lookups_copy.data();
  opts.sortlist = nullptr;
  opts.nsort = 0;
  in_addr loopback{};
  loopback.s_addr = htonl(INADDR_LOOPBACK);
  opts.servers = &loopback;
  opts.nservers = 1;
  if (ares_init_options(out, &opts, mask) != ARES_SUCCESS) return false;
  if (ares_set_servers_ports_csv(*out, servers_csv.c_str()) != ARES_SUCCESS) {
    ares_destroy(*out);
    return false;
  }
  return true;
}

struct RawCounts {
  int in_flight = 0;
  uint64_t answered = 0;
  uint64_t errors = 0;
};

void OnRawHost(void* arg, int status, int /*timeouts*/, hostent* /*host*/) {
  auto* c = static_cast<RawCounts*>(arg);
  --c->in_flight;
  ++c->answered;
  if (status != ARES_SUCCESS) ++c->errors;
}

// One round of the event loop: waits for the channel's sockets (or its next timeout).
void ProcessOnce(ares_channel ch) {
  ares_socket_t socks[ARES_GETSOCK_MAXNUM];
  int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
  pollfd fds[ARES_GETSOCK_MAXNUM];
  int nfds = 0;
  for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
    short events = 0;
    if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
    if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
    if (events != 0) fds[nfds++] = {socks[i], events, 0};
  }
  timeval tv{};
  int timeout_ms = 1000;
  if (ares_timeout(ch, nullptr, &tv) != nullptr) {
    timeout_ms = static_cast<int>(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
  }
  poll(fds, nfds, timeout_ms);
  bool any = false;
  for (int i = 0; i < nfds; ++i) {
    if (fds[i].revents == 0) continue;
    any = true;
    ares_socket_t rd = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD;
    ares_socket_t wr = (fds[i].revents & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD;
    ares_process_fd(ch, rd, wr);
  }
  if (!any) ares_process_fd(ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
}

void RawCaresLookups(benchmark::State& state, const char* lookups) {
  BenchEnv& env = BenchEnv::Get();
  env.zone_server().SetFault(wsaf::dns::Fault::kNone);
  ares_channel ch;
  if (!MakeRawChannel(env.zone_server().ServersCsv(), lookups, &ch)) {
    state.SkipWithError("c-ares channel");
    return;
  }
  RawCounts c;
  for (auto _ : state) {
    ++c.in_flight;
    ares_gethostbyname(ch, kZoneHost, AF_INET, &OnRawHost, &c);
    // Bounded: every query ends within the timeout (2 s, 2 tries).
    while (c.in_flight >= kDepth) ProcessOnce(ch);
  }
  while (c.in_flight > 0) ProcessOnce(ch);
  ares_destroy(ch);
  state.counters["answered"] = static_cast<double>(c.answered);
  state.counters["errors"] = static_cast<double>(c.errors);
  state.SetItemsProcessed(state.iterations());
}

void BM_RawCares_Lookups(benchmark::State& state) { RawCaresLookups(state, "b"); }
void BM_RawCares_LookupsHostsFirst(benchmark::State& state) { RawCaresLookups(state, "fb"); }

}  // namespace

void RegisterDispatchBenchmarks() {
  for (auto* b : {benchmark::RegisterBenchmark("BM_Window_PostPeek", BM_Window_PostPeek),
                  benchmark::RegisterBenchmark("BM_BaselineMutexDeque_PostPeek",
                                               BM_BaselineMutexDeque_PostPeek)}) {
    b->ArgName("batch")->Arg(1)->Arg(64)->Arg(1024)->UseRealTime();
  }
  auto* cross = benchmark::RegisterBenchmark("BM_Window_PostGetMessage", BM_Window_PostGetMessage);
  cross->Threads(2)->UseRealTime();
  if (GetFlags().smoke) cross->Iterations(2000);
}

void RegisterEndToEndBenchmarks() {
  auto* ours = benchmark::RegisterBenchmark("BM_EndToEnd_Lookups", BM_EndToEnd_Lookups);
  ours->ArgName("cancel_pct")->Arg(0)->Arg(10)->UseRealTime();
  for (auto* b : {benchmark::RegisterBenchmark("BM_RawCares_Lookups", BM_RawCares_Lookups),
                  benchmark::RegisterBenchmark("BM_RawCares_LookupsHostsFirst",
                                               BM_RawCares_LookupsHostsFirst)}) {
    b->UseRealTime();
  }
}

}  // namespace wsaf_bench
