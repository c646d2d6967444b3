#include "stress_options.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string_view>

#ifndef WSAF_SOURCE_DIR
#define WSAF_SOURCE_DIR "."
#endif

namespace wsaf::stress {

namespace {

constexpr double kMaxDurationS = 7 * 24 * 3600.0;
constexpr uint64_t kMaxOps = 100'000'000'000ull;

bool ParseDouble(const std::string& text, double min, double max, double* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || *end != '\0' || !(v >= min && v <= max)) return false;
  *out = v;
  return true;
}

bool ParseU64(const std::string& text, uint64_t min, uint64_t max, uint64_t* out) {
  if (text.empty() || text[0] == '-') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 0);
  if (errno != 0 || *end != '\0' || v < min || v > max) return false;
  *out = v;
  return true;
}

bool ParseInt(const std::string& text, int min, int max, int* out) {
  uint64_t v = 0;
  if (min < 0 || !ParseU64(text, static_cast<uint64_t>(min), static_cast<uint64_t>(max), &v)) {
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

std::string MutantList() {
  std::string names;
  for (int i = 0; i < static_cast<int>(Mutant::kCount); ++i) {
    if (!names.empty()) names += ", ";
    names += MutantName(static_cast<Mutant>(i));
  }
  return names;
}

// A readable path as given, else the same path under the source tree (ctest runs elsewhere).
std::string FindCorpusPath(const std::string& relative) {
  if (access(relative.c_str(), R_OK) == 0) return relative;
  return std::string(WSAF_SOURCE_DIR) + "/" + relative;
}

std::string Absolute(const std::string& path) {
  char buf[PATH_MAX];
  if (realpath(path.c_str(), buf) != nullptr) return buf;
  return path;
}

// Applies one flag. `value` is null for flags without a value.
bool Apply(std::string_view flag, const std::string* value, Options* o, std::string* error) {
  auto need = [&]() {
    if (value == nullptr) *error = std::string(flag) + " needs a value";
    return value != nullptr;
  };
  auto bad = [&](const char* want) {
    *error = std::string(flag) + " wants " + want + ", got '" + *value + "'";
    return false;
  };
  if (flag == "--faults") return o->faults = true;
  if (flag == "--soak") return o->soak = true;
  if (flag == "--expect-violation") return o->expect_violation = true;
  if (flag == "--help" || flag == "-h") return o->help = true;
  if (!need()) return false;
  if (flag == "--threads") return ParseInt(*value, 1, 256, &o->threads) || bad("1..256");
  if (flag == "--duration") {
    o->duration_given = true;
    return ParseDouble(*value, 0.01, kMaxDurationS, &o->duration_s) ||
           bad("seconds (0.01..604800)");
  }
  if (flag == "--ops") return ParseU64(*value, 1, kMaxOps, &o->ops) || bad("a count >= 1");
  if (flag == "--seed") {
    o->seed_given = true;
    return ParseU64(*value, 0, UINT64_MAX, &o->seed) || bad("an unsigned integer");
  }
  if (flag == "--cancel-ratio") return ParseDouble(*value, 0, 1, &o->cancel_ratio) || bad("0..1");
  if (flag == "--free-canceled") return ParseDouble(*value, 0, 1, &o->free_canceled) || bad("0..1");
  if (flag == "--sample-every") {
    return ParseDouble(*value, 0.1, 3600, &o->sample_every_s) || bad("seconds (0.1..3600)");
  }
  if (flag == "--max-outstanding")
    return ParseInt(*value, 1, 4096, &o->max_outstanding) || bad("1..4096");
  if (flag == "--grace-ms") return ParseInt(*value, 10, 60000, &o->grace_ms) || bad("10..60000");
  if (flag == "--drain-ms")
    return ParseInt(*value, 100, 600000, &o->drain_ms) || bad("100..600000");
  if (flag == "--max-violations")
    return ParseInt(*value, 1, 1000, &o->max_violations) || bad("1..1000");
  if (flag == "--zone") return !(o->zone_path = *value).empty() || bad("a file");
  if (flag == "--netbase-dir") return !(o->netbase_dir = *value).empty() || bad("a directory");
  if (flag == "--mutant") {
    if (ParseMutant(value->c_str(), &o->mutant)) return true;
    *error = "unknown mutant '" + *value + "'; valid names: " + MutantList();
    return false;
  }
  *error = "unknown option " + std::string(flag);
  return false;
}

constexpr std::string_view kValueFlags[] = {
    "--threads",      "--duration",        "--ops",
    "--seed",         "--cancel-ratio",    "--free-canceled",
    "--sample-every", "--max-outstanding", "--grace-ms",
    "--drain-ms",     "--max-violations",  "--zone",
    "--netbase-dir",  "--mutant"};

bool TakesValue(std::string_view flag) {
  for (std::string_view f : kValueFlags) {
    if (f == flag) return true;
  }
  return false;
}

bool Known(std::string_view flag) {
  return TakesValue(flag) || flag == "--faults" || flag == "--soak" ||
         flag == "--expect-violation" || flag == "--help" || flag == "-h";
}

}  // namespace

uint64_t TimeSeed() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  uint64_t ns =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
  // Short enough to type back in, distinct enough between runs started together.
  return (ns ^ (static_cast<uint64_t>(getpid()) << 20)) % 1'000'000'000'000ull;
}

