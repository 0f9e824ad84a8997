// ferry proxy rollout status|start|pause|resume|promote|abort: a running
// proxy's progressive rollouts, through its admin API (never its internals).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/exit_codes.h"
#include "core/files.h"
#include "core/text.h"
#include "core/yaml.h"
#include "proxy/admin_client.h"

namespace ferry::cli {

namespace {

struct RolloutAction {
  const char* name;
  const char* summary;
};

constexpr std::array kRolloutActions{
    RolloutAction{"status", "Where each rollout is: state, step, weights, the latest verdict"},
    RolloutAction{"start", "Start a pending or aborted rollout at step 1"},
    RolloutAction{"pause", "Hold a running rollout at its step; the weights stay"},
    RolloutAction{"resume", "Go on from a pause; the step's pause starts over"},
    RolloutAction{"promote", "Set the last step's weights at once; no more analysis"},
    RolloutAction{"abort", "Set the starting weights back at once"},
};

constexpr const char* kDescription = R"(
Acts on the progressive rollouts of a running `ferry proxy` through its admin
API (docs/proxy.md, "Progressive rollout"). `status` shows every rollout, or
NAME's: its state, step, live weights, the latest verdict with its numbers,
and why it paused or aborted. The other actions change NAME's rollout and
show it afterwards. -f json prints the admin API's JSON as it came.

The admin token, when the proxy has one: --token-file, else the environment's
FERRY_ADMIN_TOKEN.

Exit status: 0 done, 2 usage error, 3 the proxy refused: no rollout on that
route, an action its state does not allow (pausing a pending rollout), a
wrong token; 4 the admin API could not be reached, or the token file read.

Examples:
  ferry proxy rollout status
  ferry proxy rollout start users --admin 127.0.0.1:9901
  ferry proxy rollout status users -f json | jq '.verdicts[0]')";

struct RolloutCliOptions {
  std::string route;
  std::string admin = "127.0.0.1:9901";
  std::string token_file;
  std::string env_token;  // FERRY_ADMIN_TOKEN, read while parsing
  std::string format = "text";
};

std::string text_of(const YamlNode& rollout, std::string_view key) {
  const YamlNode* n = rollout.find(key);
  return n && n->is_scalar() ? n->scalar() : "";
}

int64_t number_of(const YamlNode& rollout, std::string_view key) {
  const YamlNode* n = rollout.find(key);
  return n ? n->as_integer().value_or(0) : 0;
}

// How long ago, or how long: 850ms, 42s, 3m05s, 2h10m.
std::string elapsed_text(int64_t ms) {
  if (ms < 1000) return fmt::format("{}ms", ms);
  const int64_t s = ms / 1000;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
}

std::string weights_text(const YamlNode* weights) {
  std::vector<std::string> parts;
  for (size_t i = 0; weights && weights->is_mapping() && i < weights->size(); ++i)
    parts.push_back(weights->key(i).scalar() + "=" + weights->value(i).scalar());
  return parts.empty() ? "-" : join(parts, " ");
}

// "2/4 (3m05s of 10m)": the step, and how far into its pause while it runs.
std::string step_text(const YamlNode& r) {
  std::string out = fmt::format("{}/{}", number_of(r, "step"), number_of(r, "steps"));
  const int64_t pause = number_of(r, "step_pause_ms");
  if (text_of(r, "state") == "running" && pause > 0) {
    out += fmt::format(" ({} of {})", elapsed_text(number_of(r, "step_elapsed_ms")),
                       duration_text(static_cast<double>(pause) / 1000));
  }
  return out;
}

// "fail (error_rate) 3s ago: modern 2051 req 3.12% 5xx p99 45.1ms, legacy ...".
std::string verdict_text(const YamlNode& r) {
  const YamlNode* verdicts = r.find("verdicts");
  if (!verdicts || !verdicts->is_sequence() || verdicts->size() == 0) return "-";
  const YamlNode& v = (*verdicts)[0];  // newest first
  const std::string kind = text_of(v, "verdict");
  const std::string reason = text_of(v, "reason");
  const auto side = [&](const std::string& pool, const char* which) {
    return fmt::format("{} {} req {}% 5xx p99 {}ms", pool,
                       text_of(v, fmt::format("requests_{}", which)),
                       text_of(v, fmt::format("error_rate_{}", which)),
                       text_of(v, fmt::format("p99_ms_{}", which)));
  };
  return fmt::format("{}{} {} ago: {}, {}", kind, reason == "none" ? "" : " (" + reason + ")",
                     elapsed_text(number_of(v, "ms_ago")), side(text_of(r, "to"), "new"),
                     side(text_of(r, "from"), "old"));
}

// One row per rollout, and under a paused or aborted one the reason.
std::string render_table(const std::vector<const YamlNode*>& rollouts) {
  if (rollouts.empty()) return "no rollouts: no route of the proxy's config has a rollout\n";
  std::vector<std::array<std::string, 5>> rows{
      {"ROUTE", "STATE", "STEP", "WEIGHTS", "LAST VERDICT"}};
  std::vector<std::string> reasons{""};
  for (const YamlNode* r : rollouts) {
    rows.push_back({text_of(*r, "route"), text_of(*r, "state"), step_text(*r),
                    weights_text(r->find("weights")), verdict_text(*r)});
    const std::string state = text_of(*r, "state");
    reasons.push_back(state == "paused" || state == "aborted" ? text_of(*r, "reason") : "");
  }
  std::array<size_t, 5> width{};
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::string out;
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t c = 0; c + 1 < rows[i].size(); ++c)
      out += fmt::format("{:<{}}  ", rows[i][c], width[c]);
    out += rows[i].back() + "\n";
    if (!reasons[i].empty()) out += fmt::format("{:<{}}  reason: {}\n", "", width[0], reasons[i]);
  }
  return out;
}

