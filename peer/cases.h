// The peer cases: one a rule, each run alone (a child process when `risky`, so a peer's crash
// comes back as "crashes on ..." instead of taking the driver down).
//
// Thread safety: a case runs on the main thread of its own process; it may start threads.
// Lifetime: the case list is static.
#ifndef WSAFAULT_PEER_CASES_H_
#define WSAFAULT_PEER_CASES_H_

#include <vector>

#include "case_util.h"

namespace wsaf_peer {

enum class RuleKind { kWinsock, kDecision };

struct Case {
  const char* name;
  const char* rule;     // the rule, in SPEC.md's words
  const char* section;  // SPEC.md section
  RuleKind kind;
  bool risky;           // may crash a peer: always in a child process
  const char* call;     // what it calls, for "crashes on ..."
  CaseResult (*run)();
};

const std::vector<Case>& AllCases();
const Case* FindCase(const char* name);

// Case parameters the command line may change.
struct CaseKnobs {
  int handle_requests = 70000;  // handles-unique: how many requests to start
};
CaseKnobs& Knobs();

// Registration by the case files.
void AddCancelCases(std::vector<Case>* out);
void AddRequestCases(std::vector<Case>* out);
void AddHandleCases(std::vector<Case>* out);

}  // namespace wsaf_peer

#endif  // WSAFAULT_PEER_CASES_H_
