// wsafault-peer: the peer driver. Runs the rule cases (each in a child process of its own, so
// a peer's crash is a finding: "crashes on ...") and the stress, against the target this build
// links (target.h), printing one JSON line per result for scripts/probe-peer's report.
//
//   wsafault-peer list
//   wsafault-peer case NAME [--handles N] [--planted-bug B]   one case, in this process
//   wsafault-peer run [--handles N] [--only a,b] [--planted-bug B]   every case, isolated
//   wsafault-peer stress [--seed S] [--threads N] [--ops N] [--cancel-ratio R] [--planted-bug B]
//
// Exit: 0 when it ran (violations are the target's findings, printed, not our failure);
// 2 for bad usage or a setup that failed.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cases.h"
#include "peer_stress.h"
#include "target.h"

#ifndef WSAF_SOURCE_DIR
#define WSAF_SOURCE_DIR "."
#endif

namespace wsaf_peer {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;
constexpr int kCaseLimitMs = 120000;

struct Args {
  std::string command, case_name, only, planted_bug;
  std::string source_dir = WSAF_SOURCE_DIR;
  StressOptions stress;
};

int Usage(const std::string& why) {
  std::fprintf(stderr,
               "wsafault-peer: %s\n"
               "usage: wsafault-peer list | case NAME | run [--only a,b] | stress [--seed S]\n"
               "       [--threads N] [--ops N] [--cancel-ratio R]   options: --handles N,\n"
               "       --planted-bug NAME or --mutant NAME (wsafault target), --source-dir DIR\n",
               why.c_str());
  return kExitUsage;
}

bool ParseNumber(const char* text, long long min, long long max, long long* out) {
  char* end = nullptr;
  long long v = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || v < min || v > max) return false;
  *out = v;
  return true;
}

// Returns an empty string, or what was wrong.
std::string Parse(int argc, char** argv, Args* a) {
  if (argc < 2) return "no command";
  a->command = argv[1];
  int i = 2;
  if (a->command == "case") {
    if (argc < 3) return "case wants a NAME";
    a->case_name = argv[2];
    i = 3;
  }
  for (; i < argc; i += 2) {
    std::string flag = argv[i];
    if (i + 1 >= argc) return flag + " wants a value";
    const char* v = argv[i + 1];
    long long n = 0;
    if (flag == "--handles" && ParseNumber(v, 1, 10000000, &n)) {
      Knobs().handle_requests = int(n);
    } else if (flag == "--seed" && ParseNumber(v, 0, (1LL << 62), &n)) {
      a->stress.seed = uint64_t(n);
    } else if (flag == "--threads" && ParseNumber(v, 1, 64, &n)) {
      a->stress.threads = int(n);
    } else if (flag == "--ops" && ParseNumber(v, 1, 10000000, &n)) {
      a->stress.ops = int(n);
    } else if (flag == "--cancel-ratio") {
      char* end = nullptr;
      double r = std::strtod(v, &end);
      if (end == v || *end != '\0' || !(r >= 0 && r <= 1)) return "--cancel-ratio wants 0..1";
      a->stress.cancel_ratio = r;
    } else if (flag == "--only") {
      a->only = v;
    } else if (flag == "--planted-bug" || flag == "--mutant") {
      a->planted_bug = v;
    } else if (flag == "--source-dir") {
      a->source_dir = v;
    } else {
      return "bad option or value: " + flag + " " + v;
    }
  }
  return "";
}

std::string CaseJson(const Case& c, const CaseResult& r) {
  std::string history;
  for (size_t i = 0; i < r.history.size(); ++i) {
    history += std::string(i ? "," : "") + "\"" + JsonEscape(r.history[i]) + "\"";
  }
  return std::string("{\"case\":\"") + c.name + "\",\"rule\":\"" + JsonEscape(c.rule) +
         "\",\"section\":\"" + c.section + "\",\"kind\":\"" +
         (c.kind == RuleKind::kDecision ? "decision" : "winsock") + "\",\"target\":\"" +
         TheTarget().Name() + "\",\"verdict\":\"" + VerdictName(r.verdict) + "\",\"detail\":\"" +
         JsonEscape(r.detail) + "\",\"history\":[" + history + "]}";
}

int RunOneCase(const Args& a) {
  const Case* c = FindCase(a.case_name.c_str());
  if (!c) return Usage("no case '" + a.case_name + "' (see: wsafault-peer list)");
  ExitOnCrash();
  CaseResult r = c->run();
  // A decision of ours the target does not share is a difference, never a violation.
  if (c->kind == RuleKind::kDecision && r.verdict == Verdict::kViolated) r.verdict = Verdict::kDiffers;
  std::printf("%s\n", CaseJson(*c, r).c_str());
  std::fflush(stdout);
  // A case whose target keeps writing after it returned must not outlive its verdict.
  std::_Exit(kExitOk);
}

int RunAllCases(const Args& a) {
  std::string only = "," + a.only + ",";
  for (const Case& c : AllCases()) {
    if (!a.only.empty() && only.find("," + std::string(c.name) + ",") == std::string::npos) continue;
    std::vector<std::string> args = {"case", c.name, "--handles",
                                     std::to_string(Knobs().handle_requests), "--source-dir",
                                     a.source_dir};
    if (!a.planted_bug.empty()) {
      args.push_back("--planted-bug");
      args.push_back(a.planted_bug);
    }
    unsigned long long started = NowMs();
    ChildResult child = RunSelf(args, kCaseLimitMs);
    std::fprintf(stderr, "wsafault-peer: %s took %llu ms\n", c.name, NowMs() - started);
    std::string line;
    size_t at = child.output.find("{\"case\"");
    if (at != std::string::npos) line = child.output.substr(at, child.output.find('\n', at) - at);
    if (!line.empty()) {
      std::printf("%s\n", line.c_str());
    } else {
      CaseResult r;
      r.verdict = child.started ? Verdict::kCrashed : Verdict::kError;
      r.detail = !child.started   ? "could not start the child process"
                 : child.timed_out ? std::string("hangs on ") + c.call + " (killed after " +
                                         std::to_string(kCaseLimitMs / 1000) + " s)"
                                   : std::string("crashes on ") + c.call + ": " +
                                         DescribeExit(child.exit_code);
      std::printf("%s\n", CaseJson(c, r).c_str());
    }
    std::fflush(stdout);
  }
  return kExitOk;
}

}  // namespace
}  // namespace wsaf_peer

int main(int argc, char** argv) {
  using namespace wsaf_peer;
  Args a;
  std::string why = Parse(argc, argv, &a);
  if (!why.empty()) return Usage(why);
  if (a.command == "list") {
    for (const Case& c : AllCases()) std::printf("%s\t%s\n", c.name, c.rule);
    return kExitOk;
  }
  if (a.command != "case" && a.command != "run" && a.command != "stress") {
    return Usage("unknown command '" + a.command + "'");
  }
  if (a.command != "run") {  // the parent of isolated cases touches no Winsock
    std::string error;
    if (!TheTarget().Setup(a.source_dir, a.planted_bug, &error)) {
      std::fprintf(stderr, "wsafault-peer: target %s: %s\n", TheTarget().Name(), error.c_str());
      return kExitUsage;
    }
  }
  if (a.command == "case") return RunOneCase(a);
  if (a.command == "run") return RunAllCases(a);
  RunStress(a.stress);
  std::fflush(stdout);
  std::_Exit(kExitOk);  // threads of the target may still be writing: leave at once
}
