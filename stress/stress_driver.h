// `wsafault stress`: the multi-threaded stress driver, with its online checker.
//
// Overview
//   Real threads start all six kinds of Winsock async lookup, cancel a share of them at
//   chosen moments, pump their windows, destroy windows and nest sessions, while the
//   controller races the final WSACleanup against them, takes the network down, and switches
//   an embedded DNS server (127.0.0.1, ephemeral port; the only DNS the run uses) through its
//   fault modes. A ledger records every answer per handle and the checker holds each one to
//   SPEC.md as it arrives; the run ends with a liveness phase (faults off, everything drains)
//   and the last cleanup. See stress/README.md for the rules and the design.
//
// Thread safety
//   Call once per process, from one thread: it selects the planted bug (if any) before any
//   library thread starts, and owns the library's session for the run.
//
// Lifetime
//   Starts and ends the library's session itself; no request or window of the run survives
//   the call.
#ifndef WSAFAULT_STRESS_STRESS_DRIVER_H_
#define WSAFAULT_STRESS_STRESS_DRIVER_H_

// argv[0] is the command name ("stress"). Returns 0 when the run was clean, 1 on a violation
// (the report names the seed, the handle's history and a command that reruns), 2 on bad
// arguments. With --expect-violation, 0 and 1 swap meaning (for the mutant tests).
int RunStressCommand(int argc, char** argv);

#endif  // WSAFAULT_STRESS_STRESS_DRIVER_H_
