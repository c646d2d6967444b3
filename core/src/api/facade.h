// The Winsock facade's shared start path, for the facade's own files.
#ifndef WSAFAULT_API_FACADE_H_
#define WSAFAULT_API_FACADE_H_

#include "table/task_table.h"
#include "wsafault/winsock_async.h"

namespace wsaf {

class Engine;

// A start's checks in SPEC.md's order: not initialised, network down, in progress, then
// `arg_error` (the caller's verdict on its arguments, 0 if fine). The answer held at one
// instant (the session and the network flag are two words). Returns 0 or the error; *session
// is the session word to pass on to the table.
int CheckStart(Engine& e, uint64_t* session, int arg_error);

// Checks the session (not initialised, network down, in progress), then `arg_error` (the
// caller's verdict on its arguments, 0 if fine), then the buffer; starts the request. Returns
// the handle, or NULL with the last error set.
HANDLE StartRequest(const RequestArgs& args, int arg_error);

}  // namespace wsaf

#endif  // WSAFAULT_API_FACADE_H_
