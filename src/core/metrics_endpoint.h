// A Prometheus scrape endpoint: GET /metrics on a TCP address answers with
// what `render` returns (text exposition format). It also answers probes, as
// a kubelet or a load balancer sends them, without any token: GET /healthz
// (200 while the process serves) and GET /readyz (what `ready` says: 200
// when ready, 503 when not, with a JSON body saying why). Anything else gets
// 404.
// One request per connection, served on its own thread. Written on plain
// sockets rather than Boost.Beast: one request shape, and it keeps Beast's
// compile cost out of the data pillar.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace ferry {

// A value for a label in the text exposition format: backslash, double quote
// and newline escaped, so a table or route named with them cannot break the
// page.
std::string prometheus_label(std::string_view value);

class MetricsEndpoint {
 public:
  // Whether the process is ready for work, and a JSON body saying so.
  struct Readiness {
    bool ready = true;
    std::string json;
  };
  // `address` is "host:port" or ":port" (127.0.0.1); port 0 picks a free one.
  static Result<std::unique_ptr<MetricsEndpoint>> start(const std::string& address,
                                                        std::function<std::string()> render,
                                                        std::function<Readiness()> ready = {});
  ~MetricsEndpoint();
  // "127.0.0.1:9187", with the port actually bound.
  const std::string& address() const { return bound_; }

 private:
  MetricsEndpoint() = default;
  void serve();

 public:
  struct State;  // what the serving thread reads

 private:
  std::unique_ptr<State> state_;
  std::string bound_;
};

}  // namespace ferry
