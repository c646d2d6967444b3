// Results where CI looks: a JUnit XML file (--junit FILE) and a Markdown summary (--markdown
// FILE, appended, as $GITHUB_STEP_SUMMARY wants).
//
// JUnit layout (validated against tests/campaign/junit.xsd, the common Jenkins/Ant schema):
//   <testsuites>
//     <testsuite name="stages">    a testcase per stage: skipped when it did not run, error when
//                                  it could not run, failure when it found a violation (in a
//                                  plain campaign; in the zoo finding the planted bug is the goal)
//     <testsuite name="failures">  a testcase per failure, its replay command in the failure text
//                                  (in the zoo: a passing testcase per detection, replay in
//                                  system-out)
//     <testsuite name="zoo">       a testcase per planted bug: failure when every stage missed it
#include <string>

#include "campaign.h"
#include "campaign_util.h"

namespace wsaf::campaign {

namespace {

// XML attribute and text escaping; control characters other than tab and newline are dropped
// (XML 1.0 cannot carry them).
std::string X(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c >= 0x20 || c == '\n' || c == '\t') out += static_cast<char>(c);
    }
  }
  return out;
}

std::string Secs(double s) { return Printf("%.3f", s < 0 ? 0.0 : s); }

struct Suite {
  std::string name, body;
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  double time = 0;
  std::string Xml() const {
    return Printf("  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%s\">\n",
                  X(name).c_str(), tests, failures, errors, skipped, Secs(time).c_str()) +
           body + "  </testsuite>\n";
  }
};

std::string FailureText(const Failure& f) {
  std::string t = f.invariant + "\n";
  if (!f.detail.empty() && f.detail != f.invariant) t += f.detail + "\n";
  t += "replay: " + f.replay + "\n";
  if (!f.tape_path.empty()) t += "tape: " + f.tape_path + "\n";
  if (!f.log_excerpt.empty()) t += "\n" + f.log_excerpt;
  return t;
}

Suite StageSuite(const Outcome& out) {
  Suite s{"stages", "", 0, 0, 0, 0, 0};
  bool zoo = out.mode == "zoo";
  for (const Stage& st : out.stages) {
    ++s.tests;
    double t = st.Elapsed(0);
    s.time += t;
    s.body += Printf("    <testcase classname=\"wsafault.campaign.stage\" name=\"%s\" time=\"%s\">\n",
                     X(st.id).c_str(), Secs(t).c_str());
    if (st.state == State::kSkipped || st.state == State::kWaiting) {
      ++s.skipped;
      s.body += "      <skipped message=\"" + X(st.note) + "\"/>\n";
    } else if (st.state == State::kError) {
      ++s.errors;
      s.body += "      <error message=\"" + X(st.note) + "\" type=\"could-not-run\">" + X(st.command) + "</error>\n";
    } else if (st.state == State::kFound && !zoo) {
      ++s.failures;
      s.body += Printf("      <failure message=\"%s found %d violation(s)\" type=\"violation\">", X(st.title).c_str(),
                       st.failures);
      for (const Failure& f : out.failures) {
        if (f.stage_id == st.id) s.body += X(FailureText(f));
      }
      s.body += "</failure>\n";
    }
    s.body += "      <system-out>" + X(Printf("%llu %s at %s; ", static_cast<unsigned long long>(st.runs),
                                              st.unit.c_str(), Rate(st.rate).c_str()) + st.note) +
              "</system-out>\n    </testcase>\n";
  }
  return s;
}

Suite FailureSuite(const Outcome& out) {
  Suite s{"failures", "", 0, 0, 0, 0, 0};
  bool zoo = out.mode == "zoo";
  std::vector<const Failure*> all;
  for (const Failure& f : out.failures) all.push_back(&f);
  for (const ZooRow& row : out.zoo) {
    for (const Failure& f : row.failures) all.push_back(&f);
  }
  int n = 0;
  for (const Failure* f : all) {
    ++s.tests;
    s.time += f->after;
    std::string name = Printf("%d %s %s", ++n, f->stage_id.c_str(), f->invariant.c_str()) +
                       (f->mutant != "none" ? " [" + f->mutant + "]" : "");
    s.body += Printf("    <testcase classname=\"wsafault.campaign.failure\" name=\"%s\" time=\"%s\">\n",
                     X(name).c_str(), Secs(f->after).c_str());
    if (zoo) {
      s.body += "      <system-out>planted bug detected\n" + X(FailureText(*f)) + "</system-out>\n";
    } else {
      ++s.failures;
      s.body += "      <failure message=\"" + X(f->invariant + ": replay: " + f->replay) + "\" type=\"violation\">" +
                X(FailureText(*f)) + "</failure>\n";
    }
    s.body += "    </testcase>\n";
  }
  return s;
}