bool ParseOptions(int argc, char** argv, Options* o, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string flag = arg, value;
    bool has_value = false;
    if (std::size_t eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    } else if (TakesValue(flag) && i + 1 < argc) {
      value = argv[++i];
      has_value = true;
    }
    if (!Known(flag)) {
      *error = "unknown option " + flag;
      return false;
    }
    if (!Apply(flag, has_value ? &value : nullptr, o, error)) return false;
  }
  if (o->soak && o->ops == 0 && !o->duration_given) o->duration_s = 600;
  if (!o->seed_given) o->seed = TimeSeed();
  o->zone_path =
      Absolute(o->zone_path.empty() ? FindCorpusPath("corpus/zones/test.zone") : o->zone_path);
  o->netbase_dir =
      Absolute(o->netbase_dir.empty() ? FindCorpusPath("corpus/netbase") : o->netbase_dir);
  return true;
}

void PrintUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: wsafault stress [options]      (also: wsafault-stress [options])\n"
               "Real threads start, cancel and pump Winsock async lookups against an embedded DNS\n"
               "server, while an online checker holds every call to SPEC.md.\n"
               "  --threads N          application threads (default 4)\n"
               "  --duration SEC       run time (default 10; 600 with --soak)\n"
               "  --ops N              stop after N operations instead\n"
               "  --seed N             operation mix (default: from the clock; always printed)\n"
               "  --cancel-ratio R     share of requests given a cancel (default 0.5)\n"
               "  --faults             switch the DNS server's fault mode at random\n"
               "  --mutant NAME        select a planted bug (%s)\n"
               "  --soak               sample RSS and slot counts and report their trend\n"
               "  --sample-every SEC   soak sampling period (default 5)\n"
               "  --max-outstanding N  live requests per thread (default 32)\n"
               "  --grace-ms MS        canceled buffers are re-checked after MS (default 500)\n"
               "  --drain-ms MS        final quiescence bound (default 3000)\n"
               "  --free-canceled R    share of canceled buffers freed at once (default 0.5 under\n"
               "                       ASan/TSan, so late writes are reported; 0 otherwise)\n"
               "  --max-violations N   stop after N reports (default 1)\n"
               "  --expect-violation   exit 0 only if a violation was reported (mutant tests)\n"
               "  --zone FILE          zone (default corpus/zones/test.zone)\n"
               "  --netbase-dir DIR    services and protocols (default corpus/netbase)\n"
               "exit status: 0 clean, 1 violation, 2 bad arguments\n",
               MutantList().c_str());
}

std::string RerunCommand(const Options& o) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  std::string program = n > 0 ? std::string(exe, static_cast<std::size_t>(n)) : "wsafault-stress";
  std::string base = program.substr(program.rfind('/') + 1);
  std::string cmd = program + (base == "wsafault" ? " stress" : "");
  char buf[64];
  cmd += " --threads " + std::to_string(o.threads);
  if (o.ops != 0) {
    cmd += " --ops " + std::to_string(o.ops);
  } else {
    std::snprintf(buf, sizeof(buf), " --duration %g", o.duration_s);
    cmd += buf;
  }
  cmd += " --seed " + std::to_string(o.seed);
  std::snprintf(buf, sizeof(buf), " --cancel-ratio %g", o.cancel_ratio);
  cmd += buf;
  if (o.faults) cmd += " --faults";
  if (o.mutant != Mutant::kNone) cmd += std::string(" --mutant ") + MutantName(o.mutant);
  if (o.soak) cmd += " --soak";
  if (o.free_canceled >= 0) {
    std::snprintf(buf, sizeof(buf), " --free-canceled %g", o.free_canceled);
    cmd += buf;
  }
  if (o.max_outstanding != Options{}.max_outstanding) {
    cmd += " --max-outstanding " + std::to_string(o.max_outstanding);
  }
  if (o.grace_ms != Options{}.grace_ms) cmd += " --grace-ms " + std::to_string(o.grace_ms);
  if (o.drain_ms != Options{}.drain_ms) cmd += " --drain-ms " + std::to_string(o.drain_ms);
  cmd += " --zone " + o.zone_path + " --netbase-dir " + o.netbase_dir;
  return cmd;
}

}  // namespace wsaf::stress
