// The subcommands of the `wsafault` tool. main.cc picks one by argv[1] and passes it the rest,
// so each command sees its own name as argv[0].
//
// Every command returns the process exit status: 0 on success, 2 on bad arguments (with a
// message on stderr), 1 when the work itself failed.
#ifndef WSAFAULT_CLI_COMMANDS_H_
#define WSAFAULT_CLI_COMMANDS_H_

// wsafault dns-server [--port P] [--zone FILE] [--fault NAME] [--delay-ms N] [--duration SEC]
int RunDnsServerCommand(int argc, char** argv);

// wsafault demo [--zone FILE]: the embedded DNS server and every kind of lookup through the
// public API, with cancels that win and lose, and a table of what each call returned.
int RunDemoCommand(int argc, char** argv);

// wsafault sim [--scenario NAME] [--strategy random|pct:D|dfs:B] [--seed S] [--runs N | --time SEC]
//              [--faults LIST] [--mutant NAME] [--audit]: the deterministic simulation.
int RunSimCommand(int argc, char** argv);
// wsafault replay FILE [--timeline out.svg]: replays a tape exactly.
int RunReplayCommand(int argc, char** argv);
int RunStressCommand(int argc, char** argv);  // wsafault stress [options]: stress/stress_driver.h
// wsafault campaign [--time SEC] [--mutant NAME | --zoo] [--report FILE]: core/cli/campaign.h
int RunCampaignCommand(int argc, char** argv);

#endif  // WSAFAULT_CLI_COMMANDS_H_
