#include "run/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/files.h"
#include "core/text.h"
#include "core/yaml_reader.h"
#include "pg/conninfo.h"
#include "run/default_steps.h"

namespace ferry::run {

namespace {

namespace fs = std::filesystem;

constexpr std::array<StepKind, 8> kKinds{StepKind::kClone,   StepKind::kFollow,  StepKind::kVerify,
                                         StepKind::kApprove, StepKind::kRollout, StepKind::kCutover,
                                         StepKind::kWatch,   StepKind::kCommand};

// Reads one plan file into `plan`, recording problems in `d`.
class PlanReader {
 public:
  PlanReader(const std::string& file, const Environment& env, Diagnostics& d)
      : file_(file), env_(env), d_(d) {}

  void read(const YamlNode& root, Plan& plan) {
    MappingReader r(root, file_, "", d_);
    if (!r.valid()) return;
    r.require("name");
    if (auto name = r.text("name")) {
      plan.name = *name;
      if (!is_config_name(plan.name)) {
        d_.error(r.where("name"), fmt::format("name: '{}' must be letters, digits, '-', '_' or "
                                              "'.' (at most 64; it names the run's journal)",
                                              plan.name));
      }
    }
    const std::string state_dir = r.text("state_dir").value_or("./ferry-run");
    const fs::path base = fs::path(file_).parent_path();
    plan.state_dir = fs::path(state_dir).is_absolute()
                         ? state_dir
                         : (base / state_dir).lexically_normal().string();
    if (auto s = r.choice("strategy", kStrategies)) {
      plan.strategy = *s == "layer-by-layer" ? Strategy::kLayerByLayer : Strategy::kAllAtOnce;
    }
    if (auto f = r.choice("on_failure", kOnFailure)) {
      plan.on_failure = *f == "pause" ? OnFailure::kPause : OnFailure::kRollback;
    }
    const YamlNode* steps = r.node("steps");
    const bool own_steps = steps && !steps->is_null();
    // A plan with steps of its own may move traffic only (a stateless
    // service behind the proxy: rollout and watch); a strategy's steps
    // come from the databases, so without steps there must be some.
    if (!own_steps) r.require("databases");
    if (const YamlNode* dbs = r.node("databases"); dbs && !dbs->is_null()) {
      read_databases(*dbs, r.where("databases"), plan);
    }
    if (const YamlNode* p = r.node("proxy"); p && !p->is_null()) read_proxy(*p, plan);
    if (own_steps) {
      read_steps(*steps, r.where("steps"), plan);
      if (r.node("strategy")) {
        d_.warning(r.where("strategy"),
                   "strategy: ignored: the plan gives its own steps (a strategy only chooses the "
                   "steps of a plan without steps:)");
      }
    } else {
      plan.steps = default_steps(plan.strategy, plan.databases);
    }
    r.finish();
    check_order(plan);
    check_routes_need_proxy(plan);
  }

 private:
  static inline const std::vector<std::string> kStrategies{"all-at-once", "layer-by-layer"};
  static inline const std::vector<std::string> kOnFailure{"rollback", "pause"};

  // `${NAME}` replaced by the environment's value; a name it lacks is an error.
  std::optional<std::string> expand(MappingReader& r, std::string_view key,
                                    const std::string& text) {
    std::string out;
    size_t at = 0;
    while (true) {
      const size_t open = text.find("${", at);
      if (open == std::string::npos) break;
      const size_t close = text.find('}', open);
      const std::string name =
          close == std::string::npos ? "" : text.substr(open + 2, close - open - 2);
      const bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                         std::all_of(name.begin(), name.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
                         });
      if (!valid) {
        d_.error(r.where(key),
                 fmt::format("{}: '${{' must start a variable like ${{SOURCE_URI}}", r.field(key)));
        return std::nullopt;
      }
      auto value = env_(name);
      if (!value) {
        d_.error(r.where(key),
                 fmt::format("{}: ${{{}}} is not set in the environment", r.field(key), name));
        return std::nullopt;
      }
      out += text.substr(at, open - at);
      out += *value;
      at = close + 1;
    }
    out += text.substr(at);
    return out;
  }

  // A connection string: expanded, parsed by libpq, kept with its redacted form.
  void connection(MappingReader& r, std::string_view key, std::string& value, std::string& shown) {
    r.require(key);
    auto text = r.text(key);
    if (!text) return;
    auto expanded = expand(r, key, *text);
    if (!expanded) return;
    auto info = pg::parse_conninfo(*expanded, r.field(key));
    if (!info) {
      d_.error(r.where(key), info.error().message);
      return;
    }
    value = *expanded;
    shown = info->redacted();
  }

