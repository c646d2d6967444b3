// netbase_fuzzer: the services(5) and protocols(5) parser on arbitrary bytes.
//
// Input: byte 0 and 1 choose the packing buffer (size and misalignment), the rest is file
// text. When the text contains the line "==protocols==", what precedes it is the services file
// and what follows the protocols file; otherwise both parsers read the whole text.
//
// Checks, per parsed entry (the first and last kMaxChecked of each database):
//   * the entry is well formed: non-empty fields without separators, '#', '\n' or NUL, a port
//     in 0..65535 / a number in 0..255, a protocol without '/';
//   * every lookup finds an entry that matches, and the first match in file order;
//   * PackServent / PackProtoent of its view meet the packing contract (fuzz_common.h).
// Plus lookups of names taken from the input that may match nothing.
#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_common.h"
#include "resolver/netbase.h"
#include "resolver/pack.h"

namespace {

constexpr const char* kTarget = "netbase_fuzzer";
constexpr std::size_t kMaxChecked = 32;
constexpr std::string_view kSplit = "\n==protocols==\n";

using wsaf::fuzz::Fail;

void CheckField(std::string_view what, std::string_view s) {
  if (s.empty()) Fail(kTarget, "netbase-field", std::string(what) + " is empty");
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n' || c == '#' ||
        c == '\0') {
      Fail(kTarget, "netbase-field", std::string(what) + " contains a separator, '#' or NUL");
    }
  }
}

template <typename Entry>
std::size_t IndexOf(const std::vector<Entry>& all, const Entry* e) {
  return static_cast<std::size_t>(e - all.data());
}

// True for the first and the last kMaxChecked entries (bounded work on huge files).
bool Checked(std::size_t i, std::size_t n) { return i < kMaxChecked || i + kMaxChecked >= n; }

void CheckServices(const wsaf::NetbaseDb& db, std::size_t buflen, std::size_t misalign) {
  const auto& all = db.services();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!Checked(i, all.size())) continue;
    const wsaf::ServiceEntry& e = all[i];
    CheckField("service name", e.name);
    CheckField("service protocol", e.proto);
    for (const std::string& a : e.aliases) CheckField("service alias", a);
    if (e.proto.find('/') != std::string::npos) Fail(kTarget, "netbase-field", "proto has '/'");
    if (e.port < 0 || e.port > 65535) Fail(kTarget, "netbase-port", std::to_string(e.port));

    auto expect_first = [&](const wsaf::ServiceEntry* found, const char* how) {
      if (found == nullptr || IndexOf(all, found) > i) {
        Fail(kTarget, "netbase-lookup-first", std::string(how) + " missed entry " +
                                                  std::to_string(i) + " or an earlier match");
      }
    };
    const wsaf::ServiceEntry* by_name = db.FindServiceByName(e.name.c_str(), e.proto.c_str());
    expect_first(by_name, "FindServiceByName(name, proto)");
    if (by_name->proto != e.proto) Fail(kTarget, "netbase-lookup-proto", "wrong protocol");
    expect_first(db.FindServiceByName(e.name.c_str(), nullptr), "FindServiceByName(name, NULL)");
    for (const std::string& a : e.aliases) {
      expect_first(db.FindServiceByName(a.c_str(), e.proto.c_str()), "FindServiceByName(alias)");
    }
    const wsaf::ServiceEntry* by_port = db.FindServiceByPort(e.port, e.proto.c_str());
    expect_first(by_port, "FindServiceByPort(port, proto)");
    if (by_port->port != e.port) Fail(kTarget, "netbase-lookup-port", "wrong port");
    expect_first(db.FindServiceByPort(e.port, ""), "FindServiceByPort(port, \"\")");

    wsaf::ServentView view(e);
    const servent& src = view.get();
    auto same = [&](const char* buf) {
      servent p;
      std::memcpy(&p, buf, sizeof p);
      return std::strcmp(p.s_name, src.s_name) == 0 && std::strcmp(p.s_proto, src.s_proto) == 0 &&
             p.s_port == src.s_port && ntohs(static_cast<uint16_t>(p.s_port)) == e.port &&
             wsaf::fuzz::SameList(p.s_aliases, src.s_aliases, e.aliases.size());
    };
    std::size_t need = wsaf::fuzz::CheckPacking(kTarget, src, wsaf::PackServent,
                                                wsaf::ValidatePackedServent, same, buflen, misalign);
    if (need == 0) Fail(kTarget, "pack-servent", "a parsed service cannot be packed");
  }
}

