#include "peer_stress.h"

#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "case_util.h"
#include "target.h"

namespace wsaf_peer {
namespace {

// The rules the stress judges, in report order.
enum Rule { kOnce, kNoDeliveryAfterCancel, kNoWriteAfterCancel, kCancelAfterDispatch,
            kHandlesUnique, kNoLostDelivery, kRuleCount };
const char* kRuleIds[kRuleCount] = {"exactly-once", "cancel-0-no-delivery", "cancel-0-no-write",
                                    "dispatched-not-cancelable", "handles-unique", "no-lost-delivery"};

struct Request {
  HANDLE handle = nullptr;
  CanaryBuffer* buf = nullptr;
  bool canceled = false;  // a cancel answered 0
  int messages = 0;
  History history;
};

struct Ledger {
  std::mutex mu;
  std::set<uintptr_t> handles;  // every handle ever issued
  long long checked[kRuleCount] = {};
  long long violations[kRuleCount] = {};
  std::string first_rule, first_detail;
  std::vector<std::string> first_history;

  void Check(Rule r, bool ok, const std::string& detail, Request* req) {
    std::lock_guard<std::mutex> lock(mu);
    ++checked[r];
    if (ok) return;
    ++violations[r];
    if (first_rule.empty()) {
      first_rule = kRuleIds[r];
      first_detail = detail;
      if (req) first_history = req->history.Take();
    }
  }
};

std::string Errs(int rc) { return rc == 0 ? "0" : ErrorName(WSAGetLastError()); }

class Worker {
 public:
  Worker(int id, const StressOptions& o, Ledger* ledger)
      : id_(id), o_(o), ledger_(ledger), rng_(o.seed * 7919 + id) {}

  void Run() {
    w_ = TheTarget().NewWindow();
    for (int i = 0; i < o_.ops; ++i) {
      StartOne();
      if (i % 8 == 7) Pump();
    }
    Drain();
  }

 private:
  std::string T() { return "t" + std::to_string(id_) + " "; }

  void StartOne() {
    auto* req = new Request();
    int size_pick = int(rng_() % 4);
    int size = size_pick == 0 ? 16 : MAXGETHOSTSTRUCT;
    req->buf = new CanaryBuffer(size);
    const char* names[] = {"host1.test", "multi.test", "nosuch.test", "10.1.2.3", "alias2.test"};
    std::string what;
    switch (rng_() % 4) {
      case 0:
      case 1: {
        const char* n = names[rng_() % 5];
        req->handle = WSAAsyncGetHostByName(w_, kMsg, n, req->buf->data(), size);
        what = std::string("WSAAsyncGetHostByName(") + n + ")";
        break;
      }
      case 2:
        req->handle = WSAAsyncGetProtoByNumber(w_, kMsg, 6, req->buf->data(), size);
        what = "WSAAsyncGetProtoByNumber(6)";
        break;
      default:
        req->handle = WSAAsyncGetServByName(w_, kMsg, "http", "tcp", req->buf->data(), size);
        what = "WSAAsyncGetServByName(http, tcp)";
        break;
    }
    req->history.Add(T() + what + ", buffer of " + std::to_string(size) + " -> " +
                     HandleText(req->handle));
    if (!req->handle) return;  // WSAEWOULDBLOCK and the like: allowed
    uintptr_t v = reinterpret_cast<uintptr_t>(req->handle);
    bool fresh;
    {
      std::lock_guard<std::mutex> lock(ledger_->mu);
      fresh = ledger_->handles.insert(v).second;
    }
    ledger_->Check(kHandlesUnique, fresh, "handle " + Hex(v) + " issued twice", req);
    if (live_.count(v)) live_.erase(v);
    live_[v] = req;
    all_.push_back(req);
    if (std::uniform_real_distribution<double>(0, 1)(rng_) < o_.cancel_ratio) MaybeCancel(req);
  }

  void MaybeCancel(Request* req) {
    int moment = int(rng_() % 3);
    if (moment == 1) {
      volatile int sink = 0;
      for (int spin = 0; spin < 2000; ++spin) sink = sink + spin;
    } else if (moment == 2) {
      Pump();  // the message may be dispatched by now
    }
    bool delivered = req->messages > 0;
    int rc = WSACancelAsyncRequest(req->handle);
    req->history.Add(T() + "WSACancelAsyncRequest" + (delivered ? " (after dispatch)" : "") +
                     " -> " + Errs(rc));
    if (delivered) {
      ledger_->Check(kCancelAfterDispatch, rc != 0,
                     "a cancel after the message was dispatched answered 0", req);
    } else if (rc == 0) {
      req->canceled = true;
    }
  }

