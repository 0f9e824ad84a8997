#include "run/plan_preflight.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "core/text.h"
#include "core/yaml.h"
#include "db/check/preflight.h"
#include "pg/connection.h"
#include "proxy/admin_client.h"

namespace ferry::run {

namespace {
// `ferry db clone --slot` takes at most 40 characters: the follows add
// their suffixes ("_reverse") within PostgreSQL's 63.
constexpr size_t kMaxSlotName = 40;
}  // namespace

namespace {

namespace fs = std::filesystem;

PreflightCheck check_state_dir(const std::string& dir) {
  PreflightCheck c{"state_dir " + dir, false, ""};
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    c.ok = ::access(dir.c_str(), W_OK) == 0;
    c.detail = c.ok ? "exists and can be written (a run there resumes from its journal)"
                    : "exists but cannot be written by this user";
    return c;
  }
  // The nearest existing ancestor is where it would be created.
  fs::path parent = fs::absolute(dir, ec).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec)) parent = parent.parent_path();
  c.ok = !parent.empty() && ::access(parent.c_str(), W_OK) == 0;
  c.detail =
      c.ok ? "will be created" : "cannot be created: " + parent.string() + " is not writable";
  return c;
}

std::string blocker_summary(const db::PreflightReport& report) {
  std::vector<std::string> blockers;
  for (const auto& f : report.findings) {
    if (f.level == db::FindingLevel::kBlocker) blockers.push_back(f.message);
  }
  if (blockers.empty()) {
    return fmt::format(
        "source PostgreSQL {}, target PostgreSQL {}, {:.1f} GiB of tables, copy "
        "estimated at {:.0f} s; `ferry db check` finds no blocker",
        report.source_version, report.target_version,
        static_cast<double>(report.table_bytes) / (1024.0 * 1024 * 1024), report.estimated_seconds);
  }
  return fmt::format("{} blocker{} (`ferry db check` shows how to fix each): {}", blockers.size(),
                     blockers.size() == 1 ? "" : "s", some_of(blockers, 3));
}

void check_database(const Plan& plan, const PlanDatabase& db, bool resuming, PlanPreflight& out) {
  const std::string subject = "database " + db.name;
  auto source_info = pg::parse_conninfo(db.source, "source");
  auto target_info = pg::parse_conninfo(db.target, "target");
  if (!source_info || !target_info) {
    out.checks.push_back({subject, false, "its connection strings do not parse"});
    return;
  }
  auto source = pg::Connection::open(*source_info, {"ferry run preflight"});
  auto target = pg::Connection::open(*target_info, {"ferry run preflight"});
  out.checks.push_back({subject + " source", bool(source),
                        source ? db.source_shown + ": answers" : source.error().to_string()});
  out.checks.push_back({subject + " target", bool(target),
                        target ? db.target_shown + ": answers" : target.error().to_string()});
  if (!source || !target) return;
  if (resuming) return;  // the clone has changed what `ferry db check` looks at
  db::PreflightOptions options;
  options.jobs = db.jobs;
  options.slot_name = slot_name(plan, db);
  auto report = db::run_preflight(*source, *target, options);
  if (!report) {
    out.checks.push_back({subject + " check", false, report.error().to_string()});
    return;
  }
  out.checks.push_back({subject + " check", !report->has_blockers(), blocker_summary(*report)});
}

// The proxy answers, and has what the steps ask of it.
// The pool a cutover moves its route to must be one of the route's: found
// now, not at the cutover after a copy of hours. Without `to:` it is the
// route's rollout's target, so the route needs a rollout.
PreflightCheck check_cutover_pool(const PlanStep& step, const proxy::HostPort& address,
                                  const std::string& token, const std::vector<std::string>& pools) {
  const std::string subject = "route " + step.route;
  std::string to = step.to_pool;
  if (to.empty()) {
    auto rollout =
        proxy::call_admin_api(address, {"GET", "/admin/rollouts/" + step.route, token, ""});
    if (rollout && rollout->status == 200) {
      if (auto doc = parse_yaml(rollout->body, "rollout")) to = doc->text_at("to");
    }
    if (to.empty()) {
      return {subject, false,
              fmt::format("{} moves the route to its rollout's pool, and the route has no "
                          "rollout; give the cutover to: POOL (its pools: {})",
                          step.origin, join(pools, ", "))};
    }
  }
  if (std::find(pools.begin(), pools.end(), to) == pools.end()) {
    return {subject, false,
            fmt::format("has no pool '{}' for {} to move it to{} (its pools: {}); the run would "
                        "stop at the cutover, after the copy",
                        to, step.origin, did_you_mean_hint(to, pools), join(pools, ", "))};
  }
  return {subject, true, fmt::format("exists; the cutover moves it to pool {}", to)};
}

