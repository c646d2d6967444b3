#include "case_util.h"

#include <cstdio>

namespace wsaf_peer {

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kHeld: return "held";
    case Verdict::kViolated: return "violated";
    case Verdict::kDiffers: return "differs from wsafault's choice";
    case Verdict::kSkipped: return "skipped";
    case Verdict::kCrashed: return "crashed";
    case Verdict::kError: return "could not run";
  }
  return "?";
}

void History::Add(const std::string& event) {
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "+%llums ", NowMs() - start_);
  lines_.push_back(prefix + event);
}

int CanaryBuffer::FirstChanged() const {
  for (size_t i = 0; i < bytes_.size(); ++i) {
    if (static_cast<unsigned char>(bytes_[i]) != kCanary) return int(i);
  }
  return -1;
}

void PumpAll(HWND w, UINT wMsg, std::vector<Reply>* out) {
  MSG m;
  while (PeekMessage(&m, w, 0, 0, PM_REMOVE)) {
    if (m.message != wMsg) continue;
    Reply r;
    r.handle = reinterpret_cast<HANDLE>(m.wParam);
    r.error = WSAGETASYNCERROR(m.lParam);
    r.buflen = WSAGETASYNCBUFLEN(m.lParam);
    r.hwnd = m.hwnd;
    r.msg = m.message;
    out->push_back(r);
  }
}

void PumpFor(HWND w, UINT wMsg, int ms, std::vector<Reply>* out) {
  unsigned long long end = NowMs() + ms;
  do {
    PumpAll(w, wMsg, out);
    SleepMs(2);
  } while (NowMs() < end);
  PumpAll(w, wMsg, out);
}

bool WaitReply(HWND w, HANDLE h, int ms, Reply* out, std::vector<Reply>* others) {
  unsigned long long end = NowMs() + ms;
  std::vector<Reply> got;
  for (;;) {
    PumpAll(w, kMsg, &got);
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i].handle != h) continue;
      *out = got[i];
      if (others) {
        for (size_t j = 0; j < got.size(); ++j) {
          if (j != i) others->push_back(got[j]);
        }
      }
      return true;
    }
    if (NowMs() >= end) break;
    SleepMs(1);
  }
  if (others) others->insert(others->end(), got.begin(), got.end());
  return false;
}

int CountFor(const std::vector<Reply>& replies, HANDLE h) {
  int n = 0;
  for (const Reply& r : replies) n += r.handle == h;
  return n;
}

std::string Hex(uintptr_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string HandleText(HANDLE h) { return Hex(reinterpret_cast<uintptr_t>(h)); }

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string ErrorName(int code) {
  const char* name = "";
  switch (code) {
    case 0: name = "0"; break;
    case WSAEINTR: name = "WSAEINTR"; break;
    case WSAEFAULT: name = "WSAEFAULT"; break;
    case WSAEINVAL: name = "WSAEINVAL"; break;
    case WSAEWOULDBLOCK: name = "WSAEWOULDBLOCK"; break;
    case WSAEINPROGRESS: name = "WSAEINPROGRESS"; break;
    case WSAEALREADY: name = "WSAEALREADY"; break;
    case WSAEOPNOTSUPP: name = "WSAEOPNOTSUPP"; break;
    case WSAENETDOWN: name = "WSAENETDOWN"; break;
    case WSAENOBUFS: name = "WSAENOBUFS"; break;
    case WSANOTINITIALISED: name = "WSANOTINITIALISED"; break;
    case WSAVERNOTSUPPORTED: name = "WSAVERNOTSUPPORTED"; break;
    case WSAHOST_NOT_FOUND: name = "WSAHOST_NOT_FOUND"; break;
    case WSATRY_AGAIN: name = "WSATRY_AGAIN"; break;
    case WSANO_RECOVERY: name = "WSANO_RECOVERY"; break;
    case WSANO_DATA: name = "WSANO_DATA"; break;
    default: name = "error"; break;
  }
  return std::string(name) + " (" + std::to_string(code) + ")";
}

Session::Session(WORD version) {
  WSADATA d;
  ok_ = WSAStartup(version, &d) == 0;
}

Session::~Session() {
  if (ok_) WSACleanup();
}

}  // namespace wsaf_peer
