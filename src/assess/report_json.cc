#include <cmath>

#include <nlohmann/json.hpp>

#include "assess/report.h"

namespace ferry::assess {

namespace {

using nlohmann::ordered_json;

// Two decimals are plenty for hours and scores, and keep golden files stable.
double rounded(double v) { return std::round(v * 100) / 100; }

ordered_json fact_value_json(const std::string& v) { return v; }

ordered_json decision_json(const DecisionResult& d) {
  ordered_json j;
  j["choice"] = d.choice;
  j["fell_back"] = d.fell_back;
  j["scores"] = ordered_json::object();
  for (const auto& [option, score] : d.scores) j["scores"][option] = rounded(score);
  j["rules"] = ordered_json::array();
  for (const auto& vote : d.fired) {
    ordered_json r;
    r["id"] = vote.rule_id;
    r["because"] = vote.because;
    r["votes"] = ordered_json::object();
    for (const auto& [option, w] : vote.votes) r["votes"][option] = rounded(w);
    r["inputs"] = ordered_json::array();
    for (const auto& in : vote.inputs) {
      r["inputs"].push_back({{"fact", in.fact}, {"value", fact_value_json(in.value)}, {"assumed", in.assumed}});
    }
    j["rules"].push_back(std::move(r));
  }
  return j;
}

ordered_json workload_json(const WorkloadPlan& p) {
  const Workload& w = *p.workload;
  ordered_json j;
  j["name"] = w.name;
  j["kind"] = w.kind.value_or("");
  j["owner"] = w.owner.value_or("");
  j["technology"] = w.technology.value_or("");
  j["criticality"] = w.criticality.value_or("");
  j["strategy"] = p.strategy;
  j["reasons"] = p.reasons;
  j["confidence"] = p.confidence;
  j["assumptions"] = ordered_json::array();
  for (const auto& a : p.assumptions) j["assumptions"].push_back({{"fact", a.fact}, {"value", a.value}});
  if (p.wave > 0) j["wave"] = p.wave;
  else j["wave"] = nullptr;
  j["cutover"] = p.cutover;
  j["pattern"] = p.pattern;
  j["effort_days"] = rounded(p.effort_days);
  j["risk_score"] = p.risk_score;
  j["depends_on"] = ordered_json::array();
  for (const auto& d : w.depends_on) j["depends_on"].push_back(d.name);
  j["depends_on_soft"] = ordered_json::array();
  for (const auto& d : w.depends_on_soft) j["depends_on_soft"].push_back(d.name);
  j["dependents"] = p.dependents;
  j["service_mappings"] = ordered_json::array();
  for (const auto& m : p.service_mappings) {
    j["service_mappings"].push_back({{"from", m.from},
                                     {"to", m.to.empty() ? ordered_json(nullptr) : ordered_json(m.to)},
                                     {"complexity", m.complexity},
                                     {"provider", m.provider},
                                     {"category", m.category},
                                     {"proprietary", m.proprietary},
                                     {"notes", m.notes}});
  }
  j["data_plan"] = ordered_json::array();
  for (const auto& d : p.data_plan) {
    j["data_plan"].push_back({{"name", d.store},
                              {"engine", d.engine},
                              {"size_gb", rounded(d.size_gb)},
                              {"size_assumed", d.size_assumed},
                              {"method", d.method},
                              {"transfer_hours", rounded(d.transfer_hours)},
                              {"copy_hours", rounded(d.copy_hours)},
                              {"downtime_minutes", rounded(d.downtime_minutes)},
                              {"downtime_budget_minutes", rounded(d.downtime_budget_minutes)},
                              {"fits_budget", d.fits_budget},
                              {"can_catch_up", d.can_catch_up},
                              {"appliance_recommended", d.appliance_recommended},
                              {"why", d.why}});
  }
  j["gravity"] = {{"score", rounded(p.gravity.score)},
                  {"level", p.gravity.level},
                  {"size_gb", rounded(p.gravity.size_gb)},
                  {"accesses_per_day", rounded(p.gravity.accesses_per_day)},
                  {"integrations", p.gravity.integrations},
                  {"explanation", p.gravity.explanation}};
  j["risks"] = ordered_json::array();
  for (const auto& r : p.risks) {
    j["risks"].push_back({{"id", r.id}, {"title", r.title}, {"severity", r.severity},
                          {"mitigation", r.mitigation}, {"source", r.source}});
  }
  j["checklist"] = ordered_json::array();
  for (const auto& c : p.checklist) j["checklist"].push_back({{"section", c.section}, {"item", c.item}});
  j["rollback_criteria"] = ordered_json::array();
  for (const auto& r : p.rollback) {
    j["rollback_criteria"].push_back({{"metric", r.metric}, {"threshold", r.threshold}, {"action", r.action}});
  }
  j["decisions"] = ordered_json::object();
  for (const auto& [name, result] : p.decisions) j["decisions"][name] = decision_json(result);
  j["sources"] = w.sources;
  return j;
}

}  // namespace

std::string render_json(const Plan& plan) {
  ordered_json j;
  j["ferry_assess_version"] = 1;
  j["defaults"] = {{"bandwidth_gbps", plan.defaults.bandwidth_gbps},
                   {"link_efficiency", plan.defaults.link_efficiency},
                   {"max_workloads_per_wave", plan.defaults.max_workloads_per_wave},
                   {"max_data_tb_per_wave", plan.defaults.max_data_tb_per_wave},
                   {"pilot_size", plan.defaults.pilot_size},
                   {"appliance_threshold_days", plan.defaults.appliance_threshold_days}};
  j["summary"] = {{"workloads", plan.workloads.size()},
                  {"waves", plan.waves.size()},
                  {"total_data_tb", rounded(plan.total_data_tb)},
                  {"total_days", rounded(plan.total_days)},
                  {"critical_path_days", rounded(plan.critical_path_days)}};
  j["workloads"] = ordered_json::array();
  for (const auto& p : plan.workloads) j["workloads"].push_back(workload_json(p));
  j["waves"] = ordered_json::array();
  for (const auto& wp : plan.waves) {
    ordered_json wave;
    wave["index"] = wp.wave.index;
    wave["label"] = wp.label;
    wave["workloads"] = ordered_json::array();
    for (size_t m : wp.wave.members) wave["workloads"].push_back(plan.workloads[m].workload->name);
    wave["data_tb"] = rounded(wp.wave.data_tb);
    wave["start_day"] = rounded(wp.wave.start_day);
    wave["duration_days"] = rounded(wp.wave.duration_days);
    wave["risks"] = ordered_json::array();
    for (const auto& r : wp.risks) {
      wave["risks"].push_back({{"title", r.title}, {"severity", r.severity}, {"workloads", r.workloads}});
    }
    j["waves"].push_back(std::move(wave));
  }
  j["cycles"] = plan.cycles;
  j["critical_path"] = {{"days", rounded(plan.critical_path_days)}, {"steps", plan.critical_path}};
  j["warnings"] = plan.warnings;
  return j.dump(2) + "\n";
}

}  // namespace ferry::assess
