#include "api/engine.h"

#include <mutex>

#include "resolver/cares_backend.h"

namespace wsaf {

namespace {
seam::Atomic<Engine*> g_installed{nullptr};
}

Engine::Engine() { windows.SetSink(this); }
Engine::~Engine() = default;

bool Engine::StillWanted(uint64_t task) {
  uint32_t index = TaskTable::IndexOf(task);
  uint64_t s = table.Session();
  return TaskTable::RefsOf(s) > 0 && TaskTable::EpochOf(s) == table.EpochOfSlot(index);
}

void Engine::SetBackend(std::unique_ptr<Backend> backend) { backend_ = std::move(backend); }

ResolverConfig Engine::config() {
  seam::MutexLock lock(config_mu_);
  return config_;
}

void Engine::UpdateConfig(const std::function<void(ResolverConfig*)>& change) {
  seam::MutexLock lock(config_mu_);
  change(&config_);
  config_.version = config_version_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

std::shared_ptr<const NetbaseDb> Engine::Netbase() {
  seam::MutexLock lock(config_mu_);
  if (config_.netbase == nullptr) {
    auto db = std::make_shared<NetbaseDb>();
    std::string text, error;
    bool ok = true;
    if (ReadSmallFile("/etc/services", &text, &error)) db->ParseServices(text); else ok = false;
    if (ReadSmallFile("/etc/protocols", &text, &error)) db->ParseProtocols(text); else ok = false;
    if (!ok) return nullptr;  // try again next time: the files may appear
    config_.netbase = std::move(db);
  }
  return config_.netbase;
}

Engine& CurrentEngine() {
  Engine* e = g_installed.load(std::memory_order_acquire);
  if (e != nullptr) return *e;
  // Never destroyed: application threads may call in while the process exits.
  static Engine* production = [] {
    auto* engine = new Engine;
    engine->SetBackend(std::make_unique<CaresBackend>(*engine));
    return engine;
  }();
  return *production;
}

void InstallEngine(Engine* engine) { g_installed.store(engine, std::memory_order_release); }

}  // namespace wsaf
