// Planted bugs: real mistakes implementations of this API make, compiled in (unless the CMake
// option WSAFAULT_MUTANTS is off) and inert unless one is selected. The framework proves its
// power by finding each of them; production never selects one.
//
// Thread safety: select a mutant before any thread uses the library (the selection is read
// without synchronisation on hot paths).
#ifndef WSAFAULT_TABLE_MUTANTS_H_
#define WSAFAULT_TABLE_MUTANTS_H_

#include <cstdint>

namespace wsaf {

enum class Mutant : uint8_t {
  kNone = 0,
  kCancelCheckThenAct,     // cancel reads PENDING, then stores CANCELED without a CAS
  kCancelStub,             // cancel returns 0 for every handle and cancels nothing
  kNoGeneration,           // handles are slot indexes only: a stale handle names a newer request
  kCancelAfterPost,        // cancel returns 0 while the message is queued
  kWriteAfterCancel,       // the resolver writes the buffer before checking for cancel
  kCleanupLeavesPending,   // the final cleanup forgets to cancel pending requests
  kLostWakeup,             // GetMessage is not woken when a completion is posted
  kWrongErrorOrder,        // cancel checks the handle before the session: WSAEINVAL first
  kNeverAlready,           // cancel answers WSAEINVAL where WSAEALREADY is due
  kZeroHandleValid,        // handle 0 is looked up like any other
  kSixteenBitHandles,      // the generation wraps at 2^16 requests per slot
  kDoubleDelivery,         // a completion that waited for queue room is posted twice
  kBufferOverrun,          // the size check is off by one pointer
  kStartNetDownFirst,      // starts check the network before the session: WSAENETDOWN first
  kNetworkDownDrops,       // a lookup completing while the network is down posts nothing
  // Lock-free mistakes: found only by preempting inside the table's atomics or by the memory
  // model (wsafault sim --memory tso) or by TSan inside the simulation.
  kFreeListNoTag,          // the free list's ABA tag is dropped: a stale CAS re-links a slot in use
  kPublishRelease,         // PENDING is published with a release store: the Dekker pairing with the
                           // final cleanup's walk breaks under TSO
  kPushFreeRelaxed,        // the free-list push is relaxed: no happens-before from the freeing thread
  kSleepFlagRelease,       // the resolver's sleep flag is stored with release before it re-checks
                           // the submit stack: a start misses it under TSO (lost wake-up)
  kSessionCheckThenAct,    // a start checks the session, then publishes without re-checking it
  kPostToDestroyed,        // a completion posts to the window it found without re-checking, under
                           // the window's lock, that it still lives: the slot stays QUEUED for ever
  kTornSessionCheck,       // a start's argument error is answered from a session check and a network
                           // check made at two instants: a final cleanup and a network toggle in
                           // between give WSAEFAULT in a state that never existed
  kDecodeUnchecked,        // handle decoding skips the capacity check: a cancel of an arbitrary
                           // handle reads a slot of a chunk never allocated (a crash, not a verdict)
  kCount
};

const char* MutantName(Mutant m);
const char* MutantDescription(Mutant m);
// Returns false for an unknown name.
bool ParseMutant(const char* name, Mutant* out);

#if defined(WSAFAULT_MUTANTS)
extern Mutant g_mutant;
#define WSAF_MUTANT(name) (__builtin_expect(::wsaf::g_mutant == ::wsaf::Mutant::name, 0))
#else
#define WSAF_MUTANT(name) false
#endif

// Selects a mutant (kNone to clear). Returns false when mutants are compiled out.
bool SelectMutant(Mutant m);

}  // namespace wsaf

#endif  // WSAFAULT_TABLE_MUTANTS_H_