// The admin API's answer as a table: {"rollouts": [...]} or one rollout.
Result<std::string> render_text(const std::string& body) {
  auto doc = parse_yaml(body, "the admin API's answer");
  if (!doc) return tl::unexpected(doc.error());
  std::vector<const YamlNode*> rollouts;
  if (const YamlNode* all = doc->find("rollouts"); all && all->is_sequence()) {
    for (size_t i = 0; i < all->size(); ++i) rollouts.push_back(&(*all)[i]);
  } else if (doc->is_mapping()) {
    rollouts.push_back(&*doc);
  }
  return render_table(rollouts);
}

// {"error": "..."} of a refusal, or the body as it came.
std::string api_message(const std::string& body) {
  auto doc = parse_yaml(body, "the admin API's answer");
  if (doc && doc->is_mapping()) {
    if (std::string m = text_of(*doc, "error"); !m.empty()) return m;
  }
  return std::string(trim(body));
}

int run_rollout_command(const RolloutCliOptions& o, std::string_view action) {
  const auto address = proxy::parse_host_port(o.admin);  // checked while parsing
  auto token = proxy::admin_token(o.token_file, o.env_token, "--token-file");
  if (!token) return report_error(token.error(), o.format);
  proxy::AdminRequest request;
  request.token = *token;
  if (action == "status") {
    request.target = o.route.empty() ? "/admin/rollouts" : "/admin/rollouts/" + o.route;
  } else {
    request.method = "POST";
    request.target = fmt::format("/admin/rollouts/{}/{}", o.route, action);
  }
  auto reply = proxy::call_admin_api(*address, request);
  if (!reply) {
    return report_error(
        std::move(reply.error()).with_context(fmt::format("ferry proxy rollout {}", action)),
        o.format);
  }
  if (reply->status != 200) {
    // A refusal is about what was asked (3); a failing proxy is not (4).
    Error refused{reply->status >= 500 ? ErrorCode::kIo : ErrorCode::kInvalidInput,
                  api_message(reply->body),
                  {},
                  {fmt::format("{} {} at {} answered {}", request.method, request.target, o.admin,
                               reply->status)}};
    return report_error(refused, o.format);
  }
  if (o.format == "json") {
    std::cout << reply->body;
    return exit_status(ExitCode::kOk);
  }
  auto table = render_text(reply->body);
  if (!table) return report_error(table.error());
  std::cout << *table;
  return exit_status(ExitCode::kOk);
}

void install_action(CLI::App& leaf, const RolloutAction& action,
                    const std::shared_ptr<RolloutCliOptions>& o) {
  leaf.footer(kDescription);
  const bool status = std::string_view(action.name) == "status";
  auto* name = leaf.add_option("NAME", o->route,
                               status ? "The route whose rollout to show (default: every one)"
                                      : "The route whose rollout to act on");
  if (!status) name->required();
  leaf.add_option("--admin", o->admin, "The proxy's admin API: its admin.listen, HOST:PORT")
      ->type_name("HOST:PORT")
      ->capture_default_str()
      ->check([](const std::string& text) -> std::string {
        const auto hp = proxy::parse_host_port(text);
        return hp && hp->port != 0 ? "" : "'" + text + "' is not HOST:PORT";
      });
  leaf.add_option("--token-file", o->token_file,
                  "File holding the admin token (default: FERRY_ADMIN_TOKEN)")
      ->type_name("FILE");
  leaf.add_option("-f,--format", o->format, "Output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  // Read while parsing: main() then removes it from the environment.
  leaf.parse_complete_callback([o] {
    if (const char* token = std::getenv("FERRY_ADMIN_TOKEN")) o->env_token = trim(token);
  });
}

}  // namespace

Runner install_proxy_rollout(CLI::App& sub) {
  sub.footer(kDescription);
  sub.require_subcommand(0, 1);
  auto o = std::make_shared<RolloutCliOptions>();
  auto leaves = std::make_shared<std::vector<std::pair<CLI::App*, std::string>>>();
  for (const auto& action : kRolloutActions) {
    CLI::App* leaf = sub.add_subcommand(action.name, action.summary);
    install_action(*leaf, action, o);
    leaves->emplace_back(leaf, action.name);
  }
  return [o, leaves, &sub]() {
    for (const auto& [leaf, action] : *leaves)
      if (leaf->parsed()) return run_rollout_command(*o, action);
    // `ferry proxy rollout` alone: its actions, as a usage error.
    std::cerr << sub.help();
    return exit_status(ExitCode::kUsage);
  };
}

}  // namespace ferry::cli
