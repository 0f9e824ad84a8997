// The live dashboard as both `ferry run ui PLAN` and `ferry run PLAN --ui
// ADDR` start it (cmd_run_ui.cc): the token read from its file, the server
// started on the run's existing journal, and where it listens printed.
#pragma once

#include <memory>
#include <string>

#include "core/error.h"
#include "run/dashboard_server.h"
#include "run/plan.h"

namespace ferry::cli {

// `token_file`: "" for none (then only loopback); `env_admin_token`:
// FERRY_ADMIN_TOKEN as the command read it, for the proxy.
Result<std::unique_ptr<run::DashboardServer>> start_dashboard(const run::Plan& plan,
                                                              const std::string& listen,
                                                              const std::string& token_file,
                                                              const std::string& env_admin_token);

}  // namespace ferry::cli
