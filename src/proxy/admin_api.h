// The admin API, on its own address (loopback by default):
//   GET  /admin/state                 routes, live weights, pools, endpoint health (JSON)
//   PUT  /admin/routes/NAME/weights   body {"legacy":50,"modern":50}; one atomic step
//   POST /admin/routes/NAME/hold      body {"timeout":"5s"}: the route's requests wait
//   POST /admin/routes/NAME/release   they go on, routed afresh; answers the hold's numbers
//   POST /admin/reload                re-read the config file; an invalid one changes nothing
//   GET  /admin/rollouts              every rollout: state, step, weights, latest verdicts
//   GET  /admin/rollouts/NAME         one route's rollout, the same way
//   POST /admin/rollouts/NAME/ACTION  start, pause, resume, promote or abort a rollout
//   GET  /admin/diff                  the parallel run's findings per mirrored route
//   DELETE /admin/diff/ROUTE          start a route's findings over
//   GET  /metrics                     Prometheus text
// With a token configured every call needs "Authorization: Bearer TOKEN".
// One request per connection; runs on the proxy's control thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>

#include "core/error.h"
#include "proxy/hold_controller.h"
#include "proxy/proxy_config.h"
#include "proxy/proxy_state.h"
#include "proxy/rollout_controller.h"

namespace ferry::proxy {

class AdminApi {
 public:
  // Returns a summary of what the reload did, or why the config was refused.
  using ReloadFn = std::function<Result<std::string>()>;

  AdminApi(boost::asio::io_context& io, ProxyState& state, std::string token, ReloadFn reload,
           RolloutController* rollouts = nullptr, HoldController* holds = nullptr);
  Result<void> listen(const HostPort& address);
  uint16_t bound_port() const;
  void close();

  struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
  };
  using Respond = std::function<void(const Response&)>;
  // The routing of one request, separate from the socket handling. Most
  // calls are answered before it returns; POST /admin/routes/NAME/release
  // later, once every worker has let go of the route's held requests
  // (still on the control thread).
  void handle(std::string_view method, std::string_view path, std::string_view authorization,
              std::string_view body, const Respond& respond);

 private:
  void accept();
  // The calls answered at once.
  Response answer(std::string_view method, std::string_view path, std::string_view authorization,
                  std::string_view body);
  bool authorized(std::string_view authorization) const;

  boost::asio::ip::tcp::acceptor acceptor_;
  ProxyState& state_;
  std::string token_;
  ReloadFn reload_;
  RolloutController* rollouts_;
  HoldController* holds_;
};

}  // namespace ferry::proxy