  void read_databases(const YamlNode& node, SourceLocation where, Plan& plan) {
    if (!node.is_mapping() || node.size() == 0) {
      d_.error(where, "databases: expected a mapping of names to { source: URI, target: URI }");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      PlanDatabase db;
      db.name = node.key(i).scalar();
      db.where = location_of(node.key(i), file_);
      const std::string path = "databases." + db.name;
      if (!is_config_name(db.name)) {
        d_.error(db.where, fmt::format("databases: '{}' is not a name (letters, digits, '-', "
                                       "'_', '.')",
                                       db.name));
      }
      MappingReader r(node.value(i), file_, path, d_);
      if (!r.valid()) continue;
      connection(r, "source", db.source, db.source_shown);
      connection(r, "target", db.target, db.target_shown);
      if (auto jobs = r.integer("jobs", 1, 64)) db.jobs = static_cast<int>(*jobs);
      if (auto route = r.text("route")) db.route = *route;
      r.finish();
      plan.databases.push_back(std::move(db));
    }
  }

  void read_proxy(const YamlNode& node, Plan& plan) {
    MappingReader r(node, file_, "proxy", d_);
    if (!r.valid()) return;
    PlanProxy p;
    p.where = r.where();
    if (auto admin = r.text("admin")) p.admin = *admin;
    if (auto token = r.text("token_file")) {
      const fs::path t(*token);
      p.token_file = t.is_absolute()
                         ? *token
                         : (fs::path(file_).parent_path() / t).lexically_normal().string();
    }
    r.finish();
    plan.proxy = std::move(p);
  }

  void read_steps(const YamlNode& node, SourceLocation where, Plan& plan) {
    if (!node.is_sequence() || node.size() == 0) {
      d_.error(where,
               "steps: expected a list of steps such as '- clone: DATABASE' (leave steps "
               "out for the strategy's own)");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string path = fmt::format("steps[{}]", i);
      const YamlNode& item = node[i];
      if (!item.is_mapping() || item.size() != 1) {
        d_.error(location_of(item, file_),
                 path +
                     ": expected one step, written KIND: WHAT (clone: users-db, approve: "
                     "\"message\", cutover: { database: users-db, route: users })");
        continue;
      }
      if (auto step = read_step(item.key(0), item.value(0), path, plan)) {
        step->origin = path;
        plan.steps.push_back(std::move(*step));
      }
    }
  }

  std::optional<PlanStep> read_step(const YamlNode& key, const YamlNode& value,
                                    const std::string& path, const Plan& plan) {
    PlanStep step;
    step.where = location_of(key, file_);
    const std::string& word = key.scalar();
    std::vector<std::string> names;
    for (StepKind k : kKinds) names.push_back(step_kind_name(k));
    const auto found = std::find(names.begin(), names.end(), word);
    if (found == names.end()) {
      d_.error(step.where, fmt::format("{}: '{}' is not a step (steps: {}){}", path, word,
                                       join(names, ", "), did_you_mean_hint(word, names)));
      return std::nullopt;
    }
    step.kind = kKinds[static_cast<size_t>(found - names.begin())];
    const std::string field = path + "." + word;
    switch (step.kind) {
      case StepKind::kClone:
      case StepKind::kFollow:
      case StepKind::kVerify:
        step.database = scalar(value, field, "a database of the plan");
        check_database(plan, step.database, field, location_of(value, file_));
        break;
      case StepKind::kRollout:
        step.route = scalar(value, field, "a route of the proxy");
        break;
      case StepKind::kApprove:
        step.message = scalar(value, field, "what the person approves, in quotes");
        break;
      case StepKind::kCommand:
        step.command = scalar(value, field, "a shell command");
        break;
      case StepKind::kCutover:
        read_cutover(value, field, plan, step);
        break;
      case StepKind::kWatch:
        read_watch(value, field, step);
        break;
    }
    return step;
  }

  std::string scalar(const YamlNode& value, const std::string& field, std::string_view what) {
    if (!value.is_scalar() || value.scalar().empty()) {
      d_.error(location_of(value, file_), fmt::format("{}: expected {}", field, what));
      return "";
    }
    return value.scalar();
  }