  void Pump() {
    std::vector<Reply> got;
    PumpAll(w_, kMsg, &got);
    for (const Reply& r : got) Deliver(r);
  }

  void Deliver(const Reply& r) {
    auto it = live_.find(reinterpret_cast<uintptr_t>(r.handle));
    if (it == live_.end()) return;  // not ours to judge (a repeated handle already reported)
    Request* req = it->second;
    ++req->messages;
    req->history.Add(T() + "message: error " + ErrorName(r.error) + ", buflen " +
                     std::to_string(r.buflen));
    ledger_->Check(kOnce, req->messages == 1, "a second message for one request", req);

  }

  void Drain() {
    unsigned long long end = NowMs() + 3000;
    while (NowMs() < end) {
      Pump();
      bool waiting = false;
      for (Request* r : all_) waiting |= !r->canceled && r->messages == 0;
      if (!waiting) break;
      SleepMs(2);
    }
    PumpFor(w_, kMsg, 300, &late_);  // late messages for canceled requests
    for (const Reply& r : late_) Deliver(r);
    for (Request* r : all_) {
      if (r->canceled) {
        ledger_->Check(kNoDeliveryAfterCancel, r->messages == 0,
                       "a message came after WSACancelAsyncRequest answered 0", r);
        int changed = r->buf->FirstChanged();
        if (changed >= 0) r->history.Add(T() + "byte " + std::to_string(changed) + " changed");
        ledger_->Check(kNoWriteAfterCancel, changed < 0,
                       "the buffer was written after WSACancelAsyncRequest answered 0", r);
      } else {
        ledger_->Check(kNoLostDelivery, r->messages > 0, "a request never delivered (3 s)", r);
      }
    }
  }

  int id_;
  StressOptions o_;
  Ledger* ledger_;
  std::mt19937_64 rng_;
  HWND w_ = nullptr;
  std::map<uintptr_t, Request*> live_;
  std::vector<Request*> all_;
  std::vector<Reply> late_;
};

}  // namespace

int RunStress(const StressOptions& o) {
  Ledger ledger;
  unsigned long long start = NowMs();
  WSADATA d;
  if (WSAStartup(MAKEWORD(2, 2), &d) != 0) {
    std::printf("{\"stress\":true,\"error\":\"WSAStartup failed\"}\n");
    return -1;
  }
  std::vector<std::thread> threads;
  std::vector<Worker*> workers;
  for (int i = 0; i < o.threads; ++i) workers.push_back(new Worker(i, o, &ledger));
  for (Worker* w : workers) threads.emplace_back([w] { w->Run(); });
  for (std::thread& t : threads) t.join();
  WSACleanup();
  long long total = 0;
  std::string rules;
  for (int r = 0; r < kRuleCount; ++r) {
    total += ledger.violations[r];
    rules += std::string(r ? "," : "") + "{\"rule\":\"" + kRuleIds[r] + "\",\"checked\":" +
             std::to_string(ledger.checked[r]) + ",\"violations\":" +
             std::to_string(ledger.violations[r]) + "}";
  }
  std::string history;
  for (size_t i = 0; i < ledger.first_history.size(); ++i) {
    history += std::string(i ? "," : "") + "\"" + JsonEscape(ledger.first_history[i]) + "\"";
  }
  std::printf(
      "{\"stress\":true,\"seed\":%llu,\"threads\":%d,\"ops\":%d,\"ms\":%llu,\"violations\":%lld,"
      "\"rules\":[%s],\"first_rule\":\"%s\",\"first_detail\":\"%s\",\"history\":[%s]}\n",
      static_cast<unsigned long long>(o.seed), o.threads, o.ops, NowMs() - start, total,
      rules.c_str(), ledger.first_rule.c_str(), JsonEscape(ledger.first_detail).c_str(),
      history.c_str());
  std::fflush(stdout);
  return int(total);
}

}  // namespace wsaf_peer
