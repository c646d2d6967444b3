// The `wsafault` command: one binary, one subcommand per job.
#include <cstdio>
#include <cstring>

#include "commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"dns-server", &RunDnsServerCommand, "serve a zone on 127.0.0.1 with switchable faults"},
    {"demo", &RunDemoCommand, "every kind of lookup through the public API, with cancels"},
    {"stress", &RunStressCommand, "real threads and an online checker against the embedded DNS server"},
    {"sim", &RunSimCommand, "explore the real table under the deterministic scheduler"},
    {"replay", &RunReplayCommand, "replay a tape exactly, with its timeline"},
    {"campaign", &RunCampaignCommand, "the main job: simulation, fuzzing and sanitizer stress in one budget, with a report"},
};

void Usage(std::FILE* out) {
  std::fprintf(out, "usage: wsafault <command> [options]   (wsafault <command> --help)\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    Usage(stderr);
    return 2;
  }
  if (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    Usage(stdout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "wsafault: unknown command '%s'\n", argv[1]);
  Usage(stderr);
  return 2;
}