void CheckProtocols(const wsaf::NetbaseDb& db, std::size_t buflen, std::size_t misalign) {
  const auto& all = db.protocols();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (!Checked(i, all.size())) continue;
    const wsaf::ProtocolEntry& e = all[i];
    CheckField("protocol name", e.name);
    for (const std::string& a : e.aliases) CheckField("protocol alias", a);
    if (e.number < 0 || e.number > 255) Fail(kTarget, "netbase-number", std::to_string(e.number));
    auto expect_first = [&](const wsaf::ProtocolEntry* found, const char* how) {
      if (found == nullptr || IndexOf(all, found) > i) {
        Fail(kTarget, "netbase-lookup-first", std::string(how) + " missed entry " +
                                                  std::to_string(i) + " or an earlier match");
      }
    };
    expect_first(db.FindProtocolByName(e.name.c_str()), "FindProtocolByName(name)");
    for (const std::string& a : e.aliases) {
      expect_first(db.FindProtocolByName(a.c_str()), "FindProtocolByName(alias)");
    }
    const wsaf::ProtocolEntry* by_number = db.FindProtocolByNumber(e.number);
    expect_first(by_number, "FindProtocolByNumber");
    if (by_number->number != e.number) Fail(kTarget, "netbase-lookup-number", "wrong number");

    wsaf::ProtoentView view(e);
    const protoent& src = view.get();
    auto same = [&](const char* buf) {
      protoent p;
      std::memcpy(&p, buf, sizeof p);
      return std::strcmp(p.p_name, src.p_name) == 0 && p.p_proto == e.number &&
             wsaf::fuzz::SameList(p.p_aliases, src.p_aliases, e.aliases.size());
    };
    std::size_t need = wsaf::fuzz::CheckPacking(kTarget, src, wsaf::PackProtoent,
                                                wsaf::ValidatePackedProtoent, same, buflen,
                                                misalign);
    if (need == 0) Fail(kTarget, "pack-protoent", "a parsed protocol cannot be packed");
  }
}

// Lookups of arbitrary strings: must not crash, and a hit must really match.
void ProbeLookups(const wsaf::NetbaseDb& db, const std::string& text) {
  std::string probe = text.substr(0, std::min<std::size_t>(text.size(), 24));
  std::string proto = text.size() > 24 ? text.substr(24, 8) : std::string();
  probe = probe.substr(0, probe.find('\0'));
  proto = proto.substr(0, proto.find('\0'));
  if (const wsaf::ServiceEntry* s = db.FindServiceByName(probe.c_str(), proto.c_str())) {
    bool named = s->name == probe;
    for (const std::string& a : s->aliases) named = named || a == probe;
    if (!named || (!proto.empty() && s->proto != proto)) {
      Fail(kTarget, "netbase-lookup-match", "FindServiceByName returned a non-matching entry");
    }
  }
  if (const wsaf::ProtocolEntry* p = db.FindProtocolByName(probe.c_str())) {
    bool named = p->name == probe;
    for (const std::string& a : p->aliases) named = named || a == probe;
    if (!named) Fail(kTarget, "netbase-lookup-match", "FindProtocolByName returned a non-match");
  }
  for (int port : {-1, 0, 65535, 65536}) {
    const wsaf::ServiceEntry* s = db.FindServiceByPort(port, nullptr);
    if (s != nullptr && s->port != port) Fail(kTarget, "netbase-lookup-port", "wrong port");
  }
  for (int number : {-1, 0, 255, 256}) {
    const wsaf::ProtocolEntry* p = db.FindProtocolByNumber(number);
    if (p != nullptr && p->number != number) Fail(kTarget, "netbase-lookup-number", "wrong");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  wsaf::fuzz::Reader in(data, size);
  const uint8_t size_choice = in.Byte();
  const std::size_t misalign = in.Byte() % 8;
  // 0..191 bytes: small buffers are where the size check matters.
  const std::size_t buflen = static_cast<std::size_t>(size_choice) * 3 / 4;
  const std::string text = in.Rest();

  std::string_view services = text, protocols = text;
  const std::size_t split = text.find(kSplit);
  if (split != std::string::npos) {
    services = std::string_view(text).substr(0, split);
    protocols = std::string_view(text).substr(split + kSplit.size());
  }
  wsaf::NetbaseDb db;
  const int bad_services = db.ParseServices(services);
  const int bad_protocols = db.ParseProtocols(protocols);
  if (bad_services < 0 || bad_protocols < 0) Fail(kTarget, "netbase-count", "negative count");
  CheckServices(db, buflen, misalign);
  CheckProtocols(db, buflen, misalign);
  ProbeLookups(db, text);
  return 0;
}
