// The Engine: one instance of everything behind the Winsock facade — the task table, the
// windows, the configuration, and the backend that performs lookups.
//
// Production uses one process-wide Engine with the c-ares backend, created on first use and
// never destroyed (threads of the application may call in until the very end). The simulation
// installs an Engine of its own per run, with a backend the scheduler drives, so that every
// run starts from the same state.
//
// Thread safety: the members are thread-safe as documented on their types; `session_mu`
// serialises WSAStartup/WSACleanup (and so Backend::Start/Stop).
#ifndef WSAFAULT_API_ENGINE_H_
#define WSAFAULT_API_ENGINE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "resolver/netbase.h"
#include "seams/seams.h"
#include "table/task_table.h"
#include "windows/window.h"

namespace wsaf {

// Performs the lookups of the table's submitted requests.
class Backend {
 public:
  virtual ~Backend() = default;
  // The session begins (first WSAStartup).
  virtual void Start() = 0;
  // The final WSACleanup: returns once no completion is running or can start for the ended
  // session. Must not wait for DNS timeouts.
  virtual void Stop() = 0;
};

struct ResolverConfig {
  std::string dns_servers = "127.0.0.1:53";
  int timeout_ms = 2000;
  int tries = 2;
  std::shared_ptr<const NetbaseDb> netbase;  // null: load the system files on first use
  uint64_t version = 1;                      // moves on at every change
};

class Engine : public CompletionSink {
 public:
  Engine();
  ~Engine() override;

  // CompletionSink: what a window does with a completion it holds.
  bool StillWanted(uint64_t task) override;
  void Queued(uint64_t task) override { table.MarkQueued(task); }
  void Dropped(uint64_t task) override { table.FinishDone(task); }

  TaskTable table;
  WindowRegistry windows;
  seam::Atomic<bool> network_down{false};

  seam::Mutex session_mu;
  WORD session_version GUARDED_BY(session_mu) = 0;  // negotiated by the session's first startup
  seam::Atomic<bool> blocking_supported{false};      // the session negotiated 1.1

  void SetBackend(std::unique_ptr<Backend> backend);
  Backend* backend() { return backend_.get(); }

  ResolverConfig config();
  void UpdateConfig(const std::function<void(ResolverConfig*)>& change);
  uint64_t config_version() const { return config_version_.load(std::memory_order_acquire); }
  // The netbase databases, loading the system files the first time (null if unreadable).
  std::shared_ptr<const NetbaseDb> Netbase();

 private:
  std::unique_ptr<Backend> backend_;
  seam::Mutex config_mu_;
  ResolverConfig config_ GUARDED_BY(config_mu_);
  seam::Atomic<uint64_t> config_version_{1};
};

// The engine the API calls use: the installed one, or the process-wide production engine.
Engine& CurrentEngine();
// Installs `engine` (null: back to the production engine). For the simulation and tests.
void InstallEngine(Engine* engine);

}  // namespace wsaf

#endif  // WSAFAULT_API_ENGINE_H_
