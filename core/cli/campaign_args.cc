// The campaign's command line, and where it looks for what it runs. It builds nothing: absent
// fuzz targets or stress binaries skip their stage with a note, unless named explicitly (then
// their absence is a usage error).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "campaign.h"
#include "campaign_util.h"

namespace wsaf::campaign {

namespace {

void Usage(std::FILE* out) {
  std::fprintf(out,
      "usage: wsafault campaign [--time SEC] [--mutant NAME | --zoo [--mutant A,B]]\n"
      "                         [--report FILE.html] [--fuzz-dir DIR] [--stress-bin PATH]\n"
      "                         [--tsan-stress-bin PATH] [--seed S] [--stress-threads N]\n"
      "                         [--pct-depth D] [--no-sim] [--no-fuzz] [--no-stress] [--plain]\n"
      "                         [--source-dir DIR] [--runs-per-stage N] [--junit FILE.xml]\n"
      "                         [--markdown FILE.md] [--tsan-sim-bin PATH]\n"
      "Spends --time seconds (default 180; with --zoo, per planted bug, default 20) on the\n"
      "simulation (random and PCT), the fuzz targets (--fuzz-dir, default build/fuzz/fuzz) and\n"
      "the stress driver under sanitizers (--stress-bin, default build/asan/stress/wsafault-stress;\n"
      "build/tsan/stress/wsafault-stress too when present, and the simulation under TSan,\n"
      "build/tsan/core/wsafault sim, when present), two at a time, with a live view;\n"
      "then prints a summary and writes the HTML report (default out/campaign/report.html) and\n"
      "report.json beside it. It builds nothing: absent binaries skip their stage.\n"
      "--zoo runs every planted bug in turn and tabulates which stage found each first.\n"
      "--runs-per-stage N: each stage stops after N runs (execs, ops), not at its time share: with\n"
      "the same --seed the simulation stages repeat exactly (the stress driver's threads do not).\n"
      "exit status: 0 clean, 1 violation found (--zoo: a planted bug escaped), 2 could not run\n");
}

uint64_t TimeSeed() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch()).count();
  return (static_cast<uint64_t>(ns) ^ (static_cast<uint64_t>(getpid()) << 20)) % 1'000'000'000ull;
}

bool ParseDouble(const char* s, double* out) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (*s == '\0' || *end != '\0' || !(v > 0) || v > 86400) return false;
  *out = v;
  return true;
}

bool ParseInt(const char* s, int lo, int hi, int* out) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < lo || v > hi) return false;
  *out = static_cast<int>(v);
  return true;
}

