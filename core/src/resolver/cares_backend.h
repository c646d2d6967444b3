// The production backend: one resolver thread that owns the c-ares channels.
//
// c-ares 1.18 is not thread-safe and has no per-query cancel, so one thread owns every
// channel, and a cancel is decided in the task table, never by ares_cancel: a canceled
// request's query runs to its end and its answer is dropped (DeliverAnswer loses the race).
// Services and protocols are answered from the netbase files on the same thread, so every
// completion goes through one path.
//
// The thread sleeps in poll() on an eventfd and the channels' sockets; a start wakes it only
// when it sleeps (TaskTable::PrepareToSleep), so starts make no system call in the common
// case. A change of DNS servers or timeouts makes a new channel for later lookups; old channels
// drain and are destroyed outside any c-ares callback (1.18.1 double-frees when a channel is
// destroyed from inside one).
//
// Network safety: channels are made with every option that would otherwise be read from the
// system resolver configuration set explicitly, so c-ares never reads it; DNS goes only to the
// configured servers (default 127.0.0.1:53).
#ifndef WSAFAULT_RESOLVER_CARES_BACKEND_H_
#define WSAFAULT_RESOLVER_CARES_BACKEND_H_

#include <ares.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/engine.h"

namespace wsaf {

// Makes a channel that reads no system configuration. `lookups` is c-ares' lookup order
// ("fb": hosts file, then DNS). Returns ARES_SUCCESS or the failure.
int MakeIsolatedChannel(const ResolverConfig& config, const char* lookups, ares_channel* out);

// The reverse-lookup name of an address ("1.0.0.10.in-addr.arpa", nibbles under ip6.arpa).
std::string ReverseName(const unsigned char* addr, int len);

class CaresBackend : public Backend {
 public:
  explicit CaresBackend(Engine& engine);
  ~CaresBackend() override;
  // The first Start makes the resolver thread; Stop (the final WSACleanup) returns once the
  // thread has ended the session (every channel destroyed, every request reclaimed) and parked;
  // the next Start wakes it. One thread for the process's life, not one per session: a thread
  // per session costs little natively but grows a sanitizer's thread registry without bound
  // (about 0.5 KB per thread under ASan), which a fuzzer running a session per input notices.
  void Start() override;
  void Stop() override;

 private:
  struct Channel {
    ares_channel channel = nullptr;
    uint64_t config_version = 0;
    int outstanding = 0;
  };
  struct QueryContext {
    CaresBackend* self;
    Channel* channel;
    uint64_t handle;
    uint32_t index;
  };

  void ThreadMain();
  void Run();  // one session: until stop_, then the session's shutdown
  void ServeSubmitted();
  void StartLookup(uint32_t index);
  Channel* CurrentChannel();
  void DestroyIdleChannels(bool all);
  void WaitAndProcess();
  static void OnHost(void* arg, int status, int timeouts, hostent* host);
  // Reverse lookups: the hosts file first (a file-only channel answers at once), then a PTR
  // query of our own, because ares_gethostbyaddr reports every DNS failure as ENOTFOUND and
  // SPEC.md tells server failures and refusals apart.
  static void OnFileAddr(void* arg, int status, int timeouts, hostent* host);
  static void OnPtr(void* arg, int status, int timeouts, unsigned char* abuf, int alen);
  static void Finish(QueryContext* ctx, int status, hostent* host);

  Engine& engine_;
  int event_fd_ = -1;
  std::thread thread_;
  seam::Atomic<bool> stop_{false};
  // Guards running_ and exit_; the thread waits on park_cv_ between sessions, Stop waits on it
  // for the end of a session.
  std::mutex park_mu_;
  std::condition_variable park_cv_;
  bool running_ = false;  // a session is being served (false: parked, or not started)
  bool exit_ = false;     // the destructor: leave ThreadMain
  ares_channel file_channel_ = nullptr;  // lookups "f": the hosts file only
  std::list<Channel> channels_;  // back() takes new lookups; std::list keeps addresses stable
  std::vector<uint32_t> batch_;
  // Idle trimming (TaskTable::Trim): when the last one ran, and how many in a row gave nothing
  // back (after kIdleTrims of those the resolver stops waking for it until work comes).
  std::chrono::steady_clock::time_point last_trim_{};
  int fruitless_trims_ = 0;
  // The next wait is a nap, not a sleep (WaitAndProcess; set by ServeSubmitted), and how many
  // more takes without a request canceled before its claim keep napping.
  bool nap_ = false;
  int cancels_racing_ = 0;
};

}  // namespace wsaf

#endif  // WSAFAULT_RESOLVER_CARES_BACKEND_H_
