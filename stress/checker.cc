#include "checker.h"

#include <cinttypes>
#include <cstdio>

namespace wsaf::stress {

namespace {

// A lookup that waited this long may have timed out (wsaf_set_dns_timeout(200, 1)), whatever
// the fault mode was: WSATRY_AGAIN is then an honest answer.
constexpr int64_t kTimeoutUs = 190'000;

std::string Hex(uint64_t h) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%#" PRIx64, h);
  return buf;
}

bool IsSpecMessageError(int e) {
  return e == 0 || e == WSAENOBUFS || e == WSAHOST_NOT_FOUND || e == WSATRY_AGAIN ||
         e == WSANO_RECOVERY || e == WSANO_DATA;
}

std::string Want(const char* call, int answer, int want, const char* because) {
  if (answer == want) return "";
  return std::string(call) + " answered " + ErrorName(answer) + "; SPEC.md wants " +
         ErrorName(want) + " " + because;
}

}  // namespace

void Checker::Violation(const std::string& what, uint64_t handle) {
  run_.reporter.Report("t" + std::to_string(thread_) + ": " + what, run_.ledger.History(handle));
}

void Checker::ViolationLocked(const std::string& what, const Record& r) {
  run_.reporter.Report("t" + std::to_string(thread_) + ": " + what, Ledger::HistoryLocked(r));
}

// --- Messages -----------------------------------------------------------------------------

void Checker::OnMessage(const MSG& m, Via via) {
  uint64_t h = static_cast<uint64_t>(m.wParam);
  int error = WSAGETASYNCERROR(m.lParam);
  int buflen = WSAGETASYNCBUFLEN(m.lParam);
  stats_.messages[ErrorSlot(error)].Add();
  if (via == Via::kHelper) stats_.helper_messages.Add();
  bool known = run_.ledger.With(h, [&](Record* r) {
    if (r == nullptr) return false;
    run_.ledger.AppendLocked(*r, Event{0, NowUs(), thread_, EventType::kMessage,
                                       static_cast<uint8_t>(via), error, buflen});
    std::string why;
    if (r->deliveries > 0) {
      why = "the request's message was delivered twice";
    } else if (r->canceled) {
      why = "a message was delivered after WSACancelAsyncRequest answered 0";
    } else if (r->swallowed) {
      why = "a message was delivered after the final WSACleanup returned";
    } else if (r->orphaned) {
      why = "a message came for a request whose window had been destroyed";
    } else if (m.hwnd != r->hwnd || m.message != r->msg) {
      why = "the message went to the wrong window or carries the wrong wMsg";
    } else {
      why = JudgeMessage(*r, error, buflen);
    }
    ++r->deliveries;
    if (!r->canceled) r->settled.store(Settled::kDelivered, std::memory_order_release);
    if (!why.empty()) ViolationLocked(why, *r);
    return true;
  });
  if (!known) {
    Violation("a completion message (error " + std::string(ErrorName(error)) + ", buflen " +
                  std::to_string(buflen) + ") names handle " + Hex(h) +
                  ", which no start returned (or which settled long ago)",
              h);
  }
}

void Checker::OnSeenQueued(uint64_t handle) {
  run_.ledger.With(handle, [&](Record* r) {
    if (r == nullptr) return;
    r->seen_queued = true;
    run_.ledger.AppendLocked(*r, Event{0, NowUs(), thread_, EventType::kSeenQueued, 0, 0, 0});
  });
}