bool ParseMutantList(const std::string& csv, std::vector<Mutant>* out) {
  std::size_t pos = 0;
  while (pos <= csv.size()) {
    std::size_t comma = csv.find(',', pos);
    std::string name = csv.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    Mutant m;
    if (name.empty() || !ParseMutant(name.c_str(), &m) || m == Mutant::kNone) return false;
    out->push_back(m);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return !out->empty();
}

std::string ReadLink(const char* path) {
  char buf[4096];
  ssize_t n = readlink(path, buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, n) : std::string();
}

bool IsSourceDir(const std::string& dir) {
  return FileExists(JoinPath(dir, "corpus/zones/test.zone")) && FileExists(JoinPath(dir, "CMakePresets.json"));
}

// The repository: the working directory when it is one, else an ancestor of this binary
// (build/<preset>/core/wsafault lives three levels below it).
std::string FindSourceDir(const std::string& exe) {
  if (IsSourceDir(".")) return ".";
  std::string dir = DirName(exe);
  for (int up = 0; up < 5 && dir.size() > 1; ++up) {
    if (IsSourceDir(dir)) return dir;
    dir = DirName(dir);
  }
  return "";
}

// This binary as the user would type it: relative to the working directory when below it.
std::string SelfName(const std::string& exe, const char* argv0) {
  char cwd[4096];
  if (!exe.empty() && getcwd(cwd, sizeof cwd) != nullptr) {
    std::string prefix = std::string(cwd) + "/";
    if (exe.compare(0, prefix.size(), prefix) == 0) return exe.substr(prefix.size());
    return exe;
  }
  return argv0 != nullptr && std::strchr(argv0, '/') != nullptr ? argv0 : "wsafault";
}

// An explicit path must exist; a default one is taken when it does, else its stage is skipped.
bool ResolveBinaries(Options* o, const std::string& fuzz_arg, const std::string& asan_arg,
                     const std::string& tsan_arg) {
  const std::string& src = o->source_dir;
  if (!fuzz_arg.empty()) {
    if (!IsExecutable(JoinPath(fuzz_arg, "ops_fuzzer"))) {
      std::fprintf(stderr, "campaign: --fuzz-dir %s has no ops_fuzzer\n", fuzz_arg.c_str());
      return false;
    }
    o->fuzz_dir = fuzz_arg;
  } else if (!src.empty() && IsExecutable(JoinPath(src, "build/fuzz/fuzz/ops_fuzzer"))) {
    o->fuzz_dir = JoinPath(src, "build/fuzz/fuzz");
  } else {
    o->fuzz_dir_note = "no fuzz targets (build/fuzz/fuzz/ops_fuzzer absent: cmake --preset fuzz && "
                       "cmake --build --preset fuzz, or --fuzz-dir DIR)";
  }
  for (auto [arg, out, preset, flag] :
       {std::tuple{&asan_arg, &o->stress_asan, "asan", "--stress-bin"},
        std::tuple{&tsan_arg, &o->stress_tsan, "tsan", "--tsan-stress-bin"}}) {
    if (!arg->empty()) {
      if (!IsExecutable(*arg)) {
        std::fprintf(stderr, "campaign: %s %s is not an executable\n", flag, arg->c_str());
        return false;
      }
      *out = *arg;
    } else {
      std::string guess = JoinPath(src, std::string("build/") + preset + "/stress/wsafault-stress");
      if (!src.empty() && IsExecutable(guess)) *out = guess;
    }
  }
  std::string tsan_sim = JoinPath(src, "build/tsan/core/wsafault");
  if (o->sim_tsan.empty() && !src.empty() && IsExecutable(tsan_sim)) o->sim_tsan = tsan_sim;
  if (o->stress_asan.empty()) {
    o->stress_note = "no ASan stress binary (build/asan/stress/wsafault-stress absent: cmake --preset "
                     "asan && cmake --build --preset asan --target wsafault-stress, or --stress-bin)";
  }
  return true;
}

// The flags as given, before any of them is checked against the file system.
struct RawArgs {
  std::string fuzz, asan, tsan, mutant, source;
  bool seed_given = false;
};

// Returns 0 to go on, -1 after --help, or kExitCannotRun.
int ParseFlags(int argc, char** argv, Options* o, RawArgs* raw) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    const char* v = nullptr;
    auto value = [&]() {
      if (i + 1 >= argc) return false;
      v = argv[++i];
      return true;
    };
    bool ok = true;
    if (k == "--help" || k == "-h") {
      Usage(stdout);
      return -1;
    } else if (k == "--time") {
      ok = value() && ParseDouble(v, &o->time_sec);
      o->time_given = true;
    } else if (k == "--zoo") {
      o->zoo = true;
    } else if (k == "--mutant") {
      ok = value() && (raw->mutant = v, true);
    } else if (k == "--report") {
      ok = value() && *v != '\0' && (o->report_html = v, true);
    } else if (k == "--fuzz-dir") {
      ok = value() && (raw->fuzz = v, true);
    } else if (k == "--stress-bin") {
      ok = value() && (raw->asan = v, true);
    } else if (k == "--tsan-stress-bin") {
      ok = value() && (raw->tsan = v, true);
    } else if (k == "--source-dir") {
      ok = value() && (raw->source = v, true);
    } else if (k == "--seed") {
      char* end = nullptr;
      ok = value() && (o->seed = std::strtoull(v, &end, 10), *v != '\0' && *end == '\0');
      raw->seed_given = true;
    } else if (k == "--tsan-sim-bin") {
      ok = value() && IsExecutable(v) && (o->sim_tsan = v, true);
    } else if (k == "--junit") {
      ok = value() && *v != '\0' && (o->junit = v, true);
    } else if (k == "--markdown") {
      ok = value() && *v != '\0' && (o->markdown = v, true);
    } else if (k == "--runs-per-stage") {
      char* end = nullptr;
      ok = value() && (o->runs_per_stage = std::strtoull(v, &end, 10), *v >= '1' && *v <= '9' && *end == '\0' &&
                       o->runs_per_stage <= 1'000'000'000ull);
    } else if (k == "--stress-threads") {
      ok = value() && ParseInt(v, 1, 64, &o->stress_threads);
    } else if (k == "--pct-depth") {
      ok = value() && ParseInt(v, 1, 20, &o->pct_depth);
    } else if (k == "--no-sim") {
      o->run_sim = false;
    } else if (k == "--no-fuzz") {
      o->run_fuzz = false;
    } else if (k == "--no-stress") {
      o->run_stress = false;
    } else if (k == "--plain") {
      o->plain = true;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "campaign: bad or incomplete option '%s'\n", k.c_str());
      Usage(stderr);
      return kExitCannotRun;
    }
  }
  return kExitClean;
}

