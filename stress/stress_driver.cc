#include "stress_driver.h"

#include <cinttypes>
#include <cstdio>
#include <string>

#include "controller.h"
#include "dnsserver/dns_server.h"
#include "run_state.h"
#include "stress_options.h"
#include "table/mutants.h"
#include "wsafault/winsock_async.h"

namespace wsaf::stress {
namespace {

// The embedded server, and the library pointed at it (and only at it) before any lookup.
bool SetUpResolver(const Options& o, dns::Server* server) {
  std::string error;
  if (!server->Start(0, &error)) {
    std::fprintf(stderr, "stress: cannot start the DNS server: %s\n", error.c_str());
    return false;
  }
  std::string services = o.netbase_dir + "/services", protocols = o.netbase_dir + "/protocols";
  if (wsaf_set_dns_servers(server->ServersCsv().c_str()) != 0) {
    std::fprintf(stderr, "stress: wsaf_set_dns_servers(%s) failed\n", server->ServersCsv().c_str());
    return false;
  }
  if (wsaf_set_dns_timeout(200, 1) != 0) {
    std::fprintf(stderr, "stress: wsaf_set_dns_timeout(200, 1) failed\n");
    return false;
  }
  if (wsaf_set_netbase_files(services.c_str(), protocols.c_str()) != 0) {
    std::fprintf(stderr, "stress: cannot read %s or %s\n", services.c_str(), protocols.c_str());
    return false;
  }
  return true;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g s", s);
  return buf;
}

int ExitStatus(const Options& o, int violations) {
  if (o.expect_violation) {
    if (violations > 0) {
      std::printf("stress: a violation was expected and reported: exit 0\n");
      return kExitClean;
    }
    std::printf("stress: a violation was expected (mutant %s) but none was reported: exit 1\n",
                MutantName(o.mutant));
    return kExitViolation;
  }
  return violations > 0 ? kExitViolation : kExitClean;
}

int Run(const Options& o) {
  dns::Zone zone;
  std::string error;
  if (!dns::LoadZoneFile(o.zone_path, &zone, &error)) {
    std::fprintf(stderr, "stress: cannot load zone %s: %s\n", o.zone_path.c_str(), error.c_str());
    return kExitUsage;
  }
  dns::Server server(std::move(zone));
  if (!SetUpResolver(o, &server)) return kExitUsage;

  ResetClock();
  RunState run(o);
  run.free_canceled = o.free_canceled >= 0 ? o.free_canceled : (kSanitizerBuild ? 0.5 : 0.0);
  std::string rerun = RerunCommand(o);
  run.reporter.Configure(o.seed, rerun, MutantName(o.mutant), o.max_violations, o.expect_violation);
  std::printf("stress: seed %" PRIu64
              ", %d threads, %s, cancel ratio %g, faults %s, mutant %s, "
              "DNS %s\n  rerun: %s\n",
              o.seed, o.threads,
              (o.ops ? std::to_string(o.ops) + " ops" : Seconds(o.duration_s)).c_str(),
              o.cancel_ratio, o.faults ? "on" : "off", MutantName(o.mutant),
              server.ServersCsv().c_str(), rerun.c_str());
  std::fflush(stdout);

  WSADATA data;
  if (int rc = WSAStartup(MAKEWORD(2, 2), &data); rc != 0) {
    std::fprintf(stderr, "stress: WSAStartup failed: %d\n", rc);
    return kExitViolation;
  }
  {
    Controller controller(run, server);
    controller.Run();
    controller.PrintSummary();
  }
  server.Stop();
  int violations = run.reporter.count();
  if (violations > 0) {
    std::printf("stress: %d violation(s); seed %" PRIu64 "\n  rerun: %s\n", violations, o.seed,
                rerun.c_str());
  }
  return ExitStatus(o, violations);
}

}  // namespace
}  // namespace wsaf::stress

int RunStressCommand(int argc, char** argv) {
  using namespace wsaf::stress;
  Options opts;
  std::string error;
  if (!ParseOptions(argc, argv, &opts, &error)) {
    std::fprintf(stderr, "stress: %s\n(wsafault stress --help lists the options)\n", error.c_str());
    return kExitUsage;
  }
  if (opts.help) {
    PrintUsage(stdout);
    return kExitClean;
  }
  // Before any thread of the library exists (mutants.h).
  if (!wsaf::SelectMutant(opts.mutant)) {
    std::fprintf(stderr, "stress: this build has no mutants (WSAFAULT_MUTANTS=OFF)\n");
    return kExitUsage;
  }
  return Run(opts);
}
