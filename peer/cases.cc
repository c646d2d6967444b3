#include "cases.h"

#include <cstring>

namespace wsaf_peer {

const std::vector<Case>& AllCases() {
  static const std::vector<Case> cases = [] {
    std::vector<Case> v;
    AddCancelCases(&v);
    AddRequestCases(&v);
    AddHandleCases(&v);
    return v;
  }();
  return cases;
}

const Case* FindCase(const char* name) {
  for (const Case& c : AllCases()) {
    if (std::strcmp(c.name, name) == 0) return &c;
  }
  return nullptr;
}

CaseKnobs& Knobs() {
  static CaseKnobs knobs;
  return knobs;
}

}  // namespace wsaf_peer