// The command line again with the seed made explicit (and --time, which sets the shares).
std::string RepeatCommand(const Options& o, int argc, char** argv) {
  std::vector<std::string> words = {o.self, "campaign"};
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (k == "--seed" || k == "--time") {
      ++i;
      continue;
    }
    words.push_back(k);
  }
  words.insert(words.begin() + 2, {"--seed", std::to_string(o.seed), "--time", Printf("%g", o.time_sec)});
  return JoinCommand(words);
}

}  // namespace

int ParseOptions(int argc, char** argv, Options* o) {
  RawArgs raw;
  if (int rc = ParseFlags(argc, argv, o, &raw)) return rc;
  const std::string& mutant_arg = raw.mutant;
  const std::string& source_arg = raw.source;
  if (!mutant_arg.empty() && !ParseMutantList(mutant_arg, &o->mutants)) {
    std::fprintf(stderr, "campaign: unknown planted bug in '%s' (wsafault sim --list-mutants)\n",
                 mutant_arg.c_str());
    return kExitCannotRun;
  }
  if (!o->zoo && o->mutants.size() > 1) {
    std::fprintf(stderr, "campaign: --mutant takes one bug (a list only with --zoo)\n");
    return kExitCannotRun;
  }
  if ((o->zoo || !o->mutants.empty()) && !SelectMutant(Mutant::kNone)) {
    std::fprintf(stderr, "campaign: this build has no planted bugs (WSAFAULT_MUTANTS is off)\n");
    return kExitCannotRun;
  }
  if (o->zoo && !o->time_given) o->time_sec = 20;
  if (!raw.seed_given) o->seed = TimeSeed();
  std::string exe = ReadLink("/proc/self/exe");
  o->self = SelfName(exe, argv[0]);
  if (!source_arg.empty() && !IsSourceDir(source_arg)) {
    std::fprintf(stderr, "campaign: --source-dir %s is not the wsafault repository\n", source_arg.c_str());
    return kExitCannotRun;
  }
  o->source_dir = Absolute(source_arg.empty() ? FindSourceDir(exe) : source_arg);
  if (!ResolveBinaries(o, raw.fuzz, raw.asan, raw.tsan)) return kExitCannotRun;
  // Children run in directories of their own: every path they are given is absolute.
  o->fuzz_dir = Absolute(o->fuzz_dir);
  o->stress_asan = Absolute(o->stress_asan);
  o->stress_tsan = Absolute(o->stress_tsan);
  o->sim_tsan = Absolute(o->sim_tsan);
  o->report_dir = Absolute(DirName(o->report_html));
  o->repeat = RepeatCommand(*o, argc, argv);
  return kExitClean;
}

uint64_t StageSeed(uint64_t campaign_seed, const std::string& stage_id, uint64_t slot) {
  // FNV-1a over the id, then SplitMix64's finaliser: nearby seeds give unrelated streams.
  uint64_t h = 1469598103934665603ull;
  for (char c : stage_id) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  uint64_t z = campaign_seed + 0x9e3779b97f4a7c15ull * (h + slot + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace wsaf::campaign
