// ferry proxy: the migration traffic router.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/exit_codes.h"
#include "core/text.h"
#include "proxy/proxy_server.h"

namespace ferry::cli {

namespace {

struct ProxyCliOptions {
  std::string config;
  bool check = false;
  double drain_seconds = 10;
  bool no_watch = false;
  proxy::ProxySecrets secrets;
};

constexpr const char* kDescription = R"(
An HTTP/1.1 reverse proxy that moves traffic from the old system to the new
one a slice at a time: routes by host, path (exact, prefix, RE2 regex),
method, header, cookie and query; weighted and sticky splits (a user stays on
one side, and raising the new side's weight only moves users forward); an
override header (migration-flag); blue/green by switching weights 0/100.
The config format is in docs/proxy.md; examples/proxy/ has working files.

The admin token can come from the environment instead of the file:
FERRY_ADMIN_TOKEN (for example from a Kubernetes Secret) is used when the
file has no admin.token.

Reload the config with SIGHUP, POST /admin/reload, or by saving the file: an
invalid file is reported and the running config stays. Weights changed
through the admin API survive a reload unless the file changed that route.

A running proxy's progressive rollouts: `ferry proxy rollout status`, and
start, pause, resume, promote or abort (`ferry proxy rollout --help`).

Exit status: 0 stopped by SIGINT/SIGTERM after draining, 3 invalid config,
4 cannot listen, open the access log or use the state_dir.

Examples:
  ferry proxy --check --config examples/proxy/strangler.yaml
  ferry proxy --config examples/proxy/strangler.yaml
  curl -X PUT -d '{"legacy":50,"modern":50}' localhost:9901/admin/routes/users/weights
  ferry proxy rollout start users)";

int run_proxy_command(const ProxyCliOptions& o) {
  if (o.check) {
    auto summary = proxy::check_proxy_config(o.config, o.secrets);
    if (!summary) return report_error(summary.error());
    std::cout << o.config << ": ok: " << *summary << "\n";
    return exit_status(ExitCode::kOk);
  }
  proxy::ProxyRunOptions options;
  options.config_path = o.config;
  options.drain_ms = static_cast<int64_t>(o.drain_seconds * 1000);
  options.watch_file = !o.no_watch;
  options.secrets = o.secrets;
  auto ran = proxy::run_proxy(options);
  if (!ran) return report_error(ran.error());
  return exit_status(ExitCode::kOk);
}

}  // namespace

Runner install_proxy(CLI::App& sub) {
  auto o = std::make_shared<ProxyCliOptions>();
  sub.footer(kDescription);
  CLI::Option* config =
      sub.add_option("-c,--config", o->config, "Proxy configuration (YAML)")->required();
  sub.add_flag("--check", o->check,
               "Validate the config, resolve endpoints, print a summary, exit");
  add_duration_option(sub, "--drain-timeout", o->drain_seconds,
                      "On SIGINT/SIGTERM, how long requests in flight may take to finish");
  sub.add_flag("--no-watch", o->no_watch, "Do not reload when the config file changes");
  // Read while parsing: main() then removes it from the environment. A
  // Secret made with --from-file often ends in a newline, never part of a token.
  sub.parse_complete_callback([o] {
    if (const char* token = std::getenv("FERRY_ADMIN_TOKEN"))
      o->secrets.admin_token = std::string(trim(token));
  });
  // `ferry proxy rollout ...` talks to a running proxy: no config of its own.
  CLI::App* rollout = sub.add_subcommand(
      "rollout", "A running proxy's progressive rollouts: status, start, pause, resume, ...");
  rollout->preparse_callback([config](size_t) { config->required(false); });
  rollout->excludes(config);
  Runner run_rollout = install_proxy_rollout(*rollout);
  return [o, rollout, run_rollout] {
    return rollout->parsed() ? run_rollout() : run_proxy_command(*o);
  };
}

}  // namespace ferry::cli
