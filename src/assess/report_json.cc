#include <cmath>

#include "assess/report.h"
#include "core/json_writer.h"

namespace ferry::assess {

namespace {

// Two decimals are plenty for hours and scores, and keep golden files stable.
double rounded(double v) { return std::round(v * 100) / 100; }

void decision_json(JsonWriter& j, const DecisionResult& d) {
  j.begin_object();
  j.field("choice", d.choice).field("fell_back", d.fell_back);
  j.key("scores").begin_object();
  for (const auto& [option, score] : d.scores) j.field(option, rounded(score));
  j.end_object();
  j.key("rules").begin_array();
  for (const auto& vote : d.fired) {
    j.begin_object();
    j.field("id", vote.rule->id).field("because", vote.because);
    j.key("votes").begin_object();
    for (const auto& [option, w] : vote.rule->votes) j.field(option, rounded(w));
    j.end_object();
    // {"fact": "value"}, and the facts that were assumed rather than given.
    j.key("inputs").begin_object();
    std::vector<std::string> assumed;
    for (const auto& in : vote.inputs) {
      j.field(in.fact, in.value);
      if (in.assumed) assumed.emplace_back(in.fact);
    }
    j.end_object();
    j.field("assumed", assumed);
    j.end_object();
  }
  j.end_array();
  j.end_object();
}

void names(JsonWriter& j, const std::vector<Dependency>& deps) {
  j.begin_array();
  for (const auto& d : deps) j.value(d.name);
  j.end_array();
}

void workload_json(JsonWriter& j, const WorkloadPlan& p) {
  const Workload& w = *p.workload;
  j.begin_object();
  j.field("name", w.name)
      .field("kind", w.kind.value_or(""))
      .field("owner", w.owner.value_or(""))
      .field("technology", w.technology.value_or(""))
      .field("criticality", w.criticality.value_or(""))
      .field("strategy", p.strategy)
      .field("reasons", p.reasons)
      .field("confidence", p.confidence);
  j.key("assumptions").begin_array();
  for (const auto& a : p.assumptions)
    j.begin_object().field("fact", a.fact).field("value", a.value).end_object();
  j.end_array();
  j.key("wave");
  if (p.wave > 0)
    j.value(p.wave);
  else
    j.null();
  j.field("cutover", p.cutover)
      .field("pattern", p.pattern)
      .field("effort_days", rounded(p.effort_days))
      .field("risk_score", p.risk_score);
  j.key("depends_on");
  names(j, w.depends_on);
  j.key("depends_on_soft");
  names(j, w.depends_on_soft);
  j.field("dependents", p.dependents);
  j.key("service_mappings").begin_array();
  for (const auto& m : p.service_mappings) {
    j.begin_object().field("from", m.from).key("to");
    if (m.to.empty())
      j.null();
    else
      j.value(m.to);
    j.field("complexity", m.complexity)
        .field("provider", m.provider)
        .field("category", m.category)
        .field("proprietary", m.proprietary)
        .field("notes", m.notes)
        .end_object();
  }
  j.end_array();
  j.key("data_plan").begin_array();
  for (const auto& d : p.data_plan) {
    j.begin_object()
        .field("name", d.store)
        .field("engine", d.engine)
        .field("size_gb", rounded(d.size_gb))
        .field("size_assumed", d.size_assumed)
        .field("method", d.method)
        .field("transfer_hours", rounded(d.transfer_hours))
        .field("copy_hours", rounded(d.copy_hours))
        .field("downtime_minutes", rounded(d.downtime_minutes))
        .field("downtime_budget_minutes", rounded(d.downtime_budget_minutes))
        .field("fits_budget", d.fits_budget)
        .field("can_catch_up", d.can_catch_up)
        .field("appliance_recommended", d.appliance_recommended)
        .field("why", d.why)
        .end_object();
  }
  j.end_array();
  j.key("gravity")
      .begin_object()
      .field("score", rounded(p.gravity.score))
      .field("level", p.gravity.level)
      .field("size_gb", rounded(p.gravity.size_gb))
      .field("accesses_per_day", rounded(p.gravity.accesses_per_day))
      .field("integrations", p.gravity.integrations)
      .field("explanation", p.gravity.explanation)
      .end_object();
  j.key("risks").begin_array();
  for (const auto& r : p.risks) {
    j.begin_object()
        .field("id", r.id)
        .field("title", r.title)
        .field("severity", r.severity)
        .field("mitigation", r.mitigation)
        .field("source", r.source)
        .end_object();
  }
  j.end_array();
  // Grouped by section: {"technical": [...], "data": [...], "operational": [...]}.
  j.key("checklist").begin_object();
  for (const char* section : {"technical", "data", "operational"}) {
    j.key(section).begin_array();
    for (const auto& c : p.checklist) {
      if (c.section == section) j.value(c.item);
    }
    j.end_array();
  }
  j.end_object();
  j.key("rollback_criteria").begin_array();
  for (const auto& r : p.rollback) {
    j.begin_object()
        .field("metric", r.metric)
        .field("threshold", r.threshold)
        .field("action", r.action)
        .end_object();
  }
  j.end_array();
  j.key("decisions").begin_object();
  for (const auto& [name, result] : p.decisions) {
    j.key(name);
    decision_json(j, result);
  }
  j.end_object();
  j.field("tags", w.tags);
  j.key("servers").begin_array();
  for (const auto& s : w.servers) {
    j.begin_object().field("host", s.host).field("ip", s.ip).key("cpus");
    if (s.cpus)
      j.value(*s.cpus);
    else
      j.null();
    j.key("ram_gb");
    if (s.ram_gb)
      j.value(rounded(*s.ram_gb));
    else
      j.null();
    j.field("os", s.os).end_object();
  }
  j.end_array();
  j.key("source_wave");
  if (w.wave_hint)
    j.value(*w.wave_hint);
  else
    j.null();
  j.field("sources", w.sources);
  j.end_object();
}

}  // namespace

std::string render_json(const Plan& plan) {
  // Each workload's fields get a line of their own; what is nested deeper
  // (a data store, a rule in the trace) stays on one line.
  JsonWriter j(/*pretty_depth=*/4);
  j.begin_object();
  j.field("ferry_assess_version", 1);
  j.field("rules", plan.rules_source).field("catalog", plan.catalog_source);
  j.key("defaults")
      .begin_object()
      .field("bandwidth_gbps", plan.defaults.bandwidth_gbps)
      .field("link_efficiency", plan.defaults.link_efficiency)
      .field("max_workloads_per_wave", plan.defaults.max_workloads_per_wave)
      .field("max_data_tb_per_wave", plan.defaults.max_data_tb_per_wave)
      .field("pilot_size", plan.defaults.pilot_size)
      .field("pilot_max_risk", plan.defaults.pilot_max_risk)
      .field("pilot_min_confidence", plan.defaults.pilot_min_confidence)
      .field("appliance_threshold_days", plan.defaults.appliance_threshold_days)
      .end_object();
  j.key("summary")
      .begin_object()
      .field("workloads", plan.workloads.size())
      .field("waves", plan.waves.size())
      .field("total_data_tb", rounded(plan.total_data_tb))
      .field("total_days", rounded(plan.total_days))
      .field("critical_path_days", rounded(plan.critical_path_days))
      .end_object();
  j.key("workloads").begin_array();
  for (const auto& p : plan.workloads) workload_json(j, p);
  j.end_array();
  j.key("waves").begin_array();
  for (const auto& wp : plan.waves) {
    j.begin_object().field("index", wp.wave.index).field("label", wp.label);
    j.key("workloads").begin_array();
    for (size_t m : wp.wave.members) j.value(plan.workloads[m].workload->name);
    j.end_array();
    j.field("data_tb", rounded(wp.wave.data_tb))
        .field("start_day", rounded(wp.wave.start_day))
        .field("duration_days", rounded(wp.wave.duration_days));
    j.key("risks").begin_array();
    for (const auto& r : wp.risks) {
      j.begin_object()
          .field("title", r.title)
          .field("severity", r.severity)
          .field("workloads", r.workloads)
          .end_object();
    }
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.key("cycles").begin_array();
  for (const auto& c : plan.cycles) j.value(c);
  j.end_array();
  j.key("critical_path")
      .begin_object()
      .field("days", rounded(plan.critical_path_days))
      .key("steps")
      .begin_array();
  for (const auto& step : plan.critical_path) j.value(step);
  j.end_array().end_object();
  j.field("warnings", plan.warnings);
  j.end_object();
  return j.take();
}

}  // namespace ferry::assess