std::string Checker::JudgeMessage(Record& r, int error, int buflen) {
  bool netdown =
      run_.netdown_seq.load(std::memory_order_acquire) != r.netdown_seq || (r.netdown_seq & 1) != 0;
  if (!IsSpecMessageError(error) && !(netdown && error == WSAENETDOWN)) {
    return std::string("the message carries error ") + ErrorName(error) + " (" +
           std::to_string(error) + "), which SPEC.md does not allow here";
  }
  const Query& q = Catalog()[r.query];
  uint64_t fs = run_.fault_seq.load(std::memory_order_acquire);
  bool fault_window = !q.dns || (fs == r.fault_seq && fs % 2 == 0 && r.fault_free);
  // A lookup that waited past the DNS timeout, or that needed TCP, may fail with
  // WSATRY_AGAIN whatever the fault mode (catalog.h).
  bool honest_try_again =
      q.dns && error == WSATRY_AGAIN && (q.tcp || NowUs() - r.start_us >= kTimeoutUs);
  bool strict = !netdown && fault_window && !honest_try_again;
  if (strict) {
    if (std::string why = JudgeStrict(r, error, buflen); !why.empty()) return why;
  }
  if (error == 0 && buflen > r.buffer.len) {
    return "success reports " + std::to_string(buflen) + " bytes used of a " +
           std::to_string(r.buffer.len) + "-byte buffer (an overrun)";
  }
  if (error == WSAENOBUFS && buflen <= r.buffer.len) {
    return "WSAENOBUFS asks for " + std::to_string(buflen) + " bytes, but the buffer has " +
           std::to_string(r.buffer.len);
  }
  std::string why;
  if (error == 0) {
    if (r.buffer.buf == nullptr) return "success with no buffer (a size query)";
    if (!CheckResult(q, r.buffer.buf, buflen, strict, &why))
      return "the packed result is wrong: " + why;
    if (int at = FirstDamage(r.buffer, buflen); at >= 0) {
      return "byte " + std::to_string(at) + " changed past the " + std::to_string(buflen) +
             " bytes the message reports (buffer length " + std::to_string(r.buffer.len) + ")";
    }
  } else if (int at = FirstDamage(r.buffer, 0); at >= 0) {
    return "byte " + std::to_string(at) + " of the buffer changed although the message says " +
           ErrorName(error) + " (the buffer must not be touched)";
  }
  return "";
}

std::string Checker::JudgeStrict(Record& r, int error, int buflen) {
  const Query& q = Catalog()[r.query];
  if (q.expect_error != 0) {
    if (error == q.expect_error) return "";
    return std::string("error ") + ErrorName(error) + "; with no DNS fault the lookup of " +
           q.label + " must answer " + ErrorName(q.expect_error);
  }
  if (error != 0 && error != WSAENOBUFS) {
    return std::string("error ") + ErrorName(error) + "; with no DNS fault the lookup of " +
           q.label + " succeeds";
  }
  int need = run_.sizes.Get(r.query);
  int len = r.buffer.len;
  if (need == 0) {
    run_.sizes.Learn(r.query, buflen);
    need = buflen;
  }
  if (buflen != need) {
    return std::string(error == 0 ? "success of " : "WSAENOBUFS asking for ") +
           std::to_string(buflen) + " bytes, but this answer always packs to " +
           std::to_string(need) + " bytes";
  }
  if (error == 0 && len < need) {
    return "success although the buffer (" + std::to_string(len) + " bytes) is smaller than the " +
           std::to_string(need) + " bytes needed";
  }
  if (error == WSAENOBUFS && len >= need) {
    return "WSAENOBUFS although the buffer (" + std::to_string(len) + " bytes) holds the " +
           std::to_string(need) + " bytes needed";
  }
  return "";
}

// --- Cancel -------------------------------------------------------------------------------

