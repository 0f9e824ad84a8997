// `ferry proxy`: loads the config, starts one worker per configured thread,
// the admin API, health checks, reload triggers (SIGHUP, the file changing,
// POST /admin/reload), and runs until SIGINT or SIGTERM, then drains.
#pragma once

#include <cstdint>
#include <string>

#include "core/error.h"
#include "proxy/proxy_config.h"

namespace ferry::proxy {

struct ProxyRunOptions {
  std::string config_path;
  int64_t drain_ms = 10'000;  // how long in-flight requests get on shutdown
  bool watch_file = true;     // reload when the config file changes
  ProxySecrets secrets;       // applied to the file at start and on every reload
};

// Returns when the proxy has shut down; an error when it could not start.
Result<void> run_proxy(const ProxyRunOptions& options);

// --check: loads and validates the config, resolves every endpoint; returns
// a summary line ("3 routes, 2 pools, 3 endpoints") and the warnings.
Result<std::string> check_proxy_config(const std::string& path, const ProxySecrets& secrets = {});

}  // namespace ferry::proxy
