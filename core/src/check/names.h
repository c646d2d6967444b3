// Names for what the checkers print: Winsock error codes, event types, hook operations,
// handles and threads. Every report, timeline and coverage listing spells them the same way.
//
// Thread safety: pure functions; the returned C strings are static.
#ifndef WSAFAULT_CHECK_NAMES_H_
#define WSAFAULT_CHECK_NAMES_H_

#include <cstdint>
#include <string>

#include "sim/events.h"

namespace wsaf::check {

// "WSAEINVAL", "WSAHOST_NOT_FOUND", ...; "NO_ERROR" for 0; "UNKNOWN" for a code Winsock does
// not define here.
const char* WinsockErrorName(int error);
// As WinsockErrorName, but an unknown code prints as "error 1234".
std::string WinsockErrorString(int error);

// The API call an event records: "WSAStartup", "WSACancelAsyncRequest", "PeekMessage", ...
const char* EventLabel(sim::EventType type);
const char* HookOpName(sim::HookOp op);

// "0x400001"; "NULL" for 0.
std::string HandleString(uint64_t handle);
// "T0".."Tn-1" for application threads, "R" for the resolver (thread == run.app_threads).
std::string ThreadLabel(const sim::Run& run, int thread);

}  // namespace wsaf::check

#endif  // WSAFAULT_CHECK_NAMES_H_
