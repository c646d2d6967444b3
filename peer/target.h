// The target a peer driver talks to, and which controls beyond Winsock it has.
//
// Everything the drivers exercise is plain Winsock (WSAStartup ... WSACancelAsyncRequest,
// PostMessage/PeekMessage/GetMessage). What only wsafault offers sits here, behind Controls():
// a case that needs a control the target lacks is reported "skipped: <target> has no <control>",
// never faked. Two targets exist, one linked into each build:
//   wsafault (target_wsafault.cc): this library, an in-process DNS server on an ephemeral port,
//     the netbase files of corpus/, planted bugs by name;
//   winsock (target_winsock.cc): the system's ws2_32 (Wine's, or Microsoft's), real message-only
//     windows, DNS and netbase as the environment provides them (scripts/probe-peer: a network
//     namespace whose resolver names our server on 127.0.0.1:53).
//
// Thread safety: NewWindow from any thread (the window belongs to that thread on Windows, so a
// window is pumped by the thread that made it); the setters from the main thread between cases.
// Lifetime: TheTarget() lives for the process; Setup() before the first Winsock call.
#ifndef WSAFAULT_PEER_TARGET_H_
#define WSAFAULT_PEER_TARGET_H_

#include <string>

#include "platform.h"

namespace wsaf_peer {

enum Control : unsigned {
  kDnsServers = 1u << 0,   // point the resolver at a server of our choosing
  kDnsTimeout = 1u << 1,   // bound a lookup's wait
  kNetbaseFiles = 1u << 2,  // choose the services/protocols files
  kNetworkDown = 1u << 3,  // wsaf_set_network_down
  kMaxRequests = 1u << 4,  // wsaf_set_max_requests
  kPlantedBugs = 1u << 5,  // a planted bug selected by name
};
const char* ControlName(Control c);

class Target {
 public:
  virtual ~Target() = default;
  virtual const char* Name() const = 0;
  virtual unsigned Controls() const = 0;
  bool Has(Control c) const { return (Controls() & c) != 0; }

  // Prepares DNS and netbase (and the planted bug, empty for none). False with a reason.
  virtual bool Setup(const std::string& source_dir, const std::string& planted_bug,
                     std::string* error) = 0;
  // A message-only window with its own queue, owned by the calling thread.
  virtual HWND NewWindow() = 0;
  // Controls: false when the target has no such control (the caller skips).
  virtual bool SetNetworkDown(bool) { return false; }
  virtual bool SetMaxRequests(unsigned) { return false; }  // 0: the default; between sessions
};

Target& TheTarget();

}  // namespace wsaf_peer

#endif  // WSAFAULT_PEER_TARGET_H_
