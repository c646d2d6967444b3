// The replay driver: what every fuzz target links instead of libFuzzer in a build without
// WSAFAULT_FUZZ (gcc, the default), so ctest replays corpus/<target>/ on every build.
//
//   <target>_fuzzer [--expect-crash] FILE_OR_DIR...
//
// Runs LLVMFuzzerInitialize once, then LLVMFuzzerTestOneInput on every regular file given or
// found directly in a given directory (sorted by name; subdirectories such as candidates/ are
// not descended into, and each one skipped is named). An unreadable path, an empty directory
// or no argument at all is an error: nothing is skipped silently.
//
// Without --expect-crash the inputs run in this process and must all pass: a crash shows the
// file name printed just before it. With --expect-crash each input runs in a child process
// and must crash (abort, signal or non-zero exit): pinned inputs for planted bugs and the
// canary prove the harness still catches them.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

namespace fs = std::filesystem;

bool ReadFile(const std::string& path, std::vector<uint8_t>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

// Expands the arguments into the list of files to run. Returns false on a bad argument.
bool CollectInputs(const std::vector<std::string>& args, std::vector<std::string>* files) {
  bool ok = true;
  for (const std::string& arg : args) {
    std::error_code ec;
    fs::file_status st = fs::status(arg, ec);
    if (ec || !fs::exists(st)) {
      std::fprintf(stderr, "replay: ERROR: %s: no such file or directory\n", arg.c_str());
      ok = false;
      continue;
    }
    if (fs::is_regular_file(st)) {
      files->push_back(arg);
      continue;
    }
    if (!fs::is_directory(st)) {
      std::fprintf(stderr, "replay: ERROR: %s: neither a file nor a directory\n", arg.c_str());
      ok = false;
      continue;
    }
    std::vector<std::string> found;
    for (const fs::directory_entry& e : fs::directory_iterator(arg, ec)) {
      if (e.is_directory()) {
        std::fprintf(stderr, "replay: note: not descending into %s\n", e.path().c_str());
      } else if (e.is_regular_file()) {
        found.push_back(e.path().string());
      } else {
        std::fprintf(stderr, "replay: ERROR: %s: not a regular file\n", e.path().c_str());
        ok = false;
      }
    }
    if (ec) {
      std::fprintf(stderr, "replay: ERROR: %s: %s\n", arg.c_str(), ec.message().c_str());
      ok = false;
    } else if (found.empty()) {
      std::fprintf(stderr, "replay: ERROR: %s: no input files in this directory\n", arg.c_str());
      ok = false;
    }
    std::sort(found.begin(), found.end());
    files->insert(files->end(), found.begin(), found.end());
  }
  return ok;
}

int RunOne(const std::vector<uint8_t>& data) {
  // A copy of exactly `size` bytes, so ASan sees a read past the end of the input.
  std::vector<uint8_t> copy(data);
  return LLVMFuzzerTestOneInput(copy.empty() ? nullptr : copy.data(), copy.size());
}

// Runs one input in a child; true when the child crashed.
bool CrashesInChild(const std::vector<uint8_t>& data, std::string* how) {
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    *how = std::string("fork failed: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    RunOne(data);
    std::fflush(nullptr);
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    *how = "killed by signal " + std::to_string(WTERMSIG(status));
    return true;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    *how = "exit status " + std::to_string(WEXITSTATUS(status));
    return true;
  }
  *how = "ran to the end";
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  bool expect_crash = false;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--expect-crash") {
      expect_crash = true;
    } else if (a == "--help" || a == "-h") {
      std::printf("usage: %s [--expect-crash] FILE_OR_DIR...\n", argv[0]);
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "replay: note: ignoring libFuzzer flag %s (replay build)\n", a.c_str());
    } else {
      paths.push_back(a);
    }
  }
  if (paths.empty()) {
    std::fprintf(stderr, "replay: ERROR: give at least one input file or directory\n");
    return 2;
  }
  std::vector<std::string> files;
  bool ok = CollectInputs(paths, &files);
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);

  int failures = ok ? 0 : 1;
  for (const std::string& f : files) {
    std::vector<uint8_t> data;
    if (!ReadFile(f, &data)) {
      std::fprintf(stderr, "replay: ERROR: %s: cannot read\n", f.c_str());
      ++failures;
      continue;
    }
    if (expect_crash) {
      std::string how;
      bool crashed = CrashesInChild(data, &how);
      std::fprintf(stderr, "replay: %s: %s (%s)\n", f.c_str(),
                   crashed ? "crashed as expected" : "ERROR: expected a crash", how.c_str());
      if (!crashed) ++failures;
      continue;
    }
    std::fprintf(stderr, "replay: running %s (%zu bytes)\n", f.c_str(), data.size());
    int rc = RunOne(data);
    if (rc != 0 && rc != -1) {
      std::fprintf(stderr, "replay: ERROR: %s: LLVMFuzzerTestOneInput returned %d\n", f.c_str(), rc);
      ++failures;
    }
  }
  std::fprintf(stderr, "replay: %zu input(s), %d failure(s)\n", files.size(), failures);
  return failures == 0 ? 0 : 1;
}