  void check_database(const Plan& plan, const std::string& name, const std::string& field,
                      SourceLocation where) {
    if (name.empty() || plan.find_database(name)) return;
    std::vector<std::string> names;
    for (const auto& db : plan.databases) names.push_back(db.name);
    d_.error(where, fmt::format("{}: no database named '{}' in databases{}", field, name,
                                did_you_mean_hint(name, names)));
  }

  // `cutover: DATABASE`, or { database, route, reverse, hold_requests }.
  void read_cutover(const YamlNode& value, const std::string& field, const Plan& plan,
                    PlanStep& step) {
    if (value.is_scalar()) {
      step.database = value.scalar();
      check_database(plan, step.database, field, location_of(value, file_));
      if (const PlanDatabase* db = plan.find_database(step.database)) step.route = db->route;
      return;
    }
    MappingReader r(value, file_, field, d_);
    if (!r.valid()) return;
    r.require("database");
    if (auto db = r.text("database")) {
      step.database = *db;
      check_database(plan, step.database, field + ".database", r.where("database"));
      if (const PlanDatabase* found = plan.find_database(*db)) step.route = found->route;
    }
    if (auto route = r.text("route")) step.route = *route;
    if (auto to = r.text("to")) step.to_pool = *to;
    if (auto then = r.text("then")) step.then = *then;
    if (auto then = r.text("rollback_then")) step.rollback_then = *then;
    if (auto reverse = r.boolean("reverse")) step.reverse = *reverse;
    if (auto hold = r.text("hold_requests")) {
      auto ms = parse_duration_ms(*hold);
      if (!ms || *ms < 1 || *ms > 300'000) {
        d_.error(r.where("hold_requests"),
                 fmt::format("{}.hold_requests: '{}' is not a duration from 1ms to 5m (examples: "
                             "5s, 2500ms)",
                             field, *hold));
      } else {
        step.hold_ms = *ms;
      }
    }
    if (!step.reverse) {
      d_.warning(r.where("reverse"),
                 fmt::format("{}.reverse: false: no way back past this cutover (an abort or a "
                             "failure after it cannot move writes back to the source)",
                             field));
    }
    if (step.hold_ms > 0 && step.route.empty()) {
      d_.error(r.where("hold_requests"),
               fmt::format("{}.hold_requests: holds a route's requests, and the cutover has no "
                           "route (give route:, or the database's route:)",
                           field));
    }
    r.finish();
  }

