// ferry run ui PLAN: a run's live dashboard (run/dashboard_server.h), served
// until SIGINT or SIGTERM, next to whatever `ferry run PLAN` executes it.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/run_dashboard.h"
#include "core/exit_codes.h"
#include "core/files.h"
#include "core/log.h"
#include "core/stop_signal.h"
#include "core/text.h"
#include "run/dashboard_server.h"
#include "run/plan.h"

namespace ferry::cli {

namespace {

struct UiOptions {
  std::string plan;
  std::string listen = "127.0.0.1:8088";
  std::string token_file;
  std::string env_token;  // FERRY_ADMIN_TOKEN, read while parsing
};

constexpr const char* kDescription = R"(
Serves a run's live dashboard: the steps as a timeline with their states and
times, the run's state and why, the audit log (who approved, paused or
aborted), each database's replication lag, and the proxy's routes (weights,
error rate and p99 per pool, breakers, rollout, parallel-run differences,
held requests), with buttons that queue approve, pause, resume and abort for
the running engine. GET /api/status gives the same snapshot as JSON, and
GET /events streams it (server-sent events). Reads the run's journal
(STATE_DIR/run.sqlite), the follow status files and the proxy's admin API;
connects to no database.

A --listen address beyond loopback needs --token-file: every request then
carries the token (Authorization: Bearer TOKEN, or ?token=TOKEN in the
address the first time the page is opened).

Exit status: 0 stopped by a signal, 2 usage, 3 the plan or --listen is
invalid, 4 no run's journal, or the address or token file cannot be used.

Examples:
  ferry run ui plan.yaml
  ferry run ui plan.yaml --listen 0.0.0.0:8088 --token-file /etc/ferry/dashboard-token)";

// A variable the environment has is used (so the page shows the servers,
// redacted); one it lacks reads as a placeholder, as for `ferry run status`:
// the dashboard connects to no database.
std::optional<std::string> display_environment(std::string_view name) {
  if (auto value = run::process_environment(name)) return value;
  return run::placeholder_environment(name);
}

int serve(const UiOptions& o) {
  auto plan = run::load_plan(o.plan, display_environment);
  if (!plan) return report_error(plan.error());
  for (const auto& warning : plan->warnings) log_warn(warning);
  const std::atomic<bool>& stop = install_stop_signals();
  auto server = start_dashboard(*plan, o.listen, o.token_file, o.env_token);
  if (!server) return report_error(server.error());
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  log_info("run: dashboard stopped");
  return exit_status(ExitCode::kOk);
}

}  // namespace

Result<std::unique_ptr<run::DashboardServer>> start_dashboard(const run::Plan& plan,
                                                              const std::string& listen,
                                                              const std::string& token_file,
                                                              const std::string& env_admin_token) {
  run::DashboardOptions options;
  options.listen = listen;
  options.env_admin_token = env_admin_token;
  if (!token_file.empty()) {
    auto text = with_context(read_text_file(token_file), "--token-file " + token_file);
    if (!text) return tl::unexpected(text.error());
    options.token = std::string(trim(*text));
    if (options.token.empty()) {
      return fail(ErrorCode::kInvalidInput, token_file + " is empty (a dashboard token file)");
    }
  }
  auto server = run::DashboardServer::start(plan, std::move(options));
  if (!server) return tl::unexpected(server.error());
  // On stdout, so that a script (or a test) can read where it listens.
  std::cout << "dashboard: " << (*server)->url() << std::endl;
  log_info(fmt::format("run: dashboard for plan {} at {}{}", plan.name, (*server)->url(),
                       token_file.empty() ? "" : " (token required)"));
  return server;
}

Runner install_run_ui(CLI::App& sub) {
  auto o = std::make_shared<UiOptions>();
  sub.footer(kDescription);
  sub.add_option("plan", o->plan, "The plan the run was started with")->required();
  sub.add_option("--listen", o->listen, "HOST:PORT to serve on (port 0 picks a free one)")
      ->capture_default_str();
  sub.add_option("--token-file", o->token_file,
                 "A file holding the token every request must carry (required beyond loopback)");
  // Read while parsing: main() then removes it from the environment.
  sub.parse_complete_callback([o] {
    if (const char* token = std::getenv("FERRY_ADMIN_TOKEN")) o->env_token = trim(token);
  });
  return [o] { return serve(*o); };
}

}  // namespace ferry::cli