int Checker::Cancel(uint64_t handle, CancelMoment moment, bool strict_queued) {
  Pre pre;
  run_.ledger.With(handle, [&](Record* r) {
    if (r == nullptr) return;
    pre = Pre{true, r->canceled, r->deliveries, r->orphaned, r->swallowed, r->session, r->owner};
  });
  Context ctx = run_.context.load(std::memory_order_acquire);
  uint64_t pre_seq = run_.ledger.NextSeq();
  WSASetLastError(0);
  int rc = WSACancelAsyncRequest(reinterpret_cast<HANDLE>(static_cast<uintptr_t>(handle)));
  int answer = rc == 0 ? 0 : WSAGetLastError();
  stats_.cancels[ErrorSlot(answer)].Add();
  stats_.cancel_moments[static_cast<int>(moment)].Add();
  std::string bad_rc;
  if (rc != 0 && rc != SOCKET_ERROR)
    bad_rc = "WSACancelAsyncRequest returned " + std::to_string(rc);
  if (rc == SOCKET_ERROR && answer == 0) bad_rc = "WSACancelAsyncRequest failed with last error 0";
  std::string what = std::string("cancel (") + MomentName(moment) + ") of " + Hex(handle) + ": ";
  bool known = run_.ledger.With(handle, [&](Record* r) {
    if (r == nullptr) return false;
    Event e{run_.ledger.NextSeq(),        NowUs(), thread_, EventType::kCancel,
            static_cast<uint8_t>(moment), answer,  0};
    run_.ledger.AppendLocked(*r, e);
    std::string why =
        !bad_rc.empty() ? bad_rc
                        : JudgeCancel(handle, moment, strict_queued, pre, pre_seq, answer, r, ctx);
    if (rc == 0 && !r->canceled) {
      r->canceled = true;
      r->canceled_by = thread_;
      if (r->deliveries == 0) r->settled.store(Settled::kCanceled, std::memory_order_release);
    }
    if (answer == WSAEALREADY && r->first_already_seq == 0) r->first_already_seq = e.seq;
    bool looked_pending = pre.known && !pre.canceled && pre.deliveries == 0 && !pre.orphaned &&
                          !pre.swallowed && pre.session == run_.session.load();
    if (answer == WSAEINVAL && ctx == Context::kNormal && r->owner == thread_ && looked_pending &&
        r->unexplained_inval_seq == 0) {
      r->unexplained_inval_seq = e.seq;
    }
    if (!why.empty()) ViolationLocked(what + why, *r);
    return true;
  });
  if (!known) {
    std::string why = !bad_rc.empty() ? bad_rc
                                      : JudgeCancel(handle, moment, strict_queued, pre, pre_seq,
                                                    answer, nullptr, ctx);
    if (!why.empty()) Violation(what + why, handle);
  }
  return answer;
}

std::string Checker::JudgeCancel(uint64_t handle, CancelMoment moment, bool strict_queued,
                                 const Pre& pre, uint64_t pre_seq, int answer, Record* r,
                                 Context ctx) {
  const char* call = "it";
  switch (ctx) {
    case Context::kSessionDown:
      return Want(call, answer, WSANOTINITIALISED, "after the final WSACleanup (checked first)");
    case Context::kNetDown:
      return Want(call, answer, WSAENETDOWN,
                  "while the network is down (checked before the handle)");
    case Context::kRacingCleanup:
      if (answer != 0 && answer != WSAEALREADY && answer != WSAEINVAL &&
          answer != WSANOTINITIALISED) {
        return std::string("it answered ") + ErrorName(answer) +
               " while the final WSACleanup raced it";
      }
      if (handle == 0 && answer != WSAEINVAL && answer != WSANOTINITIALISED) {
        return std::string("handle 0 answered ") + ErrorName(answer);
      }
      break;
    case Context::kNormal:
      if (std::string why = JudgeCancelNormal(handle, moment, strict_queued, pre, answer);
          !why.empty()) {
        return why;
      }
      break;
  }
  if (answer == 0) {
    if (r == nullptr) return "it answered 0, but the handle names no pending request";
    if (pre.canceled || r->canceled) return "two cancels of one request both answered 0";
    if (r->deliveries > 0) return "it answered 0, but the request's message was delivered";
    if (r->swallowed) return "it answered 0 for a request the final WSACleanup had ended";
    if (r->first_already_seq != 0 && r->first_already_seq < pre_seq) {
      return "it answered 0 after an earlier cancel of the request answered WSAEALREADY";
    }
  }
  if (answer == WSAEALREADY && r != nullptr && r->canceled) {
    return "it answered WSAEALREADY for a request whose cancel had won (WSAEINVAL is due)";
  }
  return "";
}

