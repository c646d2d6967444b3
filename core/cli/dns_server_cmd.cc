// `wsafault dns-server`: runs the embedded DNS server in the foreground, so drivers, scripts
// and people can point a resolver at a zone with a chosen fault.
//
// SIGINT and SIGTERM are blocked before the server thread starts (it inherits the mask) and
// taken synchronously with sigtimedwait, so no handler runs in an arbitrary thread and the
// stats printed at exit are read after Stop has joined the server.
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <string_view>

#include "commands.h"
#include "dnsserver/dns_server.h"

namespace {

using wsaf::dns::Fault;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr const char* kDefaultZone = "corpus/zones/test.zone";
constexpr long kMaxDelayMs = 3600 * 1000;

struct DnsServerOptions {
  uint16_t port = 0;
  std::string zone_path = kDefaultZone;
  Fault fault = Fault::kNone;
  int delay_ms = 0;
  double duration_s = -1;  // < 0: until SIGINT/SIGTERM
  bool help = false;
};

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "usage: wsafault dns-server [--port P] [--zone FILE] [--fault NAME]\n"
               "                           [--delay-ms N] [--duration SEC]\n"
               "  --port P        UDP and TCP port on 127.0.0.1 (default 0: ephemeral)\n"
               "  --zone FILE     zone file (default %s)\n"
               "  --fault NAME    none, delay, drop, servfail, nxdomain, refused, truncate,\n"
               "                  wrong-id, malformed (default none)\n"
               "  --delay-ms N    reply delay for --fault delay\n"
               "  --duration SEC  exit after SEC seconds (default: until SIGINT/SIGTERM)\n",
               kDefaultZone);
}

bool ParseLong(const std::string& text, long min, long max, long* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return false;
  *out = value;
  return true;
}

bool ParseSeconds(const std::string& text, double* out) {
  if (text.empty()) return false;
  char* end = nullptr;
  errno = 0;
  double value = std::strtod(text.c_str(), &end);
  // The upper bound keeps the deadline arithmetic far from overflow.
  if (errno != 0 || *end != '\0' || !(value >= 0 && value <= 1e7)) return false;
  *out = value;
  return true;
}

// Applies one "--flag value" pair. Returns false with a message in *error.
bool ApplyOption(std::string_view flag, const std::string& value, DnsServerOptions* opts,
                 std::string* error) {
  long number = 0;
  if (flag == "--port") {
    if (!ParseLong(value, 0, 65535, &number)) {
      *error = "--port wants an integer in 0..65535, got '" + value + "'";
      return false;
    }
    opts->port = static_cast<uint16_t>(number);
  } else if (flag == "--zone") {
    if (value.empty()) {
      *error = "--zone wants a file name";
      return false;
    }
    opts->zone_path = value;
  } else if (flag == "--fault") {
    if (!wsaf::dns::ParseFault(value, &opts->fault)) {
      *error = "unknown fault '" + value + "' (see --help)";
      return false;
    }
  } else if (flag == "--delay-ms") {
    if (!ParseLong(value, 0, kMaxDelayMs, &number)) {
      *error = "--delay-ms wants an integer in 0.." + std::to_string(kMaxDelayMs) + ", got '" +
               value + "'";
      return false;
    }
    opts->delay_ms = static_cast<int>(number);
  } else if (flag == "--duration") {
    if (!ParseSeconds(value, &opts->duration_s)) {
      *error = "--duration wants a number of seconds >= 0, got '" + value + "'";
      return false;
    }
  } else {
    *error = "unknown argument '" + std::string(flag) + "' (see --help)";
    return false;
  }
  return true;
}

// Accepts both "--flag value" and "--flag=value".
bool ParseArgs(int argc, char** argv, DnsServerOptions* opts, std::string* error) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      opts->help = true;
      return true;
    }
    std::string value;
    size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (arg.rfind("--", 0) == 0 && i + 1 < argc) {
      value = argv[++i];
    } else {
      *error = arg.rfind("--", 0) == 0 ? "missing value after '" + arg + "'"
                                       : "unexpected argument '" + arg + "' (see --help)";
      return false;
    }
    if (!ApplyOption(arg, value, opts, error)) return false;
  }
  return true;
}

// Waits for SIGINT/SIGTERM (already blocked) or for the duration to pass.
void WaitForExit(const sigset_t& signals, double duration_s) {
  using Clock = std::chrono::steady_clock;
  bool forever = duration_s < 0;
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(forever ? 0 : duration_s));
  for (;;) {
    if (forever) {
      if (sigwaitinfo(&signals, nullptr) > 0) return;
      continue;  // EINTR from some other signal
    }
    auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) return;
    auto left_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec ts{static_cast<time_t>(left_ns / 1000000000), static_cast<long>(left_ns % 1000000000)};
    if (sigtimedwait(&signals, nullptr, &ts) > 0) return;
  }
}

int Serve(const DnsServerOptions& opts) {
  wsaf::dns::Zone zone;
  std::string error;
  if (!wsaf::dns::LoadZoneFile(opts.zone_path, &zone, &error)) {
    std::fprintf(stderr, "dns-server: %s\n", error.c_str());
    return kExitUsage;
  }
  size_t record_count = zone.records.size();
  sigset_t signals, old_mask;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &old_mask);

  wsaf::dns::Server server(std::move(zone));
  server.SetFault(opts.fault, opts.delay_ms);
  if (!server.Start(opts.port, &error)) {
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    std::fprintf(stderr, "dns-server: cannot start on 127.0.0.1:%u: %s\n", opts.port,
                 error.c_str());
    return kExitFailure;
  }
  std::printf("dns-server listening on 127.0.0.1:%u (zone %s, %zu records, fault %s)\n",
              server.port(), opts.zone_path.c_str(), record_count,
              wsaf::dns::FaultName(opts.fault));
  std::fflush(stdout);

  WaitForExit(signals, opts.duration_s);
  server.Stop();
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);

  wsaf::dns::ServerStats stats = server.stats();
  std::printf(
      "dns-server stats: udp_queries=%llu tcp_queries=%llu answered=%llu dropped=%llu "
      "malformed_queries=%llu\n",
      static_cast<unsigned long long>(stats.udp_queries),
      static_cast<unsigned long long>(stats.tcp_queries),
      static_cast<unsigned long long>(stats.answered),
      static_cast<unsigned long long>(stats.dropped),
      static_cast<unsigned long long>(stats.malformed_queries));
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace

int RunDnsServerCommand(int argc, char** argv) {
  DnsServerOptions opts;
  std::string error;
  if (!ParseArgs(argc, argv, &opts, &error)) {
    std::fprintf(stderr, "dns-server: %s\n", error.c_str());
    return kExitUsage;
  }
  if (opts.help) {
    PrintUsage(stdout);
    return kExitOk;
  }
  return Serve(opts);
}
