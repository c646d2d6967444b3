#include "resolver/cares_backend.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "resolver/local_lookup.h"
#include "table/completion.h"

namespace wsaf {

namespace {

void InitAresOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
      std::fprintf(stderr, "wsafault: ares_library_init failed\n");
      std::abort();
    }
  });
}

void WakeEventFd(void* arg) {
  int fd = *static_cast<int*>(arg);
  uint64_t one = 1;
  // A full counter (impossible in practice) still leaves the fd readable: the wake is not lost.
  ssize_t n = write(fd, &one, sizeof(one));
  (void)n;
}

}  // namespace

int MakeIsolatedChannel(const ResolverConfig& config, const char* lookups_order, ares_channel* out) {
  InitAresOnce();
  ares_options opts{};
  // Every field c-ares would otherwise take from the system resolver configuration is set
  // here, which makes ares_init_options skip reading it.
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
             ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS | ARES_OPT_SORTLIST | ARES_OPT_SERVERS;
  // NOCHECKRESP: without it c-ares 1.18 turns SERVFAIL and REFUSED into ECONNREFUSED, and
  // SPEC.md tells server failure (WSATRY_AGAIN) from refusal (WSANO_RECOVERY).
  opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_NOCHECKRESP;
  opts.timeout = config.timeout_ms;
  opts.tries = config.tries;
  opts.ndots = 1;
  opts.domains = nullptr;
  opts.ndomains = 0;
  std::string lookups(lookups_order);
  opts.lookups = lookups.data();
  opts.sortlist = nullptr;
  opts.nsort = 0;
  in_addr loopback{};
  loopback.s_addr = htonl(INADDR_LOOPBACK);
  opts.servers = &loopback;
  opts.nservers = 1;
  int rc = ares_init_options(out, &opts, mask);
  if (rc != ARES_SUCCESS) return rc;
  rc = ares_set_servers_ports_csv(*out, config.dns_servers.c_str());
  if (rc != ARES_SUCCESS) {
    ares_destroy(*out);
    *out = nullptr;
  }
  return rc;
}

CaresBackend::CaresBackend(Engine& engine) : engine_(engine) {
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) {
    std::perror("wsafault: eventfd");
    std::abort();
  }
  engine_.table.SetWaker(&WakeEventFd, &event_fd_);
}

CaresBackend::~CaresBackend() {
  Stop();
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(park_mu_);
      exit_ = true;
    }
    park_cv_.notify_all();
    thread_.join();
  }
  close(event_fd_);
}

// Start and Stop are called under the engine's session mutex, never concurrently.
void CaresBackend::Start() {
  std::lock_guard<std::mutex> lock(park_mu_);
  if (running_) return;
  stop_.store(false, std::memory_order_release);
  running_ = true;
  if (!thread_.joinable()) {
    thread_ = std::thread([this] { ThreadMain(); });
  } else {
    park_cv_.notify_all();
  }
}

void CaresBackend::Stop() {
  std::unique_lock<std::mutex> lock(park_mu_);
  if (!running_) return;
  stop_.store(true, std::memory_order_release);
  WakeEventFd(&event_fd_);
  // As a join would: once the thread parks, the session's shutdown has happened before this
  // returns (no callback runs and no buffer is written after the final WSACleanup).
  park_cv_.wait(lock, [this] { return !running_; });
}

void CaresBackend::ThreadMain() {
  std::unique_lock<std::mutex> lock(park_mu_);
  for (;;) {
    park_cv_.wait(lock, [this] { return running_ || exit_; });
    if (exit_) return;
    lock.unlock();
    Run();
    lock.lock();
    running_ = false;
    park_cv_.notify_all();
  }
}

void CaresBackend::Run() {
  while (!stop_.load(std::memory_order_acquire)) {
    ServeSubmitted();
    DestroyIdleChannels(false);
    WaitAndProcess();
  }
  // The session ended: every request of it is canceled. Destroying the channels runs each
  // outstanding query's callback (ARES_EDESTRUCTION), which loses the race and reclaims.
  DestroyIdleChannels(true);
  if (file_channel_ != nullptr) ares_destroy(file_channel_);
  file_channel_ = nullptr;
  ServeSubmitted();
}