std::string Checker::JudgeCancelNormal(uint64_t handle, CancelMoment moment, bool strict_queued,
                                       const Pre& pre, int answer) {
  if (answer != 0 && answer != WSAEALREADY && answer != WSAEINVAL) {
    return std::string("it answered ") + ErrorName(answer) +
           "; with a session and the network up SPEC.md allows 0, WSAEALREADY or WSAEINVAL";
  }
  if (handle == 0) return Want("handle 0", answer, WSAEINVAL, "(0 is never a handle)");
  if (moment == CancelMoment::kNeverIssued) {
    return Want("a never-issued handle", answer, WSAEINVAL, "(never issued)");
  }
  if (!pre.known) return "";
  if (pre.session != run_.session.load(std::memory_order_acquire)) {
    return Want("it", answer, WSAEINVAL, "for a handle issued before the last full cleanup");
  }
  if (pre.canceled) return Want("it", answer, WSAEINVAL, "for a request already canceled");
  if (strict_queued) {
    return Want("it", answer, WSAEALREADY, "while the request's message is still queued");
  }
  return "";
}

void Checker::OnStartFailed(int error, int expected) {
  stats_.start_failures[ErrorSlot(error)].Add();
  std::string why;
  switch (run_.context.load(std::memory_order_acquire)) {
    case Context::kSessionDown:
      why = Want("a start", error, WSANOTINITIALISED, "after the final WSACleanup (checked first)");
      break;
    case Context::kNetDown:
      why = Want("a start", error, WSAENETDOWN,
                 "while the network is down (checked before arguments)");
      break;
    case Context::kRacingCleanup:
      if (expected == 0 && error != WSANOTINITIALISED && error != WSAEWOULDBLOCK) {
        why = std::string("a start failed with ") + ErrorName(error) +
              " while the final cleanup raced it";
      }
      if (expected != 0 && error != WSANOTINITIALISED && error != expected) {
        why = Want("a start with bad arguments", error, expected, "");
      }
      break;
    case Context::kNormal:
      if (expected == 0 && error != WSAEWOULDBLOCK) {
        why = std::string("a valid start failed with ") + ErrorName(error);
      }
      if (expected != 0)
        why = Want("a start with bad arguments", error, expected, "for those arguments");
      break;
  }
  if (!why.empty()) run_.reporter.Report("t" + std::to_string(thread_) + ": " + why, "");
}

// --- Settling and late checks ----------------------------------------------------------------

void Checker::JudgeSettled(Record* r) {
  run_.ledger.With(r->handle, [&](Record* live) {
    if (live != r || r->unexplained_inval_seq == 0) return;
    if (r->canceled || r->deliveries > 0) return;  // another cancel won, or it completed first
    ViolationLocked(
        "a cancel answered WSAEINVAL while the request was pending: it was never "
        "canceled and never delivered",
        *r);
  });
}

void Checker::CheckCanary(Record* r, const char* when) {
  stats_.late_checks.Add();
  run_.ledger.With(r->handle, [&](Record* live) {
    if (live != r) return;
    if (int at = FirstDamage(r->buffer, 0); at >= 0) {
      ViolationLocked("byte " + std::to_string(at) +
                          " of the buffer changed after "
                          "WSACancelAsyncRequest answered 0 (checked " +
                          when + ")",
                      *r);
      return;
    }
    run_.ledger.AppendLocked(*r, Event{0, NowUs(), thread_, EventType::kChecked, 0, 0, 0});
  });
}

void Checker::CheckDigest(Record* r, uint64_t digest) {
  stats_.late_checks.Add();
  run_.ledger.With(r->handle, [&](Record* live) {
    if (live != r) return;
    if (Digest(r->buffer) != digest) {
      ViolationLocked("the buffer changed after the final WSACleanup returned", *r);
      return;
    }
    run_.ledger.AppendLocked(*r, Event{0, NowUs(), thread_, EventType::kChecked, 0, 0, 0});
  });
}

}  // namespace wsaf::stress
