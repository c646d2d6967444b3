// The live view. On a terminal the block is redrawn in place with ANSI cursor movement (each
// line cut to the terminal's width, so a wrapped line never breaks the count of lines to move
// up); off a terminal nothing is redrawn, because CI logs keep every byte.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "campaign.h"
#include "campaign_util.h"

namespace wsaf::campaign {

namespace {

constexpr double kRedrawEvery = 0.25;
constexpr int kBarWidth = 20;

const char* kReset = "\x1b[0m";
const char* kRed = "\x1b[31;1m";
const char* kGreen = "\x1b[32m";
const char* kYellow = "\x1b[33m";
const char* kDim = "\x1b[2m";
const char* kBold = "\x1b[1m";

// Cuts `s` to `width` visible columns: escape sequences take none, UTF-8 continuation bytes
// belong to the character before them.
std::string Fit(const std::string& s, int width) {
  std::string out;
  int visible = 0;
  bool colored = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = s[i];
    if (c == 0x1b) {
      std::size_t end = s.find('m', i);
      if (end == std::string::npos) break;
      out.append(s, i, end - i + 1);
      colored = true;
      i = end;
      continue;
    }
    if ((c & 0xC0) != 0x80) {
      if (visible >= width) break;
      ++visible;
    }
    out += static_cast<char>(c);
  }
  if (colored) out += kReset;
  return out;
}

std::string Bar(double fraction, const char* color, bool tty) {
  int full = std::clamp(static_cast<int>(fraction * kBarWidth + 0.5), 0, kBarWidth);
  std::string bar = "[";
  if (tty) bar += color;
  bar += std::string(full, '#');
  if (tty) bar += kDim;
  bar += std::string(kBarWidth - full, '.');
  if (tty) bar += kReset;
  return bar + "]";
}

std::string Figures(const Stage& s) {
  return Printf("%9s %11s %-5s", Rate(s.rate).c_str(), Count(s.runs).c_str(), s.unit.c_str());
}

// What the stage has covered: the model's cells for the simulation, libFuzzer's edges for fuzzing.
std::string CoverageOf(const Stage& s) {
  if (s.lane == 0) {
    return Printf("  cov %d calls %d trans %d errs", s.coverage.DistinctCalls(), s.coverage.DistinctTransitions(),
                  s.coverage.DistinctMessageErrors());
  }
  if (s.group == Group::kFuzzing) {
    return Printf("  cov %s ft %s", Count(s.fuzz_cov).c_str(), Count(s.fuzz_features).c_str());
  }
  return "";
}

std::string StageLine(const Stage& s, double elapsed_now, bool tty) {
  std::string name = Printf("  %-15s ", s.title.c_str());
  switch (s.state) {
    case State::kWaiting:
      return name + (tty ? kDim : "") + "waiting" + (tty ? kReset : "");
    case State::kSkipped:
    case State::kError:
      return name + (tty ? (s.state == State::kError ? kRed : kDim) : "") + StateName(s.state) + ": " + s.note +
             (tty ? kReset : "");
    default:
      break;
  }
  double elapsed = s.Elapsed(elapsed_now);
  double fraction = s.state == State::kRunning ? elapsed / std::max(s.budget, 1e-3) : 1.0;
  const char* color = s.state == State::kFound ? kRed : (s.state == State::kDone ? kGreen : kYellow);
  std::string line = name + Bar(fraction, color, tty) + " ";
  if (s.state == State::kRunning) {
    line += Printf("%5.0f/%-4.0fs left %4.0fs ", elapsed, s.budget, std::max(0.0, s.budget - elapsed));
  } else {
    line += Printf("%-5s %6.1fs      ", StateName(s.state), elapsed);
  }
  line += Figures(s);
  line += s.failures > 0 ? Printf("  %sfailures %d%s", tty ? kRed : "", s.failures, tty ? kReset : "")
                         : std::string("  failures 0");
  return line + CoverageOf(s);
}

}  // namespace

LiveView::LiveView(const Options& opt) : tty_(!opt.plain && isatty(STDOUT_FILENO)), plain_every_(opt.plain_every) {
  winsize ws{};
  if (tty_ && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) width_ = ws.ws_col - 1;
}

