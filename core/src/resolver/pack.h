// Packing lookup results into the caller's buffer, Winsock style.
//
// The buffer receives the struct (hostent / servent / protoent) at its start, followed by
// everything its pointers point to: pointer arrays (aligned for pointers), then addresses,
// then strings. Every pointer written points inside [buf, buf + size). When the buffer is too
// small the buffer is not touched at all and the size needed is returned.
//
// Thread safety: pure functions of their arguments; no allocation, no global state.
#ifndef WSAFAULT_RESOLVER_PACK_H_
#define WSAFAULT_RESOLVER_PACK_H_

#include <netdb.h>

#include <cstddef>

namespace wsaf {

struct PackResult {
  bool fits;         // true: written, `size` bytes used; false: buffer untouched
  std::size_t size;  // bytes used, or bytes needed when !fits; {false, 0}: the input cannot be
                     // packed at all (bad family/length, overflow): no buffer size helps
};

// h_addr_list entries are h_length bytes each; h_aliases and h_addr_list are NULL-terminated
// (either may be NULL, meaning empty). buf may be NULL when buflen is 0.
PackResult PackHostent(const hostent& src, char* buf, std::size_t buflen);
PackResult PackServent(const servent& src, char* buf, std::size_t buflen);
PackResult PackProtoent(const protoent& src, char* buf, std::size_t buflen);

// Checks a packed result: the struct lies in the buffer, every pointer (names, alias and
// address arrays and their entries) points inside [buf, buf + len), every string ends inside
// it, pointer arrays are aligned. Returns false with a reason in *why (if not NULL).
bool ValidatePackedHostent(const char* buf, std::size_t len, const char** why);
bool ValidatePackedServent(const char* buf, std::size_t len, const char** why);
bool ValidatePackedProtoent(const char* buf, std::size_t len, const char** why);

}  // namespace wsaf

#endif  // WSAFAULT_RESOLVER_PACK_H_
