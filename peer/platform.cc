// Platform pieces of the peer drivers. The only #ifdef _WIN32 of peer/: a child process is
// CreateProcess + a pipe on Windows, fork/exec + a pipe elsewhere.
#include "platform.h"

#include <chrono>
#include <cstdio>
#include <thread>

#ifdef _WIN32
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#endif

namespace wsaf_peer {

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

unsigned long long NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

unsigned long InetAddr(const char* dotted) {
  in_addr a{};
  if (inet_pton(AF_INET, dotted, &a) != 1) return 0xffffffffUL;
  return a.s_addr;
}

#ifdef _WIN32

unsigned long CurrentProcessId() { return GetCurrentProcessId(); }

std::string SelfPath() {
  char path[MAX_PATH];
  DWORD n = GetModuleFileNameA(nullptr, path, sizeof path);
  return std::string(path, n);
}

LONG WINAPI ExitWithCode(EXCEPTION_POINTERS* info) {
  TerminateProcess(GetCurrentProcess(), info->ExceptionRecord->ExceptionCode);
  return EXCEPTION_EXECUTE_HANDLER;
}

void ExitOnCrash() {
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
  SetUnhandledExceptionFilter(ExitWithCode);
}

ChildResult RunSelf(const std::vector<std::string>& args, int limit_ms) {
  ChildResult r;
  SECURITY_ATTRIBUTES sa = {sizeof sa, nullptr, TRUE};
  HANDLE read_end = nullptr, write_end = nullptr;
  if (!CreatePipe(&read_end, &write_end, &sa, 0)) return r;
  SetHandleInformation(read_end, HANDLE_FLAG_INHERIT, 0);
  std::string cmd = "\"" + SelfPath() + "\"";
  for (const std::string& a : args) cmd += " \"" + a + "\"";
  STARTUPINFOA si = {};
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdOutput = write_end;
  si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
  si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
  PROCESS_INFORMATION pi = {};
  // No error dialog for a crash: the crash is the finding, and nobody is there to click.
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
  if (!CreateProcessA(nullptr, cmd.data(), nullptr, nullptr, TRUE, 0, nullptr, nullptr, &si,
                      &pi)) {
    CloseHandle(read_end);
    CloseHandle(write_end);
    return r;
  }
  CloseHandle(write_end);
  r.started = true;
  unsigned long long deadline = NowMs() + limit_ms;
  char chunk[4096];
  for (;;) {
    DWORD avail = 0;
    if (PeekNamedPipe(read_end, nullptr, 0, nullptr, &avail, nullptr) && avail > 0) {
      DWORD got = 0;
      if (ReadFile(read_end, chunk, sizeof chunk, &got, nullptr) && got > 0) r.output.append(chunk, got);
      continue;
    }
    if (WaitForSingleObject(pi.hProcess, 20) == WAIT_OBJECT_0) {
      DWORD got = 0;
      while (PeekNamedPipe(read_end, nullptr, 0, nullptr, &avail, nullptr) && avail > 0 &&
             ReadFile(read_end, chunk, sizeof chunk, &got, nullptr) && got > 0) {
        r.output.append(chunk, got);
      }
      break;
    }
    if (NowMs() > deadline) {
      TerminateProcess(pi.hProcess, 0xDEAD);
      WaitForSingleObject(pi.hProcess, 5000);
      r.timed_out = true;
      break;
    }
  }
  DWORD code = 0;
  GetExitCodeProcess(pi.hProcess, &code);
  r.exit_code = code;
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  CloseHandle(read_end);
  return r;
}

std::string DescribeExit(long long code) {
  char buf[64];
  unsigned long c = static_cast<unsigned long>(code);
  if (c == 0xC0000005UL) return "access violation (0xc0000005)";
  if (c >= 0xC0000000UL) {
    std::snprintf(buf, sizeof buf, "exception 0x%08lx", c);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "exit %lu", c);
  return buf;
}

#else  // POSIX: the wsafault target

unsigned long CurrentProcessId() { return static_cast<unsigned long>(getpid()); }

void ExitOnCrash() {}  // the default action of SIGSEGV already ends the process

std::string SelfPath() {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, n) : std::string();
}

ChildResult RunSelf(const std::vector<std::string>& args, int limit_ms) {
  ChildResult r;
  int fds[2];
  if (pipe(fds) != 0) return r;
  std::string self = SelfPath();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return r;
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    argv.push_back(self.data());
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(self.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  r.started = true;
  unsigned long long deadline = NowMs() + limit_ms;
  char chunk[4096];
  for (;;) {
    pollfd p = {fds[0], POLLIN, 0};
    int ready = poll(&p, 1, 20);
    if (ready > 0) {
      ssize_t got = read(fds[0], chunk, sizeof chunk);
      if (got > 0) {
        r.output.append(chunk, got);
        continue;
      }
      break;  // EOF: the child is gone or closed stdout
    }
    if (NowMs() > deadline) {
      kill(pid, SIGKILL);
      r.timed_out = true;
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string DescribeExit(long long code) {
  if (code > 128 && code < 128 + 65) return std::string("signal ") + strsignal(int(code - 128));
  return "exit " + std::to_string(code);
}

#endif

}  // namespace wsaf_peer
