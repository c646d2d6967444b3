// What a tape file records about the code that wrote it, so a replay never silently steers
// somewhere else: the file format's version, the scenario's version and the commit.
//
// A tape is a list of answers to the questions a scenario asks (which operation, which thread,
// which fault). Change the order or the meaning of those questions and an old tape still
// replays, but answers different questions: it explores elsewhere and "does not reproduce".
// So each scenario carries a version (kScenarioVersions in tape.cc, the one place), bumped by
// whoever changes how that scenario reads its tape, and a replay of a tape recorded under
// another version is refused with both numbers. Raw tapes (libFuzzer inputs, no header) carry
// nothing and are read as they are: they are seeds for mutation, not reproductions.
//
// Thread safety: pure functions of constant tables.
#ifndef WSAFAULT_SIM_TAPE_VERSION_H_
#define WSAFAULT_SIM_TAPE_VERSION_H_

#include <string>

namespace wsaf::sim {

// The text format: 1 had no scenario version (refused), 2 adds "scenario-version" and "commit".
constexpr int kTapeFormatVersion = 2;

// The version of `scenario` in this build (1 for a scenario never changed since versioning).
int ScenarioVersion(const std::string& scenario);

// The commit this build was configured from ("unknown" outside a git checkout).
const char* BuildCommit();

// True when this build interprets a tape of `scenario` recorded under `recorded_version` as it
// was recorded; otherwise false with the reason, e.g. "recorded with scenario v3 (commit
// 1a2b3c4); this build runs v4: re-record the tape".
bool TapeVersionCurrent(const std::string& scenario, int recorded_version, const std::string& commit,
                        std::string* why);

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_TAPE_VERSION_H_
