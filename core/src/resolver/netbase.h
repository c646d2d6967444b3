// The netbase databases (/etc/services, /etc/protocols): a small reentrant parser and lookups.
//
// Format (services(5), protocols(5)): one entry a line, `name port/proto aliases...` or
// `name number aliases...`; `#` starts a comment; blank lines are skipped. Malformed lines
// (missing fields, non-numeric or out-of-range numbers, ports above 65535, over-long lines) are
// skipped and counted, never fatal. Lookups match names and aliases exactly (case-sensitive,
// as glibc does), and return the first match in file order.
//
// Thread safety: a NetbaseDb is immutable after Parse*; concurrent lookups are safe.
#ifndef WSAFAULT_RESOLVER_NETBASE_H_
#define WSAFAULT_RESOLVER_NETBASE_H_

#include <netdb.h>

#include <string>
#include <string_view>
#include <vector>

namespace wsaf {

struct ServiceEntry {
  std::string name;
  std::vector<std::string> aliases;
  int port = 0;  // host byte order, 0..65535
  std::string proto;
};

struct ProtocolEntry {
  std::string name;
  std::vector<std::string> aliases;
  int number = 0;  // 0..255
};

// A view of one entry as the libc struct. The alias array belongs to the view; the strings
// point into the entry, which must outlive the view. Copy out with PackServent / PackProtoent.
class ServentView {
 public:
  explicit ServentView(const ServiceEntry& e);
  ServentView(const ServentView&) = delete;
  ServentView& operator=(const ServentView&) = delete;
  const servent& get() const { return ent_; }

 private:
  std::vector<char*> aliases_;
  servent ent_{};
};

class ProtoentView {
 public:
  explicit ProtoentView(const ProtocolEntry& e);
  ProtoentView(const ProtoentView&) = delete;
  ProtoentView& operator=(const ProtoentView&) = delete;
  const protoent& get() const { return ent_; }

 private:
  std::vector<char*> aliases_;
  protoent ent_{};
};

class NetbaseDb {
 public:
  // Replace the contents with the parsed text. Returns the number of malformed lines skipped.
  int ParseServices(std::string_view text);
  int ParseProtocols(std::string_view text);

  // proto NULL (or "") matches any protocol. port is in host byte order.
  const ServiceEntry* FindServiceByName(const char* name, const char* proto) const;
  const ServiceEntry* FindServiceByPort(int port, const char* proto) const;
  const ProtocolEntry* FindProtocolByName(const char* name) const;
  const ProtocolEntry* FindProtocolByNumber(int number) const;

  const std::vector<ServiceEntry>& services() const { return services_; }
  const std::vector<ProtocolEntry>& protocols() const { return protocols_; }

 private:
  std::vector<ServiceEntry> services_;
  std::vector<ProtocolEntry> protocols_;
};

// Reads a whole file (at most 16 MiB). Returns false with a reason when it cannot.
bool ReadSmallFile(const std::string& path, std::string* out, std::string* error);

}  // namespace wsaf

#endif  // WSAFAULT_RESOLVER_NETBASE_H_
