#include <cmath>

#include "assess/report.h"
#include "core/json_writer.h"
#include "core/two_halves.h"

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
      .field("effort", p.effort_explanation)
      .field("team", p.team)
      .field("sync_days", p.sync_days)
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
        .field("appliance_used", d.appliance_used)
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
        .field("likelihood", r.likelihood)
        .field("impact", r.impact)
        .field("severity", r.severity)
        .field("owner", r.owner)
        .field("status", r.mitigated ? "mitigated" : "open")
        .field("mitigation", r.mitigation)
        .field("mitigated_by", r.mitigated_by)
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
  j.field("tags", w.tags).field("from_tags", w.from_tags);
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

// {"start": "2027-03-01", "finish": "2027-03-03", "working_days": 3} under `key`.
void span(JsonWriter& j, const Plan& plan, std::string_view key, int start, int end) {
  j.key(key)
      .begin_object()
      .field("start", date_text(plan, start))
      .field("finish", date_text(plan, std::max(start, end - 1)))
      .field("working_days", end - start)
      .end_object();
}

void schedule_json(JsonWriter& j, const Plan& plan) {
  const Schedule& s = plan.schedule;
  j.key("schedule").begin_object();
  j.field("start", date_text(plan, 0))
      .field("end", date_text(plan, std::max(0, s.end - 1)))
      .field("working_days", s.end);
  j.key("teams").begin_array();
  for (const auto& team : s.teams) {
    j.begin_object()
        .field("name", team.name)
        .field("capacity", plan.schedule_options.team_capacity)
        .field("workloads", team.workloads)
        .field("build_days", team.build_days)
        .field("busy_until", date_text(plan, std::max(0, team.busy_until - 1)))
        .end_object();
  }
  j.end_array();
  j.key("tasks").begin_array();
  for (size_t t = 0; t < s.tasks.size(); ++t) {
    const ScheduleTask& task = s.tasks[t];
    j.begin_object()
        .field("id", t + 1)
        .field("name", task_name(plan, task))
        .field("kind", task_kind_name(task.kind))
        .key("wave");
    if (task.wave > 0)
      j.value(task.wave);
    else
      j.null();
    j.key("workload");
    if (task.workload >= 0)
      j.value(plan.workloads[task.workload].workload->name);
    else
      j.null();
    j.field("start", date_text(plan, task.start))
        .field("finish", iso_text(finish_date(plan, task)))
        .field("working_days", task.end - task.start)
        .key("after")
        .begin_array();
    for (int a : task.after) j.value(a + 1);
    j.end_array().key("driven_by");
    if (task.driver >= 0)
      j.value(task.driver + 1);
    else
      j.null();
    j.field("critical", task.critical).end_object();
  }
  j.end_array();
  j.key("critical_path").begin_array();
  for (size_t t : s.critical_path) j.value(t + 1);
  j.end_array();
  // Change freezes in working days: no cutover touches one.
  j.key("freezes").begin_array();
  for (const ScheduleFreeze& z : plan.schedule_options.freezes) {
    j.begin_object()
        .field("why", z.why)
        .field("start", date_text(plan, z.start))
        .field("finish", date_text(plan, std::max(z.start, z.end - 1)))
        .end_object();
  }
  j.end_array();
  j.end_object();
}

// The workloads are most of a large plan's JSON: two threads write one half
// each, and the text is the same as one writer's.
void workloads_json(JsonWriter& j, const Plan& plan) {
  const size_t n = plan.workloads.size();
  JsonWriter later = j.fork(/*items_before=*/true);
  const bool split =
      in_two_halves(n, kWorkloadsWorthAThread, [&](size_t from, size_t to, int part) {
        JsonWriter& out = part == 0 ? j : later;
        if (part == 1) later.reserve((to - from) * 6500);
        for (size_t i = from; i < to; ++i) workload_json(out, plan.workloads[i]);
      });
  if (split) j.splice(std::move(later));
}

}  // namespace

std::string render_json(const Plan& plan) {
  // Each workload's fields get a line of their own; what is nested deeper
  // (a data store, a rule in the trace) stays on one line.
  JsonWriter j(/*pretty_depth=*/4);
  // About 6 KB per workload (its decisions traced, its risks) and 200 bytes per task.
  j.reserve(plan.workloads.size() * 7500 + plan.schedule.tasks.size() * 220);
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
      .field("start", iso_text(plan.start))
      .field("mobilisation_days", plan.schedule_options.mobilisation_days)
      .field("team_capacity", plan.schedule_options.team_capacity)
      .field("cutover_days", plan.schedule_options.cutover_days)
      .field("hypercare_days", plan.schedule_options.hypercare_days)
      .field("decommission_days", plan.schedule_options.decommission_days)
      .key("holidays")
      .begin_array();
  for (const CalendarDate& h : plan.calendar.holidays()) j.value(iso_text(h));
  j.end_array().end_object();
  j.key("summary")
      .begin_object()
      .field("workloads", plan.workloads.size())
      .field("waves", plan.waves.size())
      .field("total_data_tb", rounded(plan.total_data_tb))
      .field("start", date_text(plan, 0))
      .field("start_assumed", plan.start_assumed)
      .field("end", date_text(plan, std::max(0, plan.schedule.end - 1)))
      .field("working_days", plan.schedule.end)
      .field("build_days", total_build_days(plan))
      .end_object();
  j.key("workloads").begin_array();
  workloads_json(j, plan);
  j.end_array();
  j.key("waves").begin_array();
  for (size_t i = 0; i < plan.waves.size(); ++i) {
    const WavePlan& wp = plan.waves[i];
    const WaveTimes& t = plan.schedule.waves[i];
    j.begin_object().field("index", wp.wave.index).field("label", wp.label);
    j.key("workloads").begin_array();
    for (size_t m : wp.wave.members) j.value(plan.workloads[m].workload->name);
    j.end_array();
    j.field("data_tb", rounded(wp.wave.data_tb));
    span(j, plan, "build", t.build_start, t.build_end);
    if (t.sync_start >= 0) span(j, plan, "copy", t.sync_start, t.sync_end);
    if (t.wait_start >= 0) span(j, plan, "freeze_wait", t.wait_start, t.cutover_start);
    span(j, plan, "cutover", t.cutover_start, t.cutover_end);
    span(j, plan, "hypercare", t.cutover_end, t.hypercare_end);
    span(j, plan, "decommission", t.hypercare_end, t.decommission_end);
    j.key("risks").begin_array();
    for (const auto& r : wp.risks) {
      j.begin_object()
          .field("title", r.title)
          .field("likelihood", r.likelihood)
          .field("impact", r.impact)
          .field("severity", r.severity)
          .field("owners", r.owners)
          .field("status", r.mitigated ? "mitigated" : "open")
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
  schedule_json(j, plan);
  if (!plan.what_if_settings.empty()) {
    j.key("what_if").begin_object().field("settings", plan.what_if_settings).key("changes");
    changes_json(j, plan.what_if_changes);
    j.end_object();
  }
  j.field("warnings", plan.warnings);
  j.end_object();
  return j.take();
}

}  // namespace ferry::assess
