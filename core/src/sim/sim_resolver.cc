#include "sim/sim_resolver.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "resolver/local_lookup.h"
#include "resolver/pack.h"

namespace wsaf::sim {

namespace {

// The netbase data the simulation answers from (a subset of corpus/netbase/).
constexpr char kServices[] =
    "echo 7/tcp\necho 7/udp\nssh 22/tcp\nsmtp 25/tcp mail\ndomain 53/udp\n"
    "http 80/tcp www www-http\nkerberos 88/tcp kerberos5 krb5 kerberos-sec\nhttps 443/tcp\n";
constexpr char kProtocols[] = "ip 0 IP\nicmp 1 ICMP\ntcp 6 TCP\nudp 17 UDP\nipv6 41 IPv6\n";

constexpr int64_t kTimeoutMs = 30000;

// Answer sizes come from the tape: 1..4 addresses, 0..2 aliases. Fixed arrays: one is built
// for every simulated host lookup, and the fuzzer runs thousands of runs a second.
struct HostAnswer {
  static constexpr int kMaxAliases = 2;
  static constexpr int kMaxAddrs = 4;
  std::string name;
  char alias_text[kMaxAliases][16] = {};
  char* aliases[kMaxAliases + 1] = {};
  in_addr addrs[kMaxAddrs] = {};
  char* addr_list[kMaxAddrs + 1] = {};
  hostent ent{};
};

// Parsed once: every run answers from the same data and never changes it.
const NetbaseDb& SimNetbase() {
  static const NetbaseDb* db = [] {
    auto* d = new NetbaseDb;
    d->ParseServices(kServices);
    d->ParseProtocols(kProtocols);
    return d;
  }();
  return *db;
}

}  // namespace

SimResolver::SimResolver(World* world) : world_(world) {
  // A start that finds the resolver asleep wakes it, as the eventfd does in production.
  world_->engine().table.SetWaker(
      [](void* self) {
        auto* r = static_cast<SimResolver*>(self);
        r->wake_pending_ = true;
        r->world_->scheduler().Wake(&r->work_key_);
      },
      this);
}

void SimResolver::Stop() {
  while (delivering_) world_->scheduler().Wait(&idle_key_);
}

void SimResolver::Shutdown() {
  shutdown_ = true;
  world_->scheduler().Wake(&work_key_);
}

bool SimResolver::Idle() const {
  // `taking_`: preempted inside TakeSubmitted, the batch is in neither the stack nor held_.
  return held_.empty() && !answering_ && !taking_ && !world_->engine().table.PeekSubmitted();
}

void SimResolver::TakeSubmitted() {
  const seam::CodeUnderTest cut;  // the resolver thread's side of the table (TSan-in-sim)
  TaskTable& table = world_->engine().table;
  batch_.clear();
  taking_ = true;
  table.TakeSubmitted(&batch_);
  for (uint32_t index : batch_) {
    switch (table.Claim(index)) {
      case SlotState::kPending: held_.push_back(table.HandleOf(index)); break;
      case SlotState::kCanceled: table.ReclaimCanceled(index); break;
      default: break;  // freed by its cancel while it waited
    }
  }
  taking_ = false;
}

void SimResolver::Body() {
  TaskTable& table = world_->engine().table;
  Scheduler& sched = world_->scheduler();
  for (;;) {
    TakeSubmitted();
    if (held_.empty()) {
      if (shutdown_) return;
      // Production's eventfd remembers a wake that comes before the wait; so does this flag.
      // (Only wakes of this sleep count: the waker fires only while the flag below is set.)
      wake_pending_ = false;
      // The sleep protocol is the resolver thread's code under test, the wait included.
      if (const seam::CodeUnderTest cut; table.PrepareToSleep()) {
        // Between the re-check and the wait a start may run (tapes of --points sites predate
        // this point).
        if (sched.atomic_points()) seam::Point(seam::Site::kSleep);
        while (!wake_pending_ && !shutdown_) sched.Wait(&work_key_);
        table.DoneSleeping();
      }
      continue;
    }
    // Reordering: any held request may be answered next.
    uint32_t pick = world_->FaultActive(SimFault::kResolverDelay)
                        ? sched.Decide(static_cast<uint32_t>(held_.size()))
                        : 0;
    uint64_t handle = held_[pick];
    held_.erase(held_.begin() + pick);
    answering_ = true;
    if (world_->Fire(SimFault::kResolverDelay)) {
      static const char kDelayKey = 0;
      sched.WaitFor(&kDelayKey, 1 + sched.Decide(200));
    }
    AnswerOne(handle);
    answering_ = false;
  }
}

int SimResolver::ChooseError() {
  static constexpr int kErrors[] = {WSAHOST_NOT_FOUND, WSATRY_AGAIN, WSANO_RECOVERY, WSANO_DATA};
  return kErrors[world_->scheduler().Decide(4)];
}

void SimResolver::AnswerOne(uint64_t handle) {
  TaskTable& table = world_->engine().table;
  uint32_t index = TaskTable::IndexOf(handle);
  const Request& r = table.RequestOf(index);
  // Services and protocols come from the netbase files and never touch DNS: a DNS timeout or a
  // server's error cannot happen to them (SPEC.md allows them WSANO_DATA alone). Their fault
  // decisions are still read, the error's choice included, so every decision keeps its place.
  const bool dns = r.kind == RequestKind::kHostByName || r.kind == RequestKind::kHostByAddr;
  if (world_->Fire(SimFault::kResolverTimeout) && dns) {
    static const char kTimeoutKey = 0;
    world_->scheduler().WaitFor(&kTimeoutKey, kTimeoutMs);
    Deliver(handle, r, LookupAnswer{WSATRY_AGAIN});
    return;
  }
  if (world_->Fire(SimFault::kResolverError)) {
    const int error = ChooseError();
    if (dns) {
      Deliver(handle, r, LookupAnswer{error});
      return;
    }
  }
  if (dns) {
    AnswerHost(r, handle);
    return;
  }
  const seam::CodeUnderTest cut;
  AnswerLocally(r, &SimNetbase(), [&](const LookupAnswer& a) { Deliver(handle, r, a); });
}

void SimResolver::AnswerHost(const Request& r, uint64_t handle) {
  if (r.kind == RequestKind::kHostByName && std::strlen(r.name) > kMaxHostNameLength) {
    Deliver(handle, r, LookupAnswer{WSAHOST_NOT_FOUND});
    return;
  }
  if (r.kind == RequestKind::kHostByName && std::strncmp(r.name, "nosuch", 6) == 0) {
    Deliver(handle, r, LookupAnswer{WSAHOST_NOT_FOUND});
    return;
  }
  Scheduler& sched = world_->scheduler();
  HostAnswer h;
  h.name = r.kind == RequestKind::kHostByName && r.name[0] != '\0' ? r.name : "host.test";
  int aliases = static_cast<int>(sched.Decide(HostAnswer::kMaxAliases + 1));
  for (int i = 0; i < aliases; ++i) {
    std::snprintf(h.alias_text[i], sizeof h.alias_text[i], "alias%d.test", i);
    h.aliases[i] = h.alias_text[i];
  }
  h.aliases[aliases] = nullptr;
  int addrs = 1 + static_cast<int>(sched.Decide(HostAnswer::kMaxAddrs));
  for (int i = 0; i < addrs; ++i) {
    h.addrs[i] = in_addr{htonl(0x0a000001u + i)};
    h.addr_list[i] = reinterpret_cast<char*>(&h.addrs[i]);
  }
  h.addr_list[addrs] = nullptr;
  h.ent.h_name = h.name.data();
  h.ent.h_aliases = h.aliases;
  h.ent.h_addrtype = AF_INET;
  h.ent.h_length = 4;
  h.ent.h_addr_list = h.addr_list;
  LookupAnswer a;
  a.host = &h.ent;
  Deliver(handle, r, a);
}

void SimResolver::Deliver(uint64_t handle, const Request& r, const LookupAnswer& answer) {
  const seam::SimulatorCode simulator;  // also called back from AnswerLocally
  // A blocking call's private window is not one of the scenario's: logged as window -1, and
  // the checker knows the handle as internal (no start returned it).
  int window = world_->WindowIndex(r.hwnd);
  Event begin;
  begin.type = EventType::kResolverBegin;
  begin.handle = handle;
  begin.kind = static_cast<int>(r.kind);
  begin.window = window;
  begin.answer.error = answer.error;
  if (answer.error == 0) {
    PackResult need{false, 0};
    if (answer.host != nullptr) need = PackHostent(*answer.host, nullptr, 0);
    if (answer.serv != nullptr) need = PackServent(*answer.serv, nullptr, 0);
    if (answer.proto != nullptr) need = PackProtoent(*answer.proto, nullptr, 0);
    begin.answer.packed_size = static_cast<uint32_t>(need.size);
  }
  world_->Log(begin);
  delivering_ = true;
  Engine& e = world_->engine();
  {
    const seam::CodeUnderTest cut;
    DeliverAnswer(e.table, e.windows, e.network_down, handle, answer);
  }
  delivering_ = false;
  world_->scheduler().Wake(&idle_key_);
  Event end;
  end.type = EventType::kResolverEnd;
  end.handle = handle;
  end.window = begin.window;
  world_->Log(end);
}

}  // namespace wsaf::sim
