// Which workloads get a run plan, what each one moves, and the index.
#include "assess/emit_runs.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "assess/report.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

// Methods under which the data does not move to a database ferry reaches:
// archived (retire), kept where it is (retain), exported into a product
// that replaces the workload (repurchase).
const std::set<std::string> kDataStaysBehind{"archive", "stays", "export_import"};

// Cloud services that carry a workload's HTTP traffic. A service that uses
// a DNS service and none of these answers DNS, which no HTTP proxy moves.
const std::set<std::string> kServesHttp{"compute",    "containers",  "kubernetes",
                                        "serverless", "api-gateway", "cdn"};

bool ferry_moves(const DataPlanItem& item) {
  return item.engine == "postgresql" && !kDataStaysBehind.count(item.method);
}

std::string engine_name(const std::string& engine) {
  static const std::map<std::string, std::string> kNames{
      {"postgresql", "PostgreSQL"}, {"mysql", "MySQL"},     {"mariadb", "MariaDB"},
      {"redis", "Redis"},           {"mongodb", "MongoDB"}, {"elasticsearch", "Elasticsearch"},
      {"opensearch", "OpenSearch"}, {"oracle", "Oracle"},   {"sqlserver", "SQL Server"},
      {"cassandra", "Cassandra"},   {"db2", "Db2"},         {"sqlite", "SQLite"}};
  const auto it = kNames.find(engine);
  return it == kNames.end() ? engine : it->second;
}

// "" when ferry proxy can move the workload's traffic; else why not.
std::string no_traffic_reason(const WorkloadPlan& p) {
  const std::optional<std::string>& kind = p.workload->kind;
  if (!kind) {
    return "its kind is not in the inventory, so ferry cannot tell whether it serves HTTP "
           "(kind: service or frontend gets it a traffic plan)";
  }
  if (*kind == "service" || *kind == "frontend") {
    std::string dns;
    bool http = false;
    for (const auto& m : p.service_mappings) {
      if (m.category == "dns" && dns.empty()) dns = m.from;
      http = http || kServesHttp.count(m.category);
    }
    if (dns.empty() || http) return "";
    return "it answers DNS (" + dns +
           "), not HTTP: ferry proxy moves HTTP; switch the zones by hand, TTLs lowered first";
  }
  if (*kind == "batch") {
    return "a batch job: no HTTP traffic to move; start it on the new side once what it reads "
           "and writes has moved";
  }
  if (*kind == "queue") {
    return "a queue: no HTTP traffic; its producers and consumers switch to the new broker";
  }
  if (*kind == "cots") return "a bought product: no route of ferry proxy carries its clients";
  return "a " + (*kind == "storage" ? std::string("file or object store") : *kind) +
         ": no HTTP traffic of its own";
}

bool serves_http(const WorkloadPlan& p) {
  return p.strategy != "repurchase" && no_traffic_reason(p).empty();
}

std::string store_text(const DataPlanItem& item) {
  return fmt::format("data store {} ({}{})", item.store,
                     item.engine.empty() ? "engine not given" : engine_name(item.engine),
                     item.size_gb > 0 ? ", " + size_text(item.size_gb) : "");
}

std::string store_reason(const DataPlanItem& item) {
  const std::string by_hand = "; move it by " + method_label(item.method) + " by hand";
  if (item.engine.empty()) {
    return "its engine is not in the inventory: ferry db moves PostgreSQL (engine: postgresql "
           "gets it data steps)" +
           by_hand;
  }
  if (item.engine == "mysql" || item.engine == "mariadb") {
    return engine_name(item.engine) + ": not yet supported by ferry db" + by_hand;
  }
  if (item.method == "incremental_sync") {
    return "files, not a database: ferry db moves PostgreSQL; sync them by hand (rsync, rclone), "
           "the last pass in the cutover window";
  }
  return engine_name(item.engine) + ": not supported by ferry db (PostgreSQL only)" + by_hand;
}

// A name `ferry run` accepts (letters, digits, '-', '_', '.'), kept short
// enough for file names and replication slots.
std::string config_name(const std::string& text) {
  std::string out;
  for (char c : to_lower(text)) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_';
    if (plain) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  while (!out.empty() && (out.back() == '-' || out.back() == '.')) out.pop_back();
  if (out.size() > 48) out.resize(48);
  return out.empty() ? "workload" : out;
}

// `base`, or base-2, base-3... when taken.
std::string unique(std::string base, std::set<std::string>& taken, const std::string& suffix = "") {
  std::string name = base + suffix;
  for (int n = 2; taken.count(name); ++n) name = fmt::format("{}-{}{}", base, n, suffix);
  taken.insert(name);
  return name;
}

