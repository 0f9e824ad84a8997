// A run's live dashboard (docs/run.md, "Live dashboard"), served over HTTP
// from threads of its own while the caller does its work (`ferry run ui`
// waits for a signal; `ferry run PLAN --ui ADDR` runs the engine):
//
//   GET  /                 one self-contained page (dashboard.html, built in)
//   GET  /events           server-sent events: a `snapshot` event at once,
//                          then another whenever the snapshot changes
//   GET  /api/status       the snapshot once (dashboard_snapshot.h's JSON)
//   POST /api/approve|pause|resume|abort
//                          queues the command in the run's journal for the
//                          engine, with who gave it (body {"who": NAME},
//                          optional; "dashboard" without one)
//
// Access (dashboard_access.h): beyond loopback a token is required; with a
// token every request for data or an action carries it; a POST needs the
// header X-Ferry: 1.
//
// One thread serves HTTP (Boost.Asio); another reads the journal, the
// databases' follow status files and the proxy's admin API every poll_ms,
// so a proxy that does not answer never holds up the page. The dashboard
// reads the journal through a connection of its own and writes only
// queued commands: the engine applies them and journals what came of them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "run/plan.h"

namespace ferry::run {

struct DashboardOptions {
  std::string listen = "127.0.0.1:8088";  // HOST:PORT; port 0 picks a free one
  std::string token;                      // required beyond loopback; "" none
  std::string env_admin_token;            // FERRY_ADMIN_TOKEN as the command read it, for the proxy
  int64_t poll_ms = 1000;  // how often the journal, files and proxy are read (>= 100)
};

class DashboardServer {
 public:
  // Opens the run's existing journal (STATE_DIR/run.sqlite), reads a first
  // snapshot and listens. Fails on a listen address beyond loopback without
  // a token, an address it cannot listen on, no journal, or an unreadable
  // proxy.token_file.
  static Result<std::unique_ptr<DashboardServer>> start(const Plan& plan, DashboardOptions options);
  // Stops serving: closes every connection and joins both threads.
  ~DashboardServer();
  DashboardServer(const DashboardServer&) = delete;
  DashboardServer& operator=(const DashboardServer&) = delete;

  // "http://127.0.0.1:8088/", with the port actually bound.
  const std::string& url() const;

  struct Impl;  // the threads' shared state (dashboard_server.cc)

 private:
  explicit DashboardServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::run
