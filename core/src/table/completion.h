// The completion path: how a lookup's answer becomes a written buffer and a posted message.
//
// DeliverAnswer is the resolver's half of the cancel/commit race (TaskTable::TryBeginCommit):
// if cancel won, the slot is reclaimed and nothing is written. Otherwise the answer is packed
// into the caller's buffer (or WSAENOBUFS with the size needed, buffer untouched), and the
// message is posted to the request's window, waiting for room when the queue is full. A
// destroyed window or a session ended by the final WSACleanup completes the request silently.
//
// Thread safety: called by the resolver (one thread at a time per table). May block while a
// window's queue is full.
#ifndef WSAFAULT_TABLE_COMPLETION_H_
#define WSAFAULT_TABLE_COMPLETION_H_

#include <netdb.h>

#include <atomic>
#include <cstdint>

#include "table/task_table.h"
#include "windows/window.h"

namespace wsaf {

// What a lookup produced: a Winsock error, or (error 0) exactly one of the results.
struct LookupAnswer {
  int error = 0;
  const hostent* host = nullptr;
  const servent* serv = nullptr;
  const protoent* proto = nullptr;
};

// Maps a c-ares status to the Winsock error SPEC.md assigns it.
int WinsockErrorFromAres(int ares_status);

// What a c-ares host callback means for a request of `kind`: the error, or the host. A
// success without a host is WSANO_RECOVERY; a GetHostByName answer that is not IPv4 is
// WSANO_DATA (c-ares 1.18 passes on AAAA records a server put in the answer to an A query).
LookupAnswer AnswerFromAres(RequestKind kind, int ares_status, const hostent* host);

void DeliverAnswer(TaskTable& table, WindowRegistry& windows, const seam::Atomic<bool>& network_down,
                   uint64_t handle, const LookupAnswer& answer);

}  // namespace wsaf

#endif  // WSAFAULT_TABLE_COMPLETION_H_
