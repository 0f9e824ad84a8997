// Active health checks: every endpoint of a pool with `health:` gets a GET of
// the configured path every interval on its own connection. 2xx and 3xx pass;
// anything else, a refused connection or a timeout fails. An endpoint goes
// down after `unhealthy_threshold` failures in a row and comes back after
// `healthy_threshold` passes. Runs on the proxy's control thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>

#include "proxy/proxy_state.h"

namespace ferry::proxy {

class HealthChecker {
 public:
  HealthChecker(boost::asio::io_context& io, ProxyState& state) : io_(io), state_(state) {}
  // Starts checking the current snapshot's endpoints; after a reload, call it
  // again: the previous round of checks stops at its next tick.
  void start();

 private:
  struct Probe;
  void schedule(std::shared_ptr<Probe> probe, int64_t delay_ms);
  void run(std::shared_ptr<Probe> probe);
  void finish(const std::shared_ptr<Probe>& probe, bool passed, const std::string& detail);

  boost::asio::io_context& io_;
  ProxyState& state_;
  uint64_t round_ = 0;
};

}  // namespace ferry::proxy