// "WEB_MAIN": the stem of a store's connection variables.
std::string variable_of(const std::string& store, std::set<std::string>& taken) {
  std::string out;
  for (char c : store) {
    const bool plain = std::isalnum(static_cast<unsigned char>(c));
    if (plain) {
      out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out = "DB_" + out;
  std::string name = out;
  for (int n = 2; taken.count(name); ++n) name = fmt::format("{}_{}", out, n);
  taken.insert(name);
  return name;
}

// For each database workload, the HTTP workload whose plan moves its
// stores, or -1 for a plan of its own: see the header for why.
std::vector<int> carriers(const Plan& plan) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < plan.workloads.size(); ++i) index[plan.workloads[i].workload->name] = i;
  std::vector<int> out(plan.workloads.size(), -1);
  for (size_t i = 0; i < plan.workloads.size(); ++i) {
    const WorkloadPlan& p = plan.workloads[i];
    const bool has_store = std::any_of(p.data_plan.begin(), p.data_plan.end(), ferry_moves);
    if (p.wave == 0 || serves_http(p) || !has_store) continue;
    std::vector<size_t> users;
    for (const auto& name : p.dependents) {
      const auto it = index.find(name);
      if (it != index.end() && plan.workloads[it->second].wave > 0) users.push_back(it->second);
    }
    if (users.size() != 1) continue;
    const WorkloadPlan& user = plan.workloads[users[0]];
    if (user.wave == p.wave && serves_http(user)) out[i] = static_cast<int>(users[0]);
  }
  return out;
}

// What the run plans cannot carry of workload `i`; `has_plan`: whether it
// (or the workload carrying its stores) has a plan.
void exclude(const Plan& plan, size_t i, bool has_plan, std::vector<RunExclusion>& out) {
  const WorkloadPlan& p = plan.workloads[i];
  if (p.wave == 0) {
    out.push_back({i, "the workload",
                   p.strategy == "retire" ? "retired: not moving; its data is archived"
                                          : "retained: not moving; its data stays"});
    return;
  }
  if (p.strategy == "repurchase") {
    const std::string product = p.workload->saas_alternative.value_or("");
    out.push_back({i, "the workload",
                   "a repurchase: replaced by " + (product.empty() ? "a product" : product) +
                       ", its data exported and imported into it; nothing for ferry to move"});
    return;
  }
  size_t stores = 0;
  for (const auto& item : p.data_plan) {
    if (ferry_moves(item)) continue;
    out.push_back({i, store_text(item), store_reason(item)});
    ++stores;
  }
  const std::string kind = p.workload->kind.value_or("");
  const bool data_kind = kind == "database" || kind == "cache" || kind == "storage";
  if (!has_plan && (!data_kind || stores == 0)) out.push_back({i, "traffic", no_traffic_reason(p)});
}

std::string wave_text(const Plan& plan, int wave) {
  const std::string& label = plan.waves[static_cast<size_t>(wave - 1)].label;
  return label == "migration" ? std::to_string(wave) : fmt::format("{} ({})", wave, label);
}

std::string cell(const std::string& text) { return markdown_text(text); }

