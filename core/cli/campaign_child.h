// A child process of the campaign (a fuzz target, a stress binary): started in its own process
// group with stdout and stderr on one pipe, read line by line without blocking, copied to a log
// file, and ended at its budget — SIGTERM to the group, SIGKILL a few seconds later — so nothing
// it started outlives the campaign.
//
// Thread safety: one thread (the campaign's main thread) owns each Child.
#ifndef WSAFAULT_CLI_CAMPAIGN_CHILD_H_
#define WSAFAULT_CLI_CAMPAIGN_CHILD_H_

#include <sys/types.h>

#include <cstdio>
#include <string>
#include <vector>

namespace wsaf::campaign {

class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();  // kills the group if it still runs

  // Starts argv[0] (a path) in `cwd` with `env` ("NAME=value") added to this environment.
  // Returns false with a reason.
  bool Start(const std::vector<std::string>& argv, const std::string& cwd,
             const std::vector<std::string>& env, const std::string& log_path, std::string* error);
  // Waits up to `timeout_ms` for output and returns the complete lines read ("\n" or "\r").
  std::vector<std::string> Poll(int timeout_ms);
  // True once the child exited and its pipe is drained; `exit_code` is its status, or 128 plus
  // the signal that ended it.
  bool Finished(int* exit_code);
  // SIGTERM to the group now, SIGKILL if it is still there `grace_sec` later (checked by Poll).
  void Terminate(double grace_sec);
  bool running() const { return pid_ > 0 && !exited_; }

 private:
  void Reap(bool block);
  void Drain(std::vector<std::string>* lines);
  pid_t pid_ = -1;
  int fd_ = -1;
  std::FILE* log_ = nullptr;
  std::string partial_;
  bool exited_ = false;
  int status_ = 0;
  double kill_at_ = -1;  // when SIGKILL follows a SIGTERM
};

}  // namespace wsaf::campaign

#endif  // WSAFAULT_CLI_CAMPAIGN_CHILD_H_
