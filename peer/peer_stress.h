// A multi-threaded stress of a target through plain Winsock, with an online checker: each
// thread owns one message-only window (on Windows a window's queue is read by its own thread),
// starts requests of every kind into canary buffers, cancels a share of them at a chosen moment
// (at once, after a spin, once the message is queued, after dispatch), pumps, and judges every
// event against the rules a foreign target is held to. The seed fixes the operation mix, not
// the interleaving (real threads).
//
// Thread safety: RunStress starts and joins its own threads; the ledger is behind one mutex.
// Lifetime: buffers handed to the target live until the process ends (a late write must land
// in live memory, where the canary sees it).
#ifndef WSAFAULT_PEER_PEER_STRESS_H_
#define WSAFAULT_PEER_PEER_STRESS_H_

#include <cstdint>
#include <string>

namespace wsaf_peer {

struct StressOptions {
  uint64_t seed = 1;
  int threads = 2;
  int ops = 2000;  // starts per thread
  double cancel_ratio = 0.5;
};

// Prints one JSON line (rules checked, violations, the first violating handle's history) and
// returns the number of violations.
int RunStress(const StressOptions& o);

}  // namespace wsaf_peer

#endif  // WSAFAULT_PEER_PEER_STRESS_H_
