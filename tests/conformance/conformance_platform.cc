#include "conformance_platform.h"

#include <cstdio>

#ifdef _WIN32
#include <tlhelp32.h>
#else
#include <dirent.h>
#include <unistd.h>
#endif

namespace wsaf_conf {

const char* ControlName(Control c) {
  switch (c) {
    case kDnsFaults: return "dns-faults (the test's DNS server: drop, delay, rcodes)";
    case kDnsStats: return "dns-stats (queries that reached the test's DNS server)";
    case kResolverSettings: return "resolver-settings (wsaf_set_dns_servers/_dns_timeout/_netbase_files)";
    case kNetworkDown: return "network-down (wsaf_set_network_down)";
    case kMaxRequests: return "max-requests (wsaf_set_max_requests)";
    case kResolverThreads: return "resolver-threads (wsafault's one parked resolver thread)";
  }
  return "?";
}

#ifndef _WIN32

bool HasControl(Control) { return true; }
const char* TargetName() { return "wsafault"; }
HWND CreateMessageWindow() { return wsaf_create_window(); }
unsigned long CurrentProcessId() { return static_cast<unsigned long>(getpid()); }

std::set<std::string> ThreadIds() {
  std::set<std::string> ids;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ids.insert(e->d_name);
    }
    closedir(d);
  }
  return ids;
}

#else  // _WIN32: the system's ws2_32

bool HasControl(Control) { return false; }
const char* TargetName() { return "winsock (ws2_32)"; }

HWND CreateMessageWindow() {
  static const wchar_t* kClass = [] {
    WNDCLASSEXW wc{};
    wc.cbSize = sizeof wc;
    wc.lpfnWndProc = DefWindowProcW;
    wc.hInstance = GetModuleHandleW(nullptr);
    wc.lpszClassName = L"wsafault-conformance";
    RegisterClassExW(&wc);
    return L"wsafault-conformance";
  }();
  return CreateWindowExW(0, kClass, L"", 0, 0, 0, 0, 0, HWND_MESSAGE, nullptr,
                         GetModuleHandleW(nullptr), nullptr);
}

unsigned long CurrentProcessId() { return GetCurrentProcessId(); }

std::set<std::string> ThreadIds() {
  std::set<std::string> ids;
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snap == INVALID_HANDLE_VALUE) return ids;
  THREADENTRY32 te{};
  te.dwSize = sizeof te;
  for (BOOL ok = Thread32First(snap, &te); ok; ok = Thread32Next(snap, &te)) {
    if (te.th32OwnerProcessID == GetCurrentProcessId()) ids.insert(std::to_string(te.th32ThreadID));
  }
  CloseHandle(snap);
  return ids;
}

#endif

}  // namespace wsaf_conf

#ifdef _WIN32
namespace {
int Unreachable(const char* what) {
  ADD_FAILURE() << what << " reached on a target without it (a missing WSAF_CONF_REQUIRE)";
  return -1;
}
}  // namespace

int wsaf_set_dns_servers(const char*) { return Unreachable("wsaf_set_dns_servers"); }
int wsaf_set_dns_timeout(int, int) { return Unreachable("wsaf_set_dns_timeout"); }
int wsaf_set_netbase_files(const char*, const char*) { return Unreachable("wsaf_set_netbase_files"); }
int wsaf_set_max_requests(unsigned int) { return Unreachable("wsaf_set_max_requests"); }
void wsaf_set_network_down(int down) {
  if (down != 0) Unreachable("wsaf_set_network_down(1)");
}

namespace wsaf::dns {
bool LoadZoneFile(const std::string&, Zone*, std::string*) { return true; }
void Server::SetFault(Fault f, int) {
  if (f != Fault::kNone) Unreachable("a DNS fault");
}
ServerStats Server::stats() const {
  Unreachable("DNS server statistics");
  return {};
}
}  // namespace wsaf::dns
#endif

#ifdef _WIN32
// A crash of the target (a worker thread of ws2_32 included) ends the suite at once with its
// exception code, without a debugger or a dialog: peer/run_conformance.py records the running
// test as crashed and goes on with the rest.
namespace {
LONG WINAPI OnCrash(EXCEPTION_POINTERS* info) {
  unsigned long code = info->ExceptionRecord->ExceptionCode;
  std::fprintf(stdout, "\n[  CRASH   ] exception 0x%08lx at %p\n", code,
               info->ExceptionRecord->ExceptionAddress);
  std::fflush(stdout);
  TerminateProcess(GetCurrentProcess(), code);
  return EXCEPTION_EXECUTE_HANDLER;
}
const bool kCrashFilter = [] {
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
  SetUnhandledExceptionFilter(OnCrash);
  return true;
}();
}  // namespace
#endif