void CaresBackend::ServeSubmitted() {
  batch_.clear();
  engine_.table.TakeSubmitted(&batch_);
  if (!batch_.empty()) fruitless_trims_ = 0;  // new work: trimming may find something later
  // Claimed one by one, each just before its lookup begins: a cancel that comes first frees
  // the slot on its own thread.
  bool canceled_first = false;
  for (uint32_t index : batch_) {
    switch (engine_.table.Claim(index)) {
      case SlotState::kPending: StartLookup(index); break;
      case SlotState::kCanceled:  // canceled before we got to it
        engine_.table.ReclaimCanceled(index);
        canceled_first = true;
        break;
      default: canceled_first = true; break;  // freed by its cancel while it waited
    }
  }
  // The next wait is a nap (see WaitAndProcess) after a take of a few requests (1 to
  // kNapMaxTaken) while cancels are racing the resolver (one of the last kNapTakes takes had a
  // request canceled before its claim). Measured in alternating runs against a nap after every
  // take (docs/bench/analysis.md): without cancels a nap only delays the lookups (end to end
  // with 32 in flight, 15 % fewer a second); after a large take (a burst of starts that outruns
  // the nap) the resolver keeps up with the burst instead, since a nap ending in the middle of
  // one had it answer up to 12 % of the requests before their cancel (batch 1024, median of ours
  // / mutex map: 3.6 without the size limit, 1.9 with it).
  constexpr int kNapTakes = 8;
  constexpr std::size_t kNapMaxTaken = 128;
  if (canceled_first) {
    cancels_racing_ = kNapTakes;
  } else if (!batch_.empty() && cancels_racing_ > 0) {
    --cancels_racing_;
  }
  nap_ = !batch_.empty() && batch_.size() <= kNapMaxTaken && cancels_racing_ > 0;
}

void CaresBackend::StartLookup(uint32_t index) {
  TaskTable& table = engine_.table;
  const Request& r = table.RequestOf(index);
  uint64_t handle = table.HandleOf(index);
  auto deliver = [&](const LookupAnswer& a) {
    DeliverAnswer(table, engine_.windows, engine_.network_down, handle, a);
  };
  bool dns = r.kind == RequestKind::kHostByName || r.kind == RequestKind::kHostByAddr;
  std::shared_ptr<const NetbaseDb> db = dns ? nullptr : engine_.Netbase();
  if (AnswerLocally(r, db.get(), deliver)) return;
  Channel* ch = CurrentChannel();
  if (ch == nullptr) {
    deliver(LookupAnswer{WSANO_RECOVERY});
    return;
  }
  auto* ctx = new QueryContext{this, ch, handle, index};
  ++ch->outstanding;
  // Numeric names and hosts-file answers call back before these return.
  if (r.kind == RequestKind::kHostByName) {
    ares_gethostbyname(ch->channel, r.name, AF_INET, &OnHost, ctx);
    return;
  }
  if (file_channel_ == nullptr &&
      MakeIsolatedChannel(engine_.config(), "f", &file_channel_) != ARES_SUCCESS) {
    file_channel_ = nullptr;
    OnFileAddr(ctx, ARES_ENOTFOUND, 0, nullptr);
    return;
  }
  ares_gethostbyaddr(file_channel_, r.addr, r.addr_len, r.family, &OnFileAddr, ctx);
}

std::string ReverseName(const unsigned char* a, int len) {
  char buf[96];
  std::string name;
  if (len == 4) {
    std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
    return buf;
  }
  static const char kHex[] = "0123456789abcdef";
  for (int i = len - 1; i >= 0; --i) {
    name += kHex[a[i] & 15];
    name += '.';
    name += kHex[a[i] >> 4];
    name += '.';
  }
  return name + "ip6.arpa";
}

void CaresBackend::OnFileAddr(void* arg, int status, int, hostent* host) {
  auto* ctx = static_cast<QueryContext*>(arg);
  if (status == ARES_SUCCESS || status == ARES_EDESTRUCTION) {
    Finish(ctx, status, host);
    return;
  }
  const Request& r = ctx->self->engine_.table.RequestOf(ctx->index);
  std::string name = ReverseName(r.addr, r.addr_len);
  ares_query(ctx->channel->channel, name.c_str(), 1 /* C_IN */, 12 /* T_PTR */, &OnPtr, ctx);
}

void CaresBackend::OnPtr(void* arg, int status, int, unsigned char* abuf, int alen) {
  auto* ctx = static_cast<QueryContext*>(arg);
  if (status != ARES_SUCCESS) {
    Finish(ctx, status, nullptr);
    return;
  }
  const Request& r = ctx->self->engine_.table.RequestOf(ctx->index);
  hostent* host = nullptr;
  status = ares_parse_ptr_reply(abuf, alen, r.addr, r.addr_len, r.family, &host);
  Finish(ctx, status, host);
  if (host != nullptr) ares_free_hostent(host);
}

