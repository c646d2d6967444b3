// The simulated resolver: the Engine's backend in a simulated run. It is one logical thread
// that takes the table's submitted requests and answers them through the production completion
// path (DeliverAnswer), choosing from the tape which request goes next (reordering), when
// (virtual delays and 30-second timeouts), and what it answers: a synthesized hostent,
// the real netbase data for services and protocols, or a lookup error.
#ifndef WSAFAULT_SIM_SIM_RESOLVER_H_
#define WSAFAULT_SIM_SIM_RESOLVER_H_

#include <cstdint>
#include <vector>

#include "api/engine.h"
#include "resolver/netbase.h"
#include "sim/world.h"
#include "table/completion.h"

namespace wsaf::sim {

class SimResolver : public Backend {
 public:
  explicit SimResolver(World* world);

  void Start() override {}
  // From the final WSACleanup: waits until no delivery is under way. Requests it still holds
  // were all canceled by the cleanup and are reclaimed as it reaches them.
  void Stop() override;

  // The resolver thread's body: runs until Shutdown() and nothing is left to do.
  void Body();
  void Shutdown();
  // No request held, none submitted, no delivery under way.
  bool Idle() const;
  const std::vector<uint64_t>& held() const { return held_; }

 private:
  void TakeSubmitted();
  void AnswerOne(uint64_t handle);
  void AnswerHost(const Request& r, uint64_t handle);
  void Deliver(uint64_t handle, const Request& r, const LookupAnswer& answer);
  int ChooseError();

  World* world_;
  std::vector<uint64_t> held_;  // submitted handles not answered yet
  std::vector<uint32_t> batch_;
  bool delivering_ = false;  // inside DeliverAnswer
  bool answering_ = false;   // a request taken off held_ and not yet delivered (delays included)
  bool shutdown_ = false;
  char work_key_ = 0;
  bool wake_pending_ = false;
  bool taking_ = false;  // inside TakeSubmitted (every atomic is a point: it can be preempted)  // a wake since the resolver last announced it sleeps
  char idle_key_ = 0;
};

}  // namespace wsaf::sim

#endif  // WSAFAULT_SIM_SIM_RESOLVER_H_