void check_proxy(const Plan& plan, std::string_view env_token, PlanPreflight& out) {
  const PlanProxy& proxy = *plan.proxy;
  const std::string subject = "proxy " + proxy.admin;
  auto address = proxy::parse_host_port(proxy.admin);
  if (!address || address->port == 0) {
    out.checks.push_back({subject, false, "proxy.admin is not HOST:PORT"});
    return;
  }
  if (address->host.empty()) address->host = "127.0.0.1";
  const auto read_token = proxy::admin_token(proxy.token_file, env_token, "proxy.token_file");
  if (!read_token) {
    out.checks.push_back({subject, false, read_token.error().to_string()});
    return;
  }
  const std::string& token = *read_token;
  auto state = proxy::call_admin_api(*address, {"GET", "/admin/state", token, ""});
  if (!state || state->status != 200) {
    out.checks.push_back(
        {subject, false,
         state ? fmt::format("the admin API answered {}: {}", state->status, trim(state->body))
               : state.error().to_string() + " (is `ferry proxy` running with admin.listen " +
                     proxy.admin + "?)"});
    return;
  }
  auto doc = parse_yaml(state->body, "/admin/state");
  std::vector<std::string> routes;
  std::map<std::string, std::vector<std::string>> pools_of;  // by route
  if (doc) {
    if (const YamlNode* list = doc->find("routes")) {
      for (size_t i = 0; i < list->size(); ++i) {
        const YamlNode* name = (*list)[i].find("name");
        if (!name) continue;
        routes.push_back(name->scalar());
        if (const YamlNode* pools = (*list)[i].find("pools")) {
          for (size_t k = 0; k < pools->size(); ++k)
            pools_of[name->scalar()].push_back((*pools)[k].text_at("pool"));
        }
      }
    }
  }
  out.checks.push_back({subject, true, fmt::format("answers; routes: {}", join(routes, ", "))});

  std::set<std::string> checked;
  for (const PlanStep& step : plan.steps) {
    if (step.route.empty()) continue;
    if (step.kind == StepKind::kCutover &&
        std::find(routes.begin(), routes.end(), step.route) != routes.end()) {
      if (checked.insert(step.route + "+cutover:" + step.to_pool).second)
        out.checks.push_back(check_cutover_pool(step, *address, token, pools_of[step.route]));
      continue;
    }
    const std::string key = step.route + (step.kind == StepKind::kRollout ? "+rollout" : "");
    if (!checked.insert(key).second) continue;
    const std::string route_subject = "route " + step.route;
    if (std::find(routes.begin(), routes.end(), step.route) == routes.end()) {
      out.checks.push_back({route_subject, false,
                            fmt::format("the proxy has no route '{}' ({} needs it){}", step.route,
                                        step.origin, did_you_mean_hint(step.route, routes))});
      continue;
    }
    if (step.kind != StepKind::kRollout) {
      out.checks.push_back({route_subject, true, "exists"});
      continue;
    }
    auto rollout =
        proxy::call_admin_api(*address, {"GET", "/admin/rollouts/" + step.route, token, ""});
    const bool has = rollout && rollout->status == 200;
    out.checks.push_back(
        {route_subject, has,
         has ? "exists and has a rollout"
             : fmt::format("has no rollout in the proxy's config ({} runs it); add rollout: to the "
                           "route (docs/proxy.md, \"Progressive rollout\")",
                           step.origin)});
  }
}

}  // namespace

bool PlanPreflight::ok() const {
  return std::all_of(checks.begin(), checks.end(), [](const PreflightCheck& c) { return c.ok; });
}

std::string slot_name(const Plan& plan, const PlanDatabase& db) {
  std::string out = "ferry_";
  for (char c : to_lower(plan.name + "_" + db.name)) {
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  }
  if (out.size() <= kMaxSlotName) return out;
  // Cut, with a hash of the whole name so that two long names sharing a
  // beginning still get slots of their own (FNV-1a, stable across builds).
  uint32_t hash = 2166136261u;
  for (char c : out) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
  return fmt::format("{}_{:08x}", out.substr(0, kMaxSlotName - 9), hash);
}

PlanPreflight run_plan_preflight(const Plan& plan, std::string_view env_token, bool resuming) {
  PlanPreflight out;
  out.checks.push_back(check_state_dir(plan.state_dir));
  std::set<std::string> moved;
  for (const PlanStep& step : plan.steps) {
    if (!step.database.empty()) moved.insert(step.database);
  }
  for (const PlanDatabase& db : plan.databases) {
    if (moved.count(db.name)) check_database(plan, db, resuming, out);
  }
  if (plan.proxy) check_proxy(plan, env_token, out);
  return out;
}

}  // namespace ferry::run
