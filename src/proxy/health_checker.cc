#include "proxy/health_checker.h"

#include <fmt/format.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "core/log.h"

namespace ferry::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

struct HealthChecker::Probe {
  Probe(asio::io_context& io, std::shared_ptr<EndpointState> e, HealthCheckConfig c, uint64_t r)
      : endpoint(std::move(e)), config(std::move(c)), round(r), socket(io), timer(io) {}
  std::shared_ptr<EndpointState> endpoint;
  HealthCheckConfig config;
  uint64_t round;
  tcp::socket socket;
  asio::steady_timer timer;
  std::string request;
  std::string response;
  bool done = false;
};

void HealthChecker::start() {
  ++round_;
  const auto snapshot = state_.snapshot();
  for (size_t p = 0; p < snapshot->config.pools.size(); ++p) {
    const PoolConfig& pool = snapshot->config.pools[p];
    for (const auto& endpoint : snapshot->endpoints[p]) {
      if (!pool.health) {
        // No longer checked: only passive ejection judges it now.
        endpoint->healthy.store(true);
        continue;
      }
      auto probe = std::make_shared<Probe>(io_, endpoint, *pool.health, round_);
      // Host is the endpoint's address; Connection: close keeps the check simple.
      probe->request = fmt::format(
          "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ferry-health-check\r\n"
          "Connection: close\r\n\r\n",
          probe->config.path, endpoint->address);
      run(probe);
    }
  }
}

void HealthChecker::schedule(std::shared_ptr<Probe> probe, int64_t delay_ms) {
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(delay_ms));
  timer->async_wait([this, timer, probe](const error_code& ec) {
    if (ec || probe->round != round_) return;
    auto next = std::make_shared<Probe>(io_, probe->endpoint, probe->config, probe->round);
    next->request = probe->request;
    run(next);
  });
}

void HealthChecker::run(std::shared_ptr<Probe> probe) {
  tcp::endpoint address;
  std::memcpy(address.data(), &probe->endpoint->sockaddr, probe->endpoint->sockaddr_len);
  address.resize(probe->endpoint->sockaddr_len);
  probe->timer.expires_after(std::chrono::milliseconds(probe->config.timeout_ms));
  probe->timer.async_wait([this, probe](const error_code& ec) {
    if (ec || probe->done) return;
    finish(probe, false, "timed out");
  });
  probe->socket.async_connect(address, [this, probe](const error_code& ec) {
    if (probe->done) return;
    if (ec) {
      finish(probe, false, "connect: " + ec.message());
      return;
    }
    asio::async_write(
        probe->socket, asio::buffer(probe->request), [this, probe](const error_code& wec, size_t) {
          if (probe->done) return;
          if (wec) {
            finish(probe, false, "send: " + wec.message());
            return;
          }
          probe->response.resize(512);
          probe->socket.async_read_some(
              asio::buffer(probe->response), [this, probe](const error_code& rec, size_t n) {
                if (probe->done) return;
                // The status line is all a check needs.
                const std::string_view r(probe->response.data(), rec ? 0 : n);
                int status = 0;
                if (r.size() >= 12 && r.substr(0, 7) == "HTTP/1.") {
                  status = std::atoi(std::string(r.substr(9, 3)).c_str());
                }
                const bool pass = status >= 200 && status < 400;
                finish(probe, pass,
                       rec ? "read: " + rec.message() : fmt::format("status {}", status));
              });
        });
  });
}

void HealthChecker::finish(const std::shared_ptr<Probe>& probe, bool passed,
                           const std::string& detail) {
  probe->done = true;
  error_code ignored;
  probe->timer.cancel();
  probe->socket.close(ignored);
  if (probe->round != round_) return;
  EndpointState& e = *probe->endpoint;
  if (passed) {
    e.check_failures.store(0);
    const int passes = e.check_passes.fetch_add(1) + 1;
    if (!e.healthy.load() && passes >= probe->config.healthy_threshold) {
      e.healthy.store(true);
      log_info(fmt::format("proxy: event=endpoint_up pool={} endpoint={} passes={}", e.pool,
                           e.address, passes));
    }
  } else {
    e.check_passes.store(0);
    const int failures = e.check_failures.fetch_add(1) + 1;
    if (e.healthy.load() && failures >= probe->config.unhealthy_threshold) {
      e.healthy.store(false);
      log_warn(
          fmt::format("proxy: event=endpoint_down pool={} endpoint={} failures={} "
                      "detail={}",
                      e.pool, e.address, failures, log_value(detail)));
    }
  }
  schedule(probe, probe->config.interval_ms);
}

}  // namespace ferry::proxy
