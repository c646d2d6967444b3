// What the peer cases share: a verdict, a request's history, canary buffers, pumping.
//
// A case judges one rule of SPEC.md that is Winsock's own (or one of wsafault's Decisions,
// whose breach is "differs", not "violated"), and returns the first offending request's
// history so a report can show what happened in order.
//
// Thread safety: a History is for one thread; the helpers touch only their arguments.
// Lifetime: a CanaryBuffer owns its bytes; a buffer handed to a request must outlive every
// write the target might still make, so cases that expect a late write keep it alive.
#ifndef WSAFAULT_PEER_CASE_UTIL_H_
#define WSAFAULT_PEER_CASE_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "platform.h"

namespace wsaf_peer {

enum class Verdict { kHeld, kViolated, kDiffers, kSkipped, kCrashed, kError };
const char* VerdictName(Verdict v);

struct CaseResult {
  Verdict verdict = Verdict::kHeld;
  std::string detail;                // one sentence: what was seen
  std::vector<std::string> history;  // the first offending request's events, in order
};

// Events with their time since the history began.
class History {
 public:
  History() : start_(NowMs()) {}
  void Add(const std::string& event);
  std::vector<std::string> Take() { return std::move(lines_); }

 private:
  unsigned long long start_;
  std::vector<std::string> lines_;
};

constexpr unsigned char kCanary = 0xA5;
constexpr UINT kMsg = WM_USER + 7;

class CanaryBuffer {
 public:
  explicit CanaryBuffer(int size = MAXGETHOSTSTRUCT) : bytes_(size, char(kCanary)) {}
  char* data() { return bytes_.data(); }
  int size() const { return int(bytes_.size()); }
  int FirstChanged() const;  // -1 when every byte is still the canary
 private:
  std::vector<char> bytes_;
};

struct Reply {
  HANDLE handle = nullptr;
  int error = -1;
  int buflen = -1;
  HWND hwnd = nullptr;
  UINT msg = 0;
};

// Removes every message of `w` now queued (PM_REMOVE), appending the wMsg ones.
void PumpAll(HWND w, UINT wMsg, std::vector<Reply>* out);
// Pumps `w` for `ms`, appending every wMsg message.
void PumpFor(HWND w, UINT wMsg, int ms, std::vector<Reply>* out);
// Pumps until the reply for `h` arrives (true) or `ms` pass.
bool WaitReply(HWND w, HANDLE h, int ms, Reply* out, std::vector<Reply>* others = nullptr);
int CountFor(const std::vector<Reply>& replies, HANDLE h);

std::string Hex(uintptr_t v);
std::string HandleText(HANDLE h);
std::string JsonEscape(const std::string& s);
std::string ErrorName(int code);  // "WSAEINVAL (10022)"

// WSAStartup(2.2) for the scope; Release() for a case that cleans up itself.
class Session {
 public:
  explicit Session(WORD version = MAKEWORD(2, 2));
  ~Session();
  bool ok() const { return ok_; }
  void Release() { ok_ = false; }

 private:
  bool ok_ = false;
};

}  // namespace wsaf_peer

#endif  // WSAFAULT_PEER_CASE_UTIL_H_
