#include "resolver/local_lookup.h"

#include <arpa/inet.h>

#include <cstring>

namespace wsaf {

namespace {

void AnswerService(const ServiceEntry* e, const std::function<void(const LookupAnswer&)>& deliver) {
  LookupAnswer a;
  if (e == nullptr) {
    a.error = WSANO_DATA;
    deliver(a);
    return;
  }
  ServentView view(*e);
  a.serv = &view.get();
  deliver(a);
}

void AnswerProtocol(const ProtocolEntry* e, const std::function<void(const LookupAnswer&)>& deliver) {
  LookupAnswer a;
  if (e == nullptr) {
    a.error = WSANO_DATA;
    deliver(a);
    return;
  }
  ProtoentView view(*e);
  a.proto = &view.get();
  deliver(a);
}

}  // namespace

bool AnswerLocally(const Request& r, const NetbaseDb* db,
                   const std::function<void(const LookupAnswer&)>& deliver) {
  switch (r.kind) {
    case RequestKind::kHostByName:
      if (std::strlen(r.name) <= kMaxHostNameLength) return false;
      deliver(LookupAnswer{WSAHOST_NOT_FOUND});
      return true;
    case RequestKind::kHostByAddr:
      return false;
    default:
      break;
  }
  if (db == nullptr) {
    deliver(LookupAnswer{WSANO_RECOVERY});
    return true;
  }
  switch (r.kind) {
    case RequestKind::kServByName:
      AnswerService(db->FindServiceByName(r.name, r.proto), deliver);
      break;
    case RequestKind::kServByPort: {
      // Winsock passes the port in network byte order, in the low 16 bits.
      bool valid = r.number >= 0 && r.number <= 0xffff;
      int port = ntohs(static_cast<uint16_t>(r.number));
      AnswerService(valid ? db->FindServiceByPort(port, r.proto) : nullptr, deliver);
      break;
    }
    case RequestKind::kProtoByName:
      AnswerProtocol(db->FindProtocolByName(r.name), deliver);
      break;
    case RequestKind::kProtoByNumber:
      AnswerProtocol(db->FindProtocolByNumber(r.number), deliver);
      break;
    default:
      return false;
  }
  return true;
}

}  // namespace wsaf
