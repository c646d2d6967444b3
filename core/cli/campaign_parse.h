// Reading the children's output: libFuzzer's status lines and final stats, ops_fuzzer's
// violation report, the stress driver's progress lines, violation reports and summary, the
// simulation's lines (`wsafault sim` under TSan), and any sanitizer's report. The figures feed the live view; a report becomes a Failure.
//
// Thread safety: one parser per child, on the main thread.
#ifndef WSAFAULT_CLI_CAMPAIGN_PARSE_H_
#define WSAFAULT_CLI_CAMPAIGN_PARSE_H_

#include <cstdint>
#include <string>
#include <vector>

namespace wsaf::campaign {

struct ChildFigures {
  uint64_t runs = 0;      // libFuzzer's execs, the stress driver's ops
  double rate = 0;        // per second, as the child reports it
  uint64_t cov = 0, features = 0, corpus = 0;  // libFuzzer
  bool found = false;     // a violation, a crash or a sanitizer report
  bool usage_error = false;
  bool unknown_mutant = false;  // a binary built before the planted bug was added
  std::string invariant;  // the first report's one-line verdict
  std::string detail;
  std::string scenario;   // ops_fuzzer
  std::string tape_file;  // ops_fuzzer's replay file, as printed (relative to the child's cwd)
  std::string artifact;   // libFuzzer's crash input
  std::string rerun;      // the stress driver's rerun command
  std::string build;      // the stress driver's "build asan|tsan|plain"
  uint64_t runs_at_find = 0;
  std::vector<std::string> excerpt;  // the first report, a few dozen lines
  std::vector<std::string> tail;     // the last lines (why a child failed to run)
};

class FuzzerOutput {
 public:
  void Line(const std::string& line);
  const ChildFigures& figures() const { return f_; }

 private:
  ChildFigures f_;
  bool in_report_ = false;
};

class StressOutput {
 public:
  void Line(const std::string& line);
  const ChildFigures& figures() const { return f_; }

 private:
  ChildFigures f_;
  int report_lines_ = -1;  // lines of the current violation report seen, -1 outside one
};

// `wsafault sim` as a child (the TSan lane): its progress and summary lines, a VIOLATION with
// its "replay:" line, a CRASH line with the crashing run's tape, a sanitizer's report.
class SimOutput {
 public:
  void Line(const std::string& line);
  const ChildFigures& figures() const { return f_; }

 private:
  ChildFigures f_;
};

}  // namespace wsaf::campaign

#endif  // WSAFAULT_CLI_CAMPAIGN_PARSE_H_
