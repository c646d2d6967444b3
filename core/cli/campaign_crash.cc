// CrashRecorder (campaign_crash.h): the tape of a crashing simulated run, written from the
// signal handler with async-signal-safe calls only.
#include "campaign_crash.h"

#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

extern "C" void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
extern "C" void __sanitizer_print_stack_trace() __attribute__((weak));

namespace wsaf::campaign {

namespace {

constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr uint64_t kTestCrashDecision = 8;

std::atomic<CrashRecorder*> g_armed{nullptr};
std::string* g_replay_message = nullptr;  // set once, before the replay runs

void WriteAll(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w <= 0) return;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Where the crash happened, on stderr: the sanitizer's symbolised trace where its runtime is
// linked (its own SEGV report never runs: this handler replaced it), else glibc's.
void PrintStack() {
  if (__sanitizer_print_stack_trace != nullptr) {
    __sanitizer_print_stack_trace();
    return;
  }
  void* frames[64];
  int n = backtrace(frames, 64);
  WriteAll(2, "stack of the crash:\n", 20);
  backtrace_symbols_fd(frames, n, 2);
}

void OnCrash(int sig) {
  CrashRecorder* r = g_armed.exchange(nullptr);
  if (r != nullptr) {
    r->WriteTapeNow(sig);
    PrintStack();
    if (r->jump() != nullptr) siglongjmp(*r->jump(), sig);
  } else if (g_replay_message != nullptr) {
    const char* what = SignalName(sig);
    WriteAll(2, "\nCRASH: ", 8);
    WriteAll(2, what, std::strlen(what));
    WriteAll(2, " ", 1);
    WriteAll(2, g_replay_message->data(), g_replay_message->size());
    PrintStack();
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

// A sanitizer's report ends the process without a signal: write the tape first.
void OnSanitizerDeath() {
  CrashRecorder* r = g_armed.exchange(nullptr);
  if (r != nullptr) {
    r->WriteTapeNow(0);
  } else if (g_replay_message != nullptr) {
    WriteAll(2, "\nCRASH: a sanitizer report ", 28);
    WriteAll(2, g_replay_message->data(), g_replay_message->size());
  }
}

// A fiber's stack overflow has no stack left for the handler: give each thread that simulates
// an alternate one.
void EnsureAltStack() {
  thread_local bool done = false;
  if (done) return;
  done = true;
  stack_t old{};
  if (sigaltstack(nullptr, &old) == 0 && (old.ss_flags & SS_DISABLE) == 0) return;  // a sanitizer's
  stack_t ss{};
  ss.ss_size = 64 * 1024;
  // mmap, not malloc: ASan unmaps a thread's alternate stack when the thread ends (a malloc'd
  // one aborted it), and LeakSanitizer does not count a mapping that lives as long as the thread.
  void* p = mmap(nullptr, ss.ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  ss.ss_sp = p;
  sigaltstack(&ss, nullptr);
}

}  // namespace

const char* SignalName(int signal) {
  switch (signal) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case 0: return "a sanitizer report";
  }
  return "a signal";
}

void CrashRecorder::Install() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  struct sigaction sa{};
  sa.sa_handler = OnCrash;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (int s : kCrashSignals) sigaction(s, &sa, nullptr);
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(OnSanitizerDeath);
}

void CrashRecorder::InstallReplayReport(const std::string& message) {
  if (g_replay_message == nullptr) g_replay_message = new std::string(message);  // lives to exit
  Install();
  EnsureAltStack();
}

std::string CrashRecorder::HeaderFor(const sim::TapeFile& file) {
  // WriteTapeFile is the one writer of the format: borrow its header.
  char path[] = "/tmp/wsafault-header-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return "";
  close(fd);
  sim::TapeFile copy = file;
  copy.tape.clear();
  std::string error, text;
  if (sim::WriteTapeFile(path, copy, &error)) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
    std::size_t tape_line = text.rfind("tape ");
    if (tape_line != std::string::npos) text.resize(tape_line);
  }
  std::remove(path);
  return text;
}

void CrashRecorder::Arm(sim::Strategy* inner, const std::string& tape_path, const std::string& header,
                        const std::string& replay) {
  EnsureAltStack();
  inner_ = inner;
  if (tape_path != tape_path_) {
    tape_path_ = tape_path;
    message_.clear();
  }
  header_ = header;
  if (message_.empty()) {
    message_ = "its tape (the run up to the crash): " + tape_path_ + "\nreplay: " + replay + "\n";
  }
  if (tape_.capacity() < 4096) tape_.reserve(4096);
  const char* env = std::getenv("WSAFAULT_TEST_CRASH_AT_RUN");
  crash_at_run_ = env != nullptr && *env != '\0' ? std::atoll(env) : -1;
  g_armed.store(this);
}

void CrashRecorder::Disarm() { g_armed.store(nullptr); }

void CrashRecorder::NewExecution(uint64_t run) {
  run_ = run;
  decisions_ = 0;
  tape_.clear();
  inner_->NewExecution(run);
}

void CrashRecorder::MaybeTestCrash() {
  if (++decisions_ == kTestCrashDecision && crash_at_run_ >= 0 && run_ == static_cast<uint64_t>(crash_at_run_)) {
    raise(SIGSEGV);
  }
}

uint32_t CrashRecorder::NextThread(const std::vector<int>& runnable, bool current_runnable) {
  uint32_t v = inner_->NextThread(runnable, current_runnable);
  sim::Tape::Append(&tape_, static_cast<uint32_t>(runnable.size()), v);
  MaybeTestCrash();
  return v;
}

uint32_t CrashRecorder::NextValue(uint32_t n, sim::DecisionKind kind) {
  uint32_t v = inner_->NextValue(n, kind);
  sim::Tape::Append(&tape_, n, v);
  MaybeTestCrash();
  return v;
}

void CrashRecorder::WriteTapeNow(int signal) const {
  int fd = open(tape_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    WriteAll(fd, header_.data(), header_.size());
    WriteAll(fd, "tape ", 5);
    static const char kHex[] = "0123456789abcdef";
    char chunk[512];
    std::size_t used = 0;
    for (uint8_t b : tape_) {
      chunk[used++] = kHex[b >> 4];
      chunk[used++] = kHex[b & 15];
      if (used == sizeof(chunk)) {
        WriteAll(fd, chunk, used);
        used = 0;
      }
    }
    chunk[used++] = '\n';
    WriteAll(fd, chunk, used);
    close(fd);
  }
  const char* what = SignalName(signal);
  WriteAll(2, "\nCRASH: ", 8);
  WriteAll(2, what, std::strlen(what));
  WriteAll(2, " inside a simulated run; ", 25);
  WriteAll(2, message_.data(), message_.size());
}

}  // namespace wsaf::campaign