  void read_watch(const YamlNode& value, const std::string& field, PlanStep& step) {
    MappingReader r(value, file_, field, d_);
    if (!r.valid()) return;
    r.require("for");
    r.require("route");
    if (auto text = r.text("for")) {
      auto ms = parse_duration_ms(*text);
      if (!ms || *ms < 1000) {
        d_.error(r.where("for"), fmt::format("{}.for: '{}' is not a duration of at least 1s "
                                             "(examples: 30m, 2h)",
                                             field, *text));
      } else {
        step.for_ms = *ms;
      }
    }
    if (auto route = r.text("route")) step.route = *route;
    if (auto text = r.text("interval")) {
      auto ms = parse_duration_ms(*text);
      if (!ms || *ms < 1000) {
        d_.error(r.where("interval"),
                 fmt::format("{}.interval: '{}' is not a duration of at least 1s (examples: 30s, "
                             "1m)",
                             field, *text));
      } else {
        step.criteria.interval_ms = *ms;
      }
    }
    if (auto v = r.number("max_error_rate_increase", 0, 100)) {
      step.criteria.max_error_rate_increase = *v;
    }
    if (auto v = r.number("max_p99_ratio", 1, 1000)) step.criteria.max_p99_ratio = *v;
    if (auto v = r.integer("min_requests", 1, 1'000'000'000)) step.criteria.min_requests = *v;
    if (step.for_ms > 0 && step.criteria.interval_ms > step.for_ms) {
      d_.error(r.where("interval"),
               fmt::format("{}.interval: {} is longer than the watch itself ({})", field,
                           duration_text(step.criteria.interval_ms), duration_text(step.for_ms)));
    }
    r.finish();
  }

  // What a step needs done before it: the data copied before it is
  // followed, followed before it is cut over, there before it is verified.
  void check_order(const Plan& plan) {
    std::set<std::string> cloned, followed, cut_over;
    for (const PlanStep& s : plan.steps) {
      const auto need = [&](const std::set<std::string>& done, std::string_view what) {
        if (s.database.empty() || done.count(s.database) || !plan.find_database(s.database)) {
          return;
        }
        d_.error(s.where, fmt::format("{}: {} {} comes before any {} of it; a plan moves a "
                                      "database clone, follow, then cutover",
                                      s.origin, step_kind_name(s.kind), s.database, what));
      };
      switch (s.kind) {
        case StepKind::kClone:
          if (!cloned.insert(s.database).second) {
            d_.error(s.where, fmt::format("{}: {} is cloned twice", s.origin, s.database));
          }
          break;
        case StepKind::kFollow:
          need(cloned, "clone");
          followed.insert(s.database);
          break;
        case StepKind::kVerify:
          need(cloned, "clone");
          break;
        case StepKind::kCutover:
          need(followed, "follow");
          if (!cut_over.insert(s.database).second) {
            d_.error(s.where, fmt::format("{}: {} is cut over twice", s.origin, s.database));
          }
          break;
        default:
          break;
      }
    }
  }

  void check_routes_need_proxy(const Plan& plan) {
    if (plan.proxy) return;
    for (const PlanStep& s : plan.steps) {
      if (s.route.empty()) continue;
      d_.error(s.where, fmt::format("{}: {} works on route '{}' of a proxy, and the plan has no "
                                    "proxy: {{ admin: HOST:PORT }}",
                                    s.origin, step_kind_name(s.kind), s.route));
      return;
    }
  }

  const std::string& file_;
  const Environment& env_;
  Diagnostics& d_;
};

}  // namespace

const char* step_kind_name(StepKind kind) {
  switch (kind) {
    case StepKind::kClone:
      return "clone";
    case StepKind::kFollow:
      return "follow";
    case StepKind::kVerify:
      return "verify";
    case StepKind::kApprove:
      return "approve";
    case StepKind::kRollout:
      return "rollout";
    case StepKind::kCutover:
      return "cutover";
    case StepKind::kWatch:
      return "watch";
    case StepKind::kCommand:
      return "command";
  }
  return "";
}

std::string PlanStep::describe() const {
  switch (kind) {
    case StepKind::kClone:
      return "clone " + database +
             ": copy the schema and data to the target, while the source "
             "keeps serving";
    case StepKind::kFollow:
      return "follow " + database + ": stream the source's changes to the target (CDC)";
    case StepKind::kVerify:
      return "verify " + database + ": compare every row of source and target";
    case StepKind::kApprove:
      return "approve: wait for a person to approve \"" + message + "\"";
    case StepKind::kRollout:
      return "rollout " + route + ": the proxy's progressive rollout, judged by its analysis";
    case StepKind::kCutover: {
      std::string out = "cutover " + database + ": make the target the database of record";
      std::vector<std::string> with;
      if (!route.empty()) {
        with.push_back("route " + route + " moved to " +
                       (to_pool.empty() ? "its rollout's pool" : "pool " + to_pool));
      }
      if (hold_ms > 0) with.push_back("requests held up to " + duration_text(hold_ms));
      with.push_back(reverse ? "reverse stream started (the way back)" : "no reverse stream");
      return out + " (" + join(with, ", ") + ")";
    }
    case StepKind::kWatch:
      return "watch " + route + " for " + duration_text(for_ms) +
             ": keep checking the rollback criteria";
    case StepKind::kCommand:
      return "command: " + command;
  }
  return "";
}

const PlanDatabase* Plan::find_database(std::string_view wanted) const {
  for (const auto& db : databases) {
    if (db.name == wanted) return &db;
  }
  return nullptr;
}

std::optional<std::string> process_environment(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

std::optional<std::string> placeholder_environment(std::string_view) {
  return std::string("postgresql:///not-connected");
}

Result<Plan> parse_plan(std::string_view text, const std::string& file, const Environment& env) {
  auto root = parse_yaml(text, file);
  if (!root) return tl::unexpected(root.error());
  Plan plan;
  plan.file = file;
  Diagnostics diags;
  PlanReader(file, env, diags).read(*root, plan);
  if (diags.has_errors()) return tl::unexpected(diags.to_error(file));
  for (const auto& d : diags.all()) plan.warnings.push_back(d.to_string());
  return plan;
}

Result<Plan> load_plan(const std::string& path, const Environment& env) {
  auto text = with_context(read_text_file(path), path);
  if (!text) return tl::unexpected(text.error());
  return parse_plan(*text, path, env);
}

}  // namespace ferry::run
