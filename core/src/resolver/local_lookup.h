// Lookups that need no DNS: services and protocols from the netbase databases, and host
// names that no DNS name can match (longer than 255 characters).
#ifndef WSAFAULT_RESOLVER_LOCAL_LOOKUP_H_
#define WSAFAULT_RESOLVER_LOCAL_LOOKUP_H_

#include <functional>

#include "resolver/netbase.h"
#include "table/completion.h"
#include "table/task_table.h"

namespace wsaf {

constexpr std::size_t kMaxHostNameLength = 255;

// Answers `r` through `deliver` and returns true, or returns false when it needs DNS.
// `db` null means the netbase files could not be read (WSANO_RECOVERY).
bool AnswerLocally(const Request& r, const NetbaseDb* db,
                   const std::function<void(const LookupAnswer&)>& deliver);

}  // namespace wsaf

#endif  // WSAFAULT_RESOLVER_LOCAL_LOOKUP_H_
