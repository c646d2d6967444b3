#include "table/mutants.h"

#include <cstring>

namespace wsaf {

#if defined(WSAFAULT_MUTANTS)
Mutant g_mutant = Mutant::kNone;
#endif

namespace {
struct MutantInfo {
  const char* name;
  const char* description;
};
constexpr MutantInfo kMutants[] = {
    {"none", "the table as specified"},
    {"cancel-check-then-act", "cancel reads PENDING, then stores CANCELED without a CAS: both cancel and completion win"},
    {"cancel-stub", "cancel returns 0 for every handle, cancels nothing, and the message still comes"},
    {"no-generation", "handles are bare slot indexes: a stale handle cancels a newer request"},
    {"cancel-after-post", "cancel returns 0 while the message is already queued"},
    {"write-after-cancel", "the resolver writes the buffer before checking whether the request was canceled"},
    {"cleanup-leaves-pending", "the final WSACleanup does not cancel pending requests, which deliver later"},
    {"lost-wakeup", "a completion posted to a window does not wake a thread blocked in GetMessage"},
    {"wrong-error-order", "cancel checks the handle before the session: WSAEINVAL instead of WSANOTINITIALISED"},
    {"never-already", "cancel answers WSAEINVAL where WSAEALREADY is due (message still queued)"},
    {"zero-handle-valid", "handle 0 is decoded like any other and may name slot 0's request"},
    {"sixteen-bit-handles", "the generation wraps after 2^16 requests per slot, so handles repeat"},
    {"double-delivery", "a completion that waited for queue room is posted twice"},
    {"buffer-overrun", "the buffer-size check is short by one pointer: results overrun by 8 bytes"},
    {"start-netdown-first", "starts check the network before the session: WSAENETDOWN where WSANOTINITIALISED is due"},
    {"network-down-drops", "a lookup that completes while the network is down is dropped instead of delivering WSAENETDOWN"},
    {"free-list-no-tag", "the free list's ABA tag is dropped: a pop preempted between its load and its CAS re-links a slot already handed out"},
    {"publish-release", "PENDING is published with a release store instead of seq_cst: under TSO a start racing the final cleanup is neither refused nor canceled"},
    {"push-free-relaxed", "the free-list push is a relaxed CAS: the next start of the slot has no happens-before with the thread that freed it (a data race)"},
    {"sleep-flag-release", "the resolver's sleep flag is stored with release before the re-check of the submit stack: under TSO a start misses the sleeper (lost wake-up)"},
    {"session-check-then-act", "a start checks the session word, then publishes without re-checking it: a final cleanup in between leaves a request alive in no session"},
    {"post-to-destroyed", "a completion posts to the window it found without re-checking under the window's lock that it lives: a DestroyWindow in between strands the slot QUEUED in a dead window"},
    {"torn-session-check", "a start answers a bad argument from a session check and a network check made at two instants: a final cleanup and a network toggle between them give WSAEFAULT where only WSANOTINITIALISED or WSAENETDOWN held"},
    {"decode-unchecked", "handle decoding skips the capacity check: cancelling an arbitrary handle reads a slot in a chunk that was never allocated (SIGSEGV)"},
};
static_assert(sizeof(kMutants) / sizeof(kMutants[0]) == static_cast<int>(Mutant::kCount));
}  // namespace

const char* MutantName(Mutant m) {
  auto i = static_cast<int>(m);
  return i < static_cast<int>(Mutant::kCount) ? kMutants[i].name : "?";
}

const char* MutantDescription(Mutant m) {
  auto i = static_cast<int>(m);
  return i < static_cast<int>(Mutant::kCount) ? kMutants[i].description : "?";
}

bool ParseMutant(const char* name, Mutant* out) {
  if (name == nullptr) return false;
  for (int i = 0; i < static_cast<int>(Mutant::kCount); ++i) {
    if (std::strcmp(name, kMutants[i].name) == 0) {
      *out = static_cast<Mutant>(i);
      return true;
    }
  }
  return false;
}

bool SelectMutant(Mutant m) {
#if defined(WSAFAULT_MUTANTS)
  g_mutant = m;
  return true;
#else
  return m == Mutant::kNone;
#endif
}

}  // namespace wsaf