void CaresBackend::OnHost(void* arg, int status, int /*timeouts*/, hostent* host) {
  Finish(static_cast<QueryContext*>(arg), status, host);
}

void CaresBackend::Finish(QueryContext* ctx, int status, hostent* host) {
  CaresBackend* self = ctx->self;
  --ctx->channel->outstanding;
  LookupAnswer a =
      AnswerFromAres(self->engine_.table.RequestOf(ctx->index).kind, status, host);
  DeliverAnswer(self->engine_.table, self->engine_.windows, self->engine_.network_down,
                ctx->handle, a);
  delete ctx;
}

CaresBackend::Channel* CaresBackend::CurrentChannel() {
  uint64_t version = engine_.config_version();
  if (!channels_.empty() && channels_.back().config_version == version) return &channels_.back();
  ResolverConfig config = engine_.config();
  Channel ch;
  ch.config_version = config.version;
  if (MakeIsolatedChannel(config, "fb", &ch.channel) != ARES_SUCCESS) return nullptr;
  channels_.push_back(ch);
  return &channels_.back();
}

void CaresBackend::DestroyIdleChannels(bool all) {
  for (auto it = channels_.begin(); it != channels_.end();) {
    bool current = std::next(it) == channels_.end();
    if (all || (!current && it->outstanding == 0)) {
      ares_destroy(it->channel);  // outside any callback
      it = channels_.erase(it);
    } else {
      ++it;
    }
  }
}

void CaresBackend::WaitAndProcess() {
  std::vector<pollfd> fds;
  std::vector<Channel*> owners;  // owners[i] has fds[i]
  fds.push_back({event_fd_, POLLIN, 0});
  owners.push_back(nullptr);
  int timeout_ms = -1;
  for (Channel& ch : channels_) {
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int bits = ares_getsock(ch.channel, socks, ARES_GETSOCK_MAXNUM);
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
      short events = 0;
      if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
      if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
      if (events == 0) continue;
      fds.push_back({socks[i], events, 0});
      owners.push_back(&ch);
    }
    timeval tv{};
    if (ch.outstanding > 0 && ares_timeout(ch.channel, nullptr, &tv) != nullptr) {
      int ms = static_cast<int>(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
      if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = ms;
    }
  }
  // Idle (no lookup outstanding) with a table grown past its first chunk: give wholly free
  // chunks back, at most once a second; while that may still find some (the pump and window
  // destruction free slots without waking us), sleep at most a second.
  bool idle = true;
  for (const Channel& ch : channels_) idle = idle && ch.outstanding == 0;
  if (idle && engine_.table.capacity() > TaskTable::kChunkSlots) {
    constexpr int kIdleTrims = 3;
    auto now = std::chrono::steady_clock::now();
    if (now - last_trim_ >= std::chrono::seconds(1)) {
      last_trim_ = now;
      fruitless_trims_ = engine_.table.Trim() > 0 ? 0 : fruitless_trims_ + 1;
    }
    if (fruitless_trims_ < kIdleTrims && (timeout_ms < 0 || timeout_ms > 1000)) timeout_ms = 1000;
  }
  // Wake coalescing: while requests keep coming and being canceled (ServeSubmitted decides), the
  // resolver naps instead of sleeping. It does not announce the nap, so the starts meanwhile write
  // no eventfd (a system call and a cross-core wake-up each: a fifth of an isolated start+cancel's
  // time), and it takes what they submitted when the nap ends, at most kNapNs later: a request
  // canceled within the nap is freed by its cancel without the resolver reading its slot. Its
  // sockets still end the nap at once. Otherwise it sleeps as before (announced: the next start
  // wakes it). The table's protocol is the same either way: a nap is a resolver that is late.
  constexpr long kNapNs = 50000;
  if (nap_ && timeout_ms != 0) {  // 0: c-ares has work due now
    timespec nap{0, kNapNs};
    ppoll(fds.data(), fds.size(), &nap, nullptr);
  } else if (engine_.table.PrepareToSleep()) {
    poll(fds.data(), fds.size(), timeout_ms);
    engine_.table.DoneSleeping();
  } else {
    poll(fds.data(), fds.size(), 0);  // work is waiting: just collect ready sockets
  }
  if (fds[0].revents & POLLIN) {
    uint64_t value;
    ssize_t n = read(event_fd_, &value, sizeof(value));
    (void)n;
  }
  for (std::size_t i = 1; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    ares_socket_t rd = (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD;
    ares_socket_t wr = (fds[i].revents & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD;
    ares_process_fd(owners[i]->channel, rd, wr);
  }
  for (Channel& ch : channels_) ares_process_fd(ch.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

}  // namespace wsaf
