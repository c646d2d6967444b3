#include "campaign_parse.h"

#include <cstdlib>
#include <cstring>

namespace wsaf::campaign {

namespace {

constexpr std::size_t kExcerptLines = 60;
constexpr std::size_t kTailLines = 12;

bool StartsWith(const std::string& s, const char* prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

// The number after `key` in `line` (e.g. "exec/s: 1234"), or false.
bool NumberAfter(const std::string& line, const char* key, double* out) {
  std::size_t at = line.find(key);
  if (at == std::string::npos) return false;
  const char* p = line.c_str() + at + std::strlen(key);
  char* end = nullptr;
  double v = std::strtod(p, &end);
  if (end == p) return false;
  *out = v;
  return true;
}

std::string Rest(const std::string& line, std::size_t from) {
  std::string s = from < line.size() ? line.substr(from) : std::string();
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

// A sanitizer's or libFuzzer's verdict on this line ("AddressSanitizer: heap-use-after-free"),
// or empty.
std::string Verdict(const std::string& line) {
  static const char* const kHeads[] = {"ERROR: AddressSanitizer: ", "WARNING: ThreadSanitizer: ",
                                       "ERROR: ThreadSanitizer: ", "ERROR: LeakSanitizer: ",
                                       "ERROR: libFuzzer: ", "ERROR: UndefinedBehaviorSanitizer: "};
  for (const char* head : kHeads) {
    std::size_t at = line.find(head);
    if (at == std::string::npos) continue;
    std::string tool(head + std::strlen(head[0] == 'E' ? "ERROR: " : "WARNING: "));
    std::string what = Rest(line, at + std::strlen(head));
    std::size_t cut = what.find(" on ");
    if (cut != std::string::npos) what.resize(cut);
    if (what.size() > 60) what.resize(60);
    return tool + what;
  }
  std::size_t at = line.find(": runtime error: ");
  if (at != std::string::npos) {
    std::string what = Rest(line, at + 17);
    if (what.size() > 70) what.resize(70);
    return "UndefinedBehaviorSanitizer: " + what;
  }
  return "";
}

void KeepTail(std::vector<std::string>* tail, const std::string& line) {
  tail->push_back(line);
  if (tail->size() > kTailLines) tail->erase(tail->begin());
}

}  // namespace

void FuzzerOutput::Line(const std::string& line) {
  KeepTail(&f_.tail, line);
  double v = 0;
  if (line.size() > 1 && line[0] == '#' && line[1] >= '0' && line[1] <= '9') {
    f_.runs = std::strtoull(line.c_str() + 1, nullptr, 10);
    if (NumberAfter(line, "exec/s: ", &v)) f_.rate = v;
    if (NumberAfter(line, "cov: ", &v)) f_.cov = static_cast<uint64_t>(v);
    if (NumberAfter(line, "ft: ", &v)) f_.features = static_cast<uint64_t>(v);
    if (NumberAfter(line, "corp: ", &v)) f_.corpus = static_cast<uint64_t>(v);
    return;
  }
  if (StartsWith(line, "stat::number_of_executed_units:") && NumberAfter(line, "units:", &v)) {
    f_.runs = static_cast<uint64_t>(v);
  } else if (line.find("unknown WSAFAULT_MUTANT") != std::string::npos) {
    f_.unknown_mutant = true;
  } else if (StartsWith(line, "stat::average_exec_per_sec:") && NumberAfter(line, "per_sec:", &v)) {
    if (v > 0 || f_.rate == 0) f_.rate = v;
  } else if (StartsWith(line, "==WSAFAULT== ") && line.find(": invariant violated: ") != std::string::npos) {
    // "==WSAFAULT== <target>: invariant violated: <name>"
    if (!f_.found) f_.invariant = Rest(line, line.find(": invariant violated: ") + 22);
    f_.found = true;
    in_report_ = true;
  } else if (StartsWith(line, "==WSAFAULT== scenario: ")) {
    std::string rest = Rest(line, 23);
    f_.scenario = rest.substr(0, rest.find(' '));
  } else if (StartsWith(line, "==WSAFAULT== detail: ")) {
    if (f_.detail.empty()) f_.detail = Rest(line, 21);
  } else if (StartsWith(line, "replay: wsafault replay ")) {
    if (f_.tape_file.empty()) f_.tape_file = Rest(line, 24);
  } else if (line.find("Test unit written to ") != std::string::npos) {
    f_.artifact = Rest(line, line.find("Test unit written to ") + 21);
  } else if (std::string verdict = Verdict(line); !verdict.empty()) {
    if (f_.invariant.empty()) f_.invariant = verdict;
    f_.found = true;
    in_report_ = true;
  }
  if (in_report_ && f_.excerpt.size() < kExcerptLines) f_.excerpt.push_back(line);
}

void StressOutput::Line(const std::string& line) {
  KeepTail(&f_.tail, line);
  double v = 0;
  if (StartsWith(line, "[") && line.find("] ops ") != std::string::npos) {
    if (NumberAfter(line, "] ops ", &v)) f_.runs = static_cast<uint64_t>(v);
    if (NumberAfter(line, " (", &v)) f_.rate = v;
    report_lines_ = -1;
    return;
  }
  if (StartsWith(line, "==== VIOLATION") || StartsWith(line, "==== LIVENESS VIOLATION")) {
    if (!f_.found) {
      f_.runs_at_find = f_.runs;
      report_lines_ = 0;
      if (StartsWith(line, "==== LIVENESS")) f_.invariant = "liveness";
    }
    f_.found = true;
    return;
  }
  if (report_lines_ >= 0) {
    if (StartsWith(line, "==== ") || StartsWith(line, "stress: ") || f_.excerpt.size() >= kExcerptLines) {
      report_lines_ = -1;
    } else {
      if (report_lines_ == 0) {
        // "t3: byte 0 of the buffer changed after ...": the thread is noise in a verdict.
        std::string what = line;
        if (what.size() > 3 && what[0] == 't' && what.find(": ") != std::string::npos &&
            what.find(": ") < 5) {
          what = what.substr(what.find(": ") + 2);
        }
        f_.detail = what;
        f_.invariant = f_.invariant.empty() ? what : f_.invariant + ": " + what;
        if (f_.invariant.size() > 110) f_.invariant = f_.invariant.substr(0, 107) + "...";
      }
      ++report_lines_;
      f_.excerpt.push_back(line);
      return;
    }
  }
  if (StartsWith(line, "  rerun: ")) {
    if (f_.rerun.empty()) f_.rerun = Rest(line, 9);
  } else if (StartsWith(line, "ops ") && NumberAfter(line, "ops ", &v)) {
    f_.runs = static_cast<uint64_t>(v);
    if (NumberAfter(line, "(", &v)) f_.rate = v;
  } else if (StartsWith(line, "seed ") && line.find(" build ") != std::string::npos) {
    f_.build = Rest(line, line.find(" build ") + 7);
  } else if (StartsWith(line, "usage:")) {
    f_.usage_error = true;
  } else if (line.find("unknown mutant") != std::string::npos) {
    f_.unknown_mutant = true;
  } else if (std::string verdict = Verdict(line); !verdict.empty()) {
    if (!f_.found) {
      f_.invariant = verdict;
      f_.runs_at_find = f_.runs;
    }
    f_.found = true;
    if (f_.excerpt.empty()) report_lines_ = 1;  // the sanitizer's report is the excerpt
    f_.excerpt.push_back(line);
  }
}

void SimOutput::Line(const std::string& line) {
  KeepTail(&f_.tail, line);
  double v = 0;
  const bool was_found = f_.found;
  if (line.find(" runs, ") != std::string::npos && line.find(" runs/s") != std::string::npos &&
      NumberAfter(line, "", &v)) {
    f_.runs = static_cast<uint64_t>(v);  // "1234 runs, 9000 runs/s, ..."
    if (NumberAfter(line, " runs, ", &v)) f_.rate = v;
  } else if (StartsWith(line, "sim ") && line.find(" runs in ") != std::string::npos) {
    if (NumberAfter(line, ": ", &v)) f_.runs = static_cast<uint64_t>(v);
    if (NumberAfter(line, " s (", &v)) f_.rate = v;
  } else if (StartsWith(line, "VIOLATION ")) {
    if (!f_.found) {
      std::string rest = Rest(line, 10);
      f_.invariant = rest.substr(0, rest.find(' '));
      std::size_t colon = rest.find("): ");
      f_.detail = colon == std::string::npos ? rest : rest.substr(colon + 3);
      f_.runs_at_find = f_.runs;
    }
    f_.found = true;
  } else if (StartsWith(line, "replay: wsafault replay ")) {
    if (f_.tape_file.empty()) f_.tape_file = Rest(line, 24);
  } else if (StartsWith(line, "CRASH: ")) {
    std::size_t at = line.find(" inside a simulated run");
    std::size_t tape = line.find("): ");
    if (!f_.found) {
      f_.invariant = "crash (" + line.substr(7, at == std::string::npos ? 20 : at - 7) + ")";
      f_.detail = Rest(line, 7);
      f_.runs_at_find = f_.runs;
    }
    if (tape != std::string::npos) f_.tape_file = Rest(line, tape + 3);
    f_.found = true;
  } else if (StartsWith(line, "usage:")) {
    f_.usage_error = true;
  } else if (line.find("unknown mutant") != std::string::npos) {
    f_.unknown_mutant = true;
  } else if (std::string verdict = Verdict(line); !verdict.empty()) {
    if (!f_.found) {
      f_.invariant = verdict;
      f_.runs_at_find = f_.runs;
    }
    f_.found = true;
  }
  if ((f_.found || was_found) && f_.excerpt.size() < kExcerptLines) f_.excerpt.push_back(line);
}

}  // namespace wsaf::campaign