std::vector<std::string> LiveView::Block(Board* board, double now) {
  std::vector<std::string> lines;
  BoardLock lock(&board->mu);
  double t = now - board->t0;
  int failures = static_cast<int>(board->failures.size());
  check::Coverage cov;
  for (const Stage& s : board->stages) {
    if (s.lane == 0) cov.Merge(s.coverage);
  }
  lines.push_back(Printf("%s%s%s  %s of %s  failures %s%d%s", tty_ ? kBold : "", board->heading.c_str(),
                         tty_ ? kReset : "", Seconds(t).c_str(), Seconds(board->budget).c_str(),
                         failures > 0 && tty_ ? kRed : "", failures, failures > 0 && tty_ ? kReset : ""));
  for (const Stage& s : board->stages) lines.push_back(StageLine(s, t, tty_));
  lines.push_back("  " + check::CoverageSummaryLine(check::Summarize(cov)) + " (simulation)");
  return lines;
}

// Stage starts and ends, and the notices the lanes left, as lines to print once.
std::vector<std::string> LiveView::Events(Board* board, double now) {
  std::vector<std::string> out;
  BoardLock lock(&board->mu);
  if (board_ != board || seen_.size() != board->stages.size()) {
    board_ = board;
    seen_.assign(board->stages.size(), State::kWaiting);
  }
  std::string stamp = Printf("[%5.0fs] ", now - board->t0);
  for (std::size_t i = 0; i < board->stages.size(); ++i) {
    const Stage& s = board->stages[i];
    if (s.state == seen_[i]) continue;
    if (s.state == State::kRunning) {
      out.push_back(stamp + s.title + ": started, budget " + Seconds(s.budget) +
                    (s.command.empty() ? std::string() : ": " + s.command));
    } else if (s.state == State::kDone || s.state == State::kSkipped) {
      out.push_back(stamp + s.title + ": " + StateName(s.state) +
                    (s.state == State::kDone ? Printf(" after %s, %s %s, %s", Seconds(s.Elapsed(0)).c_str(),
                                                      Count(s.runs).c_str(), s.unit.c_str(), Rate(s.rate).c_str())
                                             : ": " + s.note));
    }
    seen_[i] = s.state;
  }
  for (std::string& n : board->notices) out.push_back(stamp + n);
  board->notices.clear();
  return out;
}

void LiveView::Erase() {
  if (tty_ && drawn_ > 0) std::printf("\x1b[%dF\x1b[J", drawn_);
  drawn_ = 0;
}

void LiveView::Print(const std::string& line) {
  Erase();
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void LiveView::Update(Board* board, double now, bool force) {
  std::vector<std::string> events = Events(board, now);
  if (tty_) {
    if (!force && events.empty() && now - last_draw_ < kRedrawEvery) return;
    last_draw_ = now;
    std::string out = drawn_ > 0 ? Printf("\x1b[%dF", drawn_) : std::string();
    for (const std::string& e : events) out += "\x1b[2K" + Fit(e, width_) + "\n";
    std::vector<std::string> block = Block(board, now);
    for (const std::string& l : block) out += "\x1b[2K" + Fit(l, width_) + "\n";
    out += "\x1b[J";
    drawn_ = static_cast<int>(block.size());
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return;
  }
  for (const std::string& e : events) std::printf("%s\n", e.c_str());
  if (force || last_plain_ < 0 || now - last_plain_ >= plain_every_) {
    last_plain_ = now;
    BoardLock lock(&board->mu);
    for (const Stage& s : board->stages) {
      if (s.state != State::kRunning) continue;
      double e = s.Elapsed(now - board->t0);
      std::printf("[%5.0fs] %s: %.0f/%.0f s, %s %s, %s, failures %d%s\n", now - board->t0, s.title.c_str(), e,
                  s.budget, Count(s.runs).c_str(), s.unit.c_str(), Rate(s.rate).c_str(), s.failures,
                  s.lane == 0 ? Printf(", coverage %d calls %d transitions %d errors", s.coverage.DistinctCalls(),
                                       s.coverage.DistinctTransitions(), s.coverage.DistinctMessageErrors()).c_str()
                              : "");
    }
  }
  std::fflush(stdout);
}

void LiveView::Finish(Board* board, double now, bool keep) {
  if (tty_) {
    Update(board, now, true);
    if (!keep) Erase();
    drawn_ = 0;
    return;
  }
  for (const std::string& e : Events(board, now)) std::printf("%s\n", e.c_str());
  std::fflush(stdout);
}

}  // namespace wsaf::campaign