std::string index_text(const Plan& plan, const EmittedRuns& runs, const EmitRunsOptions& o) {
  std::string out = fmt::format(
      "# ferry run plans for {}\n\n"
      "The programme: {}.\n\n"
      "Written by `ferry assess --emit-runs`: one `ferry run` plan (docs/run.md) for\n"
      "each workload whose data (PostgreSQL, with `ferry db`) or traffic (HTTP, with\n"
      "`ferry proxy`) ferry can move, named so that they sort in wave order. Each is a\n"
      "skeleton: its header says where it came from and what to fill in (the\n"
      "connection variables, the proxy's address and route, the hooks that point\n"
      "applications at a new database). Check each with\n"
      "`ferry run {}/FILE --dry-run`, then run it in its window.\n\n"
      "`ferry assess --emit-runs` writes here again only while every file is as it\n"
      "wrote it (`.ferry-generated` lists them): once you edit one, or a run keeps its\n"
      "state here, it refuses and names them.\n\n",
      cell(join(o.inventories, ", ")), programme_text(plan), o.dir);
  if (!plan.what_if_settings.empty()) {
    out += fmt::format("They follow the plan of a what-if: `{}`.\n\n",
                       join(plan.what_if_settings, " "));
  }
  if (plan.start_assumed) {
    out += fmt::format(
        "The inventory gives no start date: the dates count from {} (set "
        "`defaults.start`, or `--start`).\n\n",
        date_text(plan, 0));
  }
  out += "## Plans, in wave order\n\n| Wave | Cutover window | Plan | Moves |\n|---|---|---|---|\n";
  for (const RunPlan& run : runs.plans) {
    const WorkloadPlan& p = plan.workloads[run.workload];
    const WaveTimes& t = plan.schedule.waves[static_cast<size_t>(p.wave - 1)];
    std::vector<std::string> moves;
    for (const RunDatabase& db : run.databases) {
      const WorkloadPlan& owner = plan.workloads[db.owner];
      const DataPlanItem& item = owner.data_plan[db.item];
      moves.push_back(fmt::format("data: {}{} (PostgreSQL, {}, {})", item.store,
                                  db.owner == run.workload ? "" : " of " + owner.workload->name,
                                  size_text(item.size_gb), method_label(item.method)));
    }
    if (!run.route.empty()) {
      moves.push_back(fmt::format("traffic: route `{}` ({})", run.route, words(p.pattern)));
    }
    moves.push_back(run.layer_by_layer ? "layer by layer" : "all at once");
    out += fmt::format("| {} | {} | [{}]({}) | {} |\n", wave_text(plan, p.wave),
                       span_text(plan, t.cutover_start, t.cutover_end), run.file, run.file,
                       cell(join(moves, "; ")));
  }
  out +=
      "\n## What ferry does not carry\n\n"
      "Every moving workload is in a plan above, or here with the reason; these move by\n"
      "other means, in the same wave.\n\n| Wave | Workload | What | Why |\n|---|---|---|---|\n";
  bool staying = false;
  for (const RunExclusion& x : runs.exclusions) {
    const WorkloadPlan& p = plan.workloads[x.workload];
    if (p.wave == 0 && !staying) {
      out += "\n## Not moving\n\n| Workload | Strategy | Why |\n|---|---|---|\n";
      staying = true;
    }
    if (p.wave == 0) {
      out += fmt::format("| {} | {} | {} |\n", cell(p.workload->name), p.strategy, cell(x.reason));
    } else {
      out += fmt::format("| {} | {} | {} | {} |\n", wave_text(plan, p.wave), cell(p.workload->name),
                         cell(x.what), cell(x.reason));
    }
  }
  return out;
}

}  // namespace

EmittedRuns emit_runs(const Plan& plan, const EmitRunsOptions& options) {
  EmittedRuns out;
  const std::vector<int> carrier = carriers(plan);
  std::set<std::string> files, names;
  for (size_t i = 0; i < plan.workloads.size(); ++i) {
    const WorkloadPlan& p = plan.workloads[i];
    if (p.wave == 0 || p.strategy == "repurchase" || carrier[i] >= 0) {
      exclude(plan, i, carrier[i] >= 0, out.exclusions);
      continue;
    }
    RunPlan run;
    run.workload = i;
    const bool http = serves_http(p);
    run.layer_by_layer = p.cutover == "layer_by_layer";
    std::vector<size_t> owners{i};
    for (size_t j = 0; j < plan.workloads.size(); ++j) {
      if (carrier[j] != static_cast<int>(i)) continue;
      run.carried.push_back(j);
      owners.push_back(j);
      // Layer by layer when either asks for it: the data's size or users
      // decide that, and they are the database's.
      run.layer_by_layer = run.layer_by_layer || plan.workloads[j].cutover == "layer_by_layer";
    }
    std::set<std::string> db_names, variables;
    for (size_t owner : owners) {
      const auto& items = plan.workloads[owner].data_plan;
      for (size_t k = 0; k < items.size(); ++k) {
        if (!ferry_moves(items[k])) continue;
        run.databases.push_back({unique(config_name(items[k].store), db_names), owner, k,
                                 variable_of(items[k].store, variables)});
      }
    }
    const bool has_plan = !run.databases.empty() || http;
    exclude(plan, i, has_plan, out.exclusions);
    if (!has_plan) continue;
    run.name = unique(config_name(p.workload->name), names);
    // The route is named after the workload, as the header's proxy example shows it.
    if (http) run.route = run.name;
    run.file = unique(fmt::format("wave-{:02}-{}", p.wave, run.name), files, ".yaml");
    out.plans.push_back(std::move(run));
  }
  std::stable_sort(out.plans.begin(), out.plans.end(),
                   [](const RunPlan& a, const RunPlan& b) { return a.file < b.file; });
  // Moving workloads by wave, those that stay last.
  const auto rank = [&](const RunExclusion& x) {
    const int wave = plan.workloads[x.workload].wave;
    return wave == 0 ? 1 << 30 : wave;
  };
  std::stable_sort(out.exclusions.begin(), out.exclusions.end(),
                   [&](const RunExclusion& a, const RunExclusion& b) { return rank(a) < rank(b); });
  for (const RunPlan& run : out.plans) {
    out.files.push_back({run.file, run_plan_text(plan, run, out, options)});
  }
  out.files.push_back({"README.md", index_text(plan, out, options)});
  return out;
}

}  // namespace ferry::assess
