// The one place where the peer drivers meet the platform: which Winsock header, how to sleep,
// how to run a case in a child process. Everything else in peer/ is written once against the
// Winsock API and the Target interface (target.h), for both targets.
//
// Thread safety: every function may be called from any thread.
// Lifetime: nothing here keeps state.
#ifndef WSAFAULT_PEER_PLATFORM_H_
#define WSAFAULT_PEER_PLATFORM_H_

#ifdef _WIN32
#include <winsock2.h>
#include <windows.h>
#else
#include <wsafault/winsock_async.h>
#endif

#include <string>
#include <vector>

namespace wsaf_peer {

void SleepMs(int ms);
unsigned long long NowMs();  // monotonic
unsigned long CurrentProcessId();
std::string SelfPath();       // this executable
unsigned long InetAddr(const char* dotted);  // network byte order, 0xffffffff when bad

// What a child run of this executable left behind.
struct ChildResult {
  bool started = false;   // false: could not even start it (a fault of ours)
  bool timed_out = false;  // killed after the limit
  long long exit_code = 0;  // Windows: the NTSTATUS of a crash (0xC0000005 ...); POSIX: 128+signal
  std::string output;      // its stdout
};

// In a case's child process: a crash anywhere (a worker thread of the target included) ends
// the process at once with the exception code, without a debugger or a dialog.
void ExitOnCrash();

// Runs this executable with `args`, its stdout captured, killing it after `limit_ms`.
ChildResult RunSelf(const std::vector<std::string>& args, int limit_ms);

// "access violation (0xc0000005)", "SIGSEGV", "exit 3": a child's end, for a report.
std::string DescribeExit(long long code);

}  // namespace wsaf_peer

#endif  // WSAFAULT_PEER_PLATFORM_H_
