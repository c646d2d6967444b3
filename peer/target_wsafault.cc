// The wsafault target: this library, with an in-process DNS server serving corpus/zones/
// test.zone on an ephemeral 127.0.0.1 port and the netbase files of corpus/netbase, so the
// same cases that judge a peer judge us (and a planted bug proves each case can fail).
#include <memory>
#include <string>

#include "dnsserver/dns_server.h"
#include "table/mutants.h"
#include "target.h"

namespace wsaf_peer {
namespace {

class WsafaultTarget : public Target {
 public:
  const char* Name() const override { return "wsafault"; }
  unsigned Controls() const override {
    return kDnsServers | kDnsTimeout | kNetbaseFiles | kNetworkDown | kMaxRequests | kPlantedBugs;
  }

  bool Setup(const std::string& source_dir, const std::string& planted_bug,
             std::string* error) override {
    wsaf::Mutant mutant = wsaf::Mutant::kNone;
    if (!planted_bug.empty() && !wsaf::ParseMutant(planted_bug.c_str(), &mutant)) {
      *error = "unknown planted bug '" + planted_bug + "'";
      return false;
    }
    if (!wsaf::SelectMutant(mutant)) {
      *error = "this build has no planted bugs (WSAFAULT_MUTANTS=OFF)";
      return false;
    }
    wsaf::dns::Zone zone;
    if (!wsaf::dns::LoadZoneFile(source_dir + "/corpus/zones/test.zone", &zone, error)) return false;
    server_ = std::make_unique<wsaf::dns::Server>(std::move(zone));
    if (!server_->Start(0, error)) return false;
    std::string services = source_dir + "/corpus/netbase/services";
    std::string protocols = source_dir + "/corpus/netbase/protocols";
    if (wsaf_set_dns_servers(server_->ServersCsv().c_str()) != 0 ||
        wsaf_set_dns_timeout(2000, 1) != 0 ||
        wsaf_set_netbase_files(services.c_str(), protocols.c_str()) != 0) {
      *error = "a wsaf_set_* control refused";
      return false;
    }
    return true;
  }

  HWND NewWindow() override { return wsaf_create_window(); }
  bool SetNetworkDown(bool down) override {
    wsaf_set_network_down(down ? 1 : 0);
    return true;
  }
  bool SetMaxRequests(unsigned n) override {
    return wsaf_set_max_requests(n == 0 ? WSAF_MAX_REQUESTS : n) == 0;
  }

 private:
  std::unique_ptr<wsaf::dns::Server> server_;
};

}  // namespace

Target& TheTarget() {
  static WsafaultTarget target;
  return target;
}

}  // namespace wsaf_peer
