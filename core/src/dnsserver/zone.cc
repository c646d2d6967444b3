// Zone text parsing and the fault-mode names of the embedded DNS server.
//
// The format is deliberately tiny (see corpus/zones/test.zone): one record a line, three
// whitespace-separated fields, '#' starts a comment. Errors stop at the first bad line so a
// typo in a test zone is reported where it is, instead of silently serving a smaller zone.
#include <arpa/inet.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "dnsserver/dns_server.h"

namespace wsaf::dns {
namespace {

constexpr size_t kMaxNameLength = 253;  // presentation form, without the trailing dot
constexpr size_t kMaxLabelLength = 63;

struct FaultEntry {
  Fault fault;
  const char* name;
};

constexpr FaultEntry kFaults[] = {
    {Fault::kNone, "none"},           {Fault::kDelay, "delay"},
    {Fault::kDrop, "drop"},           {Fault::kServfail, "servfail"},
    {Fault::kNxdomain, "nxdomain"},   {Fault::kRefused, "refused"},
    {Fault::kTruncate, "truncate"},   {Fault::kWrongId, "wrong-id"},
    {Fault::kMalformed, "malformed"},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

// Lower-cases and strips one trailing dot. The wire form cannot carry empty labels, and
// the limits are those of RFC 1035 so that every accepted name can be encoded.
bool NormalizeName(std::string_view text, std::string* out, std::string* reason) {
  std::string name = Lower(text);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name.empty()) {
    *reason = "empty name";
    return false;
  }
  if (name.size() > kMaxNameLength) {
    *reason = "name longer than 253 characters";
    return false;
  }
  size_t label_start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i < name.size() && name[i] != '.') {
      unsigned char c = static_cast<unsigned char>(name[i]);
      // No escapes in this format, so a backslash or control byte can only be a typo.
      if (c < 0x21 || c > 0x7e || c == '\\') {
        *reason = "bad character in name '" + std::string(text) + "'";
        return false;
      }
      continue;
    }
    size_t label_length = i - label_start;
    if (label_length == 0) {
      *reason = "empty label in name '" + std::string(text) + "'";
      return false;
    }
    if (label_length > kMaxLabelLength) {
      *reason = "label longer than 63 characters in '" + std::string(text) + "'";
      return false;
    }
    label_start = i + 1;
  }
  *out = std::move(name);
  return true;
}

bool ParseType(std::string_view text, uint16_t* type) {
  std::string upper = Lower(text);
  if (upper == "a")
    *type = 1;
  else if (upper == "aaaa")
    *type = 28;
  else if (upper == "cname")
    *type = 5;
  else if (upper == "ptr")
    *type = 12;
  else
    return false;
  return true;
}

bool ValidateRdata(uint16_t type, std::string_view text, std::string* reason) {
  std::string value(text);
  unsigned char buf[16];
  if (type == 1) {
    if (inet_pton(AF_INET, value.c_str(), buf) != 1) {
      *reason = "bad IPv4 address '" + value + "'";
      return false;
    }
    return true;
  }
  if (type == 28) {
    if (inet_pton(AF_INET6, value.c_str(), buf) != 1) {
      *reason = "bad IPv6 address '" + value + "'";
      return false;
    }
    return true;
  }
  std::string ignored;
  return NormalizeName(text, &ignored, reason);
}

bool ParseLine(std::string_view line, Record* record, bool* empty, std::string* reason) {
  size_t hash = line.find('#');
  if (hash != std::string_view::npos) line = line.substr(0, hash);
  std::vector<std::string_view> fields = SplitFields(line);
  *empty = fields.empty();
  if (*empty) return true;
  if (fields.size() != 3) {
    *reason = "expected 3 fields (NAME TYPE VALUE), got " + std::to_string(fields.size());
    return false;
  }
  if (!NormalizeName(fields[0], &record->name, reason)) return false;
  if (!ParseType(fields[1], &record->type)) {
    *reason = "unknown type '" + std::string(fields[1]) + "' (A, AAAA, CNAME, PTR)";
    return false;
  }
  if (!ValidateRdata(record->type, fields[2], reason)) return false;
  record->rdata_text = std::string(fields[2]);
  return true;
}

}  // namespace

const char* FaultName(Fault f) {
  for (const FaultEntry& entry : kFaults) {
    if (entry.fault == f) return entry.name;
  }
  return "unknown";
}

bool ParseFault(std::string_view name, Fault* out) {
  std::string lower = Lower(name);
  // Spellings people type on a command line; the canonical one is FaultName's.
  if (lower == "wrongid" || lower == "wrong_id") lower = "wrong-id";
  for (const FaultEntry& entry : kFaults) {
    if (lower == entry.name) {
      *out = entry.fault;
      return true;
    }
  }
  return false;
}

bool ParseZone(std::string_view text, Zone* zone, std::string* error) {
  Zone parsed;
  size_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    Record record;
    bool empty = false;
    std::string reason;
    if (!ParseLine(line, &record, &empty, &reason)) {
      if (error) *error = "line " + std::to_string(line_number) + ": " + reason;
      return false;
    }
    if (!empty) parsed.records.push_back(std::move(record));
  }
  *zone = std::move(parsed);
  return true;
}

bool LoadZoneFile(const std::string& path, Zone* zone, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) *error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) {
    if (error) *error = path + ": read error";
    return false;
  }
  std::string parse_error;
  if (!ParseZone(contents.str(), zone, &parse_error)) {
    if (error) *error = path + ": " + parse_error;
    return false;
  }
  return true;
}

}  // namespace wsaf::dns
