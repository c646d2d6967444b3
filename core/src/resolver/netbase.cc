// The netbase parser and lookups (see netbase.h for the contract).
//
// The parser is fed arbitrary bytes by the fuzzer, so it works on string_views with explicit
// bounds only (no C string functions, no sscanf/strtol, which stop at NUL and accept signs,
// spaces and overflow). What counts as malformed, i.e. skipped and counted:
//   * a line longer than kMaxLineLength bytes (the '\n' excluded; measured before comments are
//     stripped, since a reader with a fixed buffer would mis-split such a line);
//   * a line containing a NUL byte anywhere (a C reader would see a truncated line);
//   * services: fewer than two fields, a second field that is not `port/proto`, a port that is
//     empty, not all ASCII digits, or above 65535, an empty protocol or one containing '/';
//   * protocols: fewer than two fields, a number that is empty, not all digits, or above 255.
// Separators are space, tab, CR, VT and FF (CR makes CRLF files parse); every other byte,
// including high bytes, belongs to a field. Blank and comment-only lines are not malformed.
#include "resolver/netbase.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace wsaf {
namespace {

constexpr std::size_t kMaxLineLength = 4096;
constexpr std::size_t kMaxFileSize = std::size_t{16} << 20;

bool IsSeparator(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Splits a line (comment already stripped) into fields.
std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSeparator(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !IsSeparator(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

// Parses an unsigned decimal no greater than max; digits only (no sign, no spaces).
bool ParseNumber(std::string_view s, int max, int* out) {
  if (s.empty()) return false;
  long value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
    if (value > max) return false;  // stops before any overflow, however long s is
  }
  *out = static_cast<int>(value);
  return true;
}

std::vector<std::string> CopyAliases(const std::vector<std::string_view>& fields) {
  return std::vector<std::string>(fields.begin() + 2, fields.end());
}

bool ParseServiceFields(const std::vector<std::string_view>& fields, ServiceEntry* out) {
  if (fields.size() < 2) return false;
  const std::string_view port_proto = fields[1];
  const std::size_t slash = port_proto.find('/');
  if (slash == std::string_view::npos) return false;
  const std::string_view proto = port_proto.substr(slash + 1);
  if (proto.empty() || proto.find('/') != std::string_view::npos) return false;
  if (!ParseNumber(port_proto.substr(0, slash), 65535, &out->port)) return false;
  out->name = std::string(fields[0]);
  out->proto = std::string(proto);
  out->aliases = CopyAliases(fields);
  return true;
}

bool ParseProtocolFields(const std::vector<std::string_view>& fields, ProtocolEntry* out) {
  if (fields.size() < 2) return false;
  if (!ParseNumber(fields[1], 255, &out->number)) return false;
  out->name = std::string(fields[0]);
  out->aliases = CopyAliases(fields);
  return true;
}

// Calls parse_fields(fields) for every line with content; returns the malformed-line count
// (saturating: a count is a diagnostic, not worth an overflow).
template <typename ParseFields>
int ForEachLine(std::string_view text, ParseFields parse_fields) {
  int malformed = 0;
  auto count = [&malformed] {
    if (malformed < INT_MAX) ++malformed;
  };
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.size() > kMaxLineLength || line.find('\0') != std::string_view::npos) {
      count();
      continue;
    }
    line = line.substr(0, line.find('#'));
    const std::vector<std::string_view> fields = SplitFields(line);
    if (fields.empty()) continue;
    if (!parse_fields(fields)) count();
  }
  return malformed;
}

bool HasName(const std::string& name, const std::vector<std::string>& aliases,
             std::string_view wanted) {
  if (name == wanted) return true;
  for (const std::string& a : aliases) {
    if (a == wanted) return true;
  }
  return false;
}

bool ProtoMatches(const ServiceEntry& e, const char* proto) {
  return proto == nullptr || proto[0] == '\0' || e.proto == proto;
}

// The libc structs want char*; the view never writes through these pointers.
char* Mutable(const std::string& s) { return const_cast<char*>(s.c_str()); }

std::vector<char*> AliasArray(const std::vector<std::string>& aliases) {
  std::vector<char*> out;
  out.reserve(aliases.size() + 1);
  for (const std::string& a : aliases) out.push_back(Mutable(a));
  out.push_back(nullptr);
  return out;
}

std::string ErrnoText(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + std::system_category().message(err);
}

}  // namespace

// The views point at the entry's strings: the entry must outlive the view (the view owns only
// the alias pointer array).
ServentView::ServentView(const ServiceEntry& e) : aliases_(AliasArray(e.aliases)) {
  ent_.s_name = Mutable(e.name);
  ent_.s_aliases = aliases_.data();
  ent_.s_port = static_cast<int>(htons(static_cast<std::uint16_t>(e.port)));
  ent_.s_proto = Mutable(e.proto);
}

ProtoentView::ProtoentView(const ProtocolEntry& e) : aliases_(AliasArray(e.aliases)) {
  ent_.p_name = Mutable(e.name);
  ent_.p_aliases = aliases_.data();
  ent_.p_proto = e.number;
}

int NetbaseDb::ParseServices(std::string_view text) {
  services_.clear();
  return ForEachLine(text, [this](const std::vector<std::string_view>& fields) {
    ServiceEntry e;
    if (!ParseServiceFields(fields, &e)) return false;
    services_.push_back(std::move(e));
    return true;
  });
}

int NetbaseDb::ParseProtocols(std::string_view text) {
  protocols_.clear();
  return ForEachLine(text, [this](const std::vector<std::string_view>& fields) {
    ProtocolEntry e;
    if (!ParseProtocolFields(fields, &e)) return false;
    protocols_.push_back(std::move(e));
    return true;
  });
}

const ServiceEntry* NetbaseDb::FindServiceByName(const char* name, const char* proto) const {
  if (name == nullptr) return nullptr;
  for (const ServiceEntry& e : services_) {
    if (ProtoMatches(e, proto) && HasName(e.name, e.aliases, name)) return &e;
  }
  return nullptr;
}

const ServiceEntry* NetbaseDb::FindServiceByPort(int port, const char* proto) const {
  for (const ServiceEntry& e : services_) {
    if (e.port == port && ProtoMatches(e, proto)) return &e;
  }
  return nullptr;
}

const ProtocolEntry* NetbaseDb::FindProtocolByName(const char* name) const {
  if (name == nullptr) return nullptr;
  for (const ProtocolEntry& e : protocols_) {
    if (HasName(e.name, e.aliases, name)) return &e;
  }
  return nullptr;
}

const ProtocolEntry* NetbaseDb::FindProtocolByNumber(int number) const {
  for (const ProtocolEntry& e : protocols_) {
    if (e.number == number) return &e;
  }
  return nullptr;
}

// Reads through read(2) rather than trusting st_size: files under /proc report 0, and a file
// may grow while we read. One byte past the limit is enough to know it is too big.
bool ReadSmallFile(const std::string& path, std::string* out, std::string* error) {
  std::string scratch;
  std::string* err = error != nullptr ? error : &scratch;
  if (out == nullptr) {
    *err = "ReadSmallFile: no output string";
    return false;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = ErrnoText("open", path, errno);
    return false;
  }
  std::string data;
  char chunk[64 * 1024];
  bool ok = true;
  while (true) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = ErrnoText("read", path, errno);
      ok = false;
      break;
    }
    if (n == 0) break;
    if (data.size() + static_cast<std::size_t>(n) > kMaxFileSize) {
      *err = "read " + path + ": file is larger than 16 MiB";
      ok = false;
      break;
    }
    data.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (ok) *out = std::move(data);
  return ok;
}

}  // namespace wsaf