Suite ZooSuite(const Outcome& out) {
  Suite s{"zoo", "", 0, 0, 0, 0, 0};
  for (const ZooRow& row : out.zoo) {
    ++s.tests;
    s.time += row.seconds;
    s.body += Printf("    <testcase classname=\"wsafault.campaign.zoo\" name=\"%s\" time=\"%s\">\n",
                     MutantName(row.mutant), Secs(row.seconds).c_str());
    if (row.first < 0) {
      ++s.failures;
      s.body += "      <failure message=\"planted bug escaped every stage\" type=\"escaped\">" +
                X(MutantDescription(row.mutant)) + "</failure>\n";
    } else {
      const Failure& f = row.failures[row.first];
      s.body += "      <system-out>" + X(Printf("found first by %s after %s: ", GroupName(f.group),
                                                Seconds(f.wall).c_str()) + f.replay) + "</system-out>\n";
    }
    s.body += "    </testcase>\n";
  }
  return s;
}

}  // namespace

std::string RenderJunitReport(const Outcome& out, const Options& opt) {
  Suite suites[] = {StageSuite(out), FailureSuite(out), ZooSuite(out)};
  int tests = 0, failures = 0, errors = 0;
  for (const Suite& s : suites) {
    tests += s.tests;
    failures += s.failures;
    errors += s.errors;
  }
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += Printf("<testsuites name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"%d\" time=\"%s\">\n",
              X("wsafault " + out.mode + " seed " + std::to_string(opt.seed)).c_str(), tests, failures, errors,
              Secs(out.elapsed).c_str());
  for (const Suite& s : suites) {
    if (s.tests > 0) x += s.Xml();
  }
  return x + "</testsuites>\n";
}

std::string RenderMarkdownSummary(const Outcome& out, const Options& opt) {
  std::string m = "## wsafault " + out.mode + ": " + out.verdict + "\n\n";
  m += Printf("Seed %llu, budget %s, elapsed %s. Repeat: `%s`\n\n", static_cast<unsigned long long>(opt.seed),
              Seconds(opt.time_sec).c_str(), Seconds(out.elapsed).c_str(), opt.repeat.c_str());
  m += "| stage | result | time | runs/execs/ops | rate | failures | note |\n|---|---|---:|---:|---:|---:|---|\n";
  for (const Stage& s : out.stages) {
    std::string note = s.note;
    for (char& c : note) c = c == '|' ? '/' : c;
    m += "| " + s.title + " | " + StateName(s.state) + " | " + Seconds(s.Elapsed(0)) + " | " + Count(s.runs) + " " +
         s.unit + " | " + Rate(s.rate) + " | " + std::to_string(s.failures) + " | " + note + " |\n";
  }
  check::CoverageReport r = check::Summarize(out.coverage);
  m += "\nCoverage (simulation): " + check::CoverageSummaryLine(r) + "\n";
  if (!out.failures.empty()) m += "\n### Failures\n\n";
  for (const Failure& f : out.failures) {
    m += "- **" + f.invariant + "** (" + GroupName(f.group) + ", after " + Seconds(f.after) + "): `" + f.replay +
         "`\n";
  }
  if (!out.zoo.empty()) {
    m += "\n### Planted bugs\n\n| bug | found first by | after |\n|---|---|---:|\n";
    for (const ZooRow& row : out.zoo) {
      if (row.first < 0) {
        m += std::string("| ") + MutantName(row.mutant) + " | **NOT FOUND** | - |\n";
      } else {
        const Failure& f = row.failures[row.first];
        m += std::string("| ") + MutantName(row.mutant) + " | " + GroupName(f.group) + " | " + Seconds(f.wall) + " |\n";
      }
    }
  }
  return m;
}

}  // namespace wsaf::campaign
