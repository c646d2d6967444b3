#include "campaign_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "campaign_util.h"

extern "C" char** environ;

namespace wsaf::campaign {

Child::~Child() {
  if (pid_ > 0 && !exited_) {
    kill(-pid_, SIGKILL);
    Reap(true);
  }
  if (fd_ >= 0) close(fd_);
  if (log_ != nullptr) std::fclose(log_);
}

bool Child::Start(const std::vector<std::string>& argv, const std::string& cwd,
                  const std::vector<std::string>& env, const std::string& log_path, std::string* error) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  log_ = std::fopen(log_path.c_str(), "w");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The environment is built here: the child may not allocate between fork and exec.
  std::vector<std::string> merged;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string var = *e;
    bool overridden = false;
    for (const std::string& add : env) {
      std::size_t eq = add.find('=');
      overridden |= var.compare(0, eq + 1, add, 0, eq + 1) == 0;
    }
    if (!overridden) merged.push_back(var);
  }
  merged.insert(merged.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (const std::string& e : merged) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec (the parent has threads).
    setpgid(0, 0);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    execve(args[0], args.data(), envp.data());
    const char msg[] = "campaign: exec failed\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(127);
  }
  setpgid(pid, pid);  // also here: whichever runs first, the group exists before any kill
  close(fds[1]);
  fd_ = fds[0];
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  pid_ = pid;
  return true;
}

void Child::Drain(std::vector<std::string>* lines) {
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd_, buf, sizeof buf);
    if (n <= 0) {
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        close(fd_);
        fd_ = -1;
      }
      break;
    }
    if (log_ != nullptr) std::fwrite(buf, 1, n, log_);
    for (ssize_t i = 0; i < n; ++i) {
      char c = buf[i];
      if (c == '\n' || c == '\r') {
        if (!partial_.empty()) lines->push_back(std::move(partial_));
        partial_.clear();
      } else if (partial_.size() < 4096) {
        partial_ += c;
      }
    }
  }
  if (fd_ < 0 && !partial_.empty()) {
    lines->push_back(std::move(partial_));
    partial_.clear();
  }
}

std::vector<std::string> Child::Poll(int timeout_ms) {
  std::vector<std::string> lines;
  if (fd_ >= 0) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) > 0) Drain(&lines);
  } else if (timeout_ms > 0) {
    usleep(static_cast<useconds_t>(timeout_ms) * 1000);
  }
  if (pid_ > 0 && !exited_) {
    Reap(false);
    if (!exited_ && kill_at_ >= 0 && Now() >= kill_at_) {
      kill(-pid_, SIGKILL);
      kill_at_ = -1;
    }
  }
  if (exited_ && fd_ >= 0) Drain(&lines);
  if (log_ != nullptr) std::fflush(log_);
  return lines;
}

void Child::Reap(bool block) {
  int status = 0;
  pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_) {
    exited_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    // Whatever the child left in its group (none of ours do) goes with it.
    kill(-pid_, SIGKILL);
  } else if (r < 0 && errno == ECHILD) {
    exited_ = true;
  }
}

bool Child::Finished(int* exit_code) {
  if (!exited_ || fd_ >= 0) return false;
  *exit_code = status_;
  return true;
}

void Child::Terminate(double grace_sec) {
  if (pid_ <= 0 || exited_ || kill_at_ >= 0) return;
  kill(-pid_, SIGTERM);
  kill_at_ = Now() + grace_sec;
}

}  // namespace wsaf::campaign
