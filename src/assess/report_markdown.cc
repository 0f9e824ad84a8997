#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "assess/report.h"
#include "core/text.h"
#include "core/two_halves.h"

namespace ferry::assess {

namespace {

std::string cell(std::string_view s) {
  std::string out = markdown_text(s);
  return out.empty() ? "-" : out;
}

// The anchor GitHub and most renderers give a heading: lowercase, spaces to
// hyphens, punctuation dropped (letters beyond ASCII kept).
std::string anchor(std::string_view heading) {
  std::string out;
  for (char c : heading) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || std::isalnum(u) || c == '-' || c == '_')
      out += static_cast<char>(std::tolower(u));
    else if (c == ' ')
      out += '-';
  }
  return out;
}

std::string server_text(const Server& s) {
  std::vector<std::string> parts;
  if (!s.ip.empty()) parts.push_back(s.ip);
  if (s.cpus) parts.push_back(fmt::format("{} cores", *s.cpus));
  if (s.ram_gb) parts.push_back(fmt::format("{:.0f} GB RAM", *s.ram_gb));
  if (!s.os.empty()) parts.push_back(s.os);
  return parts.empty() ? s.host : fmt::format("{} ({})", s.host, join(parts, ", "));
}

std::string names_of(const Plan& plan, const std::vector<size_t>& members) {
  std::vector<std::string> names;
  for (size_t m : members) names.push_back(plan.workloads[m].workload->name);
  return join(names, ", ");
}

void summary(const Plan& plan, std::string& out) {
  std::map<std::string, int> by_strategy;
  int low_confidence = 0;
  for (const auto& p : plan.workloads) {
    ++by_strategy[p.strategy];
    if (p.confidence <= 2) ++low_confidence;
  }
  std::vector<std::string> counts;
  for (const char* s : {"rehost", "replatform", "refactor", "repurchase", "retire", "retain"}) {
    if (by_strategy.count(s)) counts.push_back(fmt::format("{} {}", by_strategy[s], s));
  }
  out += "## Summary\n\n";
  out += fmt::format("- **{} workloads**: {}.\n", plan.workloads.size(), join(counts, ", "));
  out += fmt::format(
      "- **{:.1f} TB of data** over a {} Gbps link at {:.0f}% efficiency "
      "(1 TB takes {} at that rate).\n",
      plan.total_data_tb, plan.defaults.bandwidth_gbps, plan.defaults.link_efficiency * 100,
      hours_text(
          transfer_hours(1000, plan.defaults.bandwidth_gbps, plan.defaults.link_efficiency)));
  out += fmt::format("- **{} waves** from {}{}; see [Schedule](#schedule).\n", plan.waves.size(),
                     programme_text(plan), plan.start_assumed ? " (start assumed)" : "");
  out += fmt::format(
      "- **{} working days of build work** across {} team{} (a day of one team's "
      "parallel slot; multiply by the people per slot for person-days).\n",
      total_build_days(plan), plan.schedule.teams.size(),
      plan.schedule.teams.size() == 1 ? "" : "s");
  if (low_confidence > 0) {
    out += fmt::format(
        "- **{} workload{} rated confidence 2 or lower**: the inventory leaves too much to "
        "assumption; see [Assumptions](#assumptions).\n",
        low_confidence, low_confidence == 1 ? "" : "s");
  }
  if (!plan.warnings.empty()) {
    out += fmt::format(
        "- **{} warning{}** need a decision before wave planning is final; see "
        "[Warnings](#warnings).\n",
        plan.warnings.size(), plan.warnings.size() == 1 ? "" : "s");
  }
  out += "\n";
}

void what_if_section(const Plan& plan, std::string& out) {
  if (plan.what_if_settings.empty()) return;
  out += fmt::format(
      "## What if\n\nThis plan was made with `{}`. Compared with the inventory's own settings, "
      "{} thing{} changed:\n\n",
      join(plan.what_if_settings, " "), plan.what_if_changes.size(),
      plan.what_if_changes.size() == 1 ? "" : "s");
  out += changes_markdown(plan.what_if_changes) + "\n";
}

void strategy_table(const Plan& plan, std::string& out) {
  out += "## Strategy by workload\n\n";
  out +=
      "| Workload | Owner | Strategy | Confidence | Wave | Traffic pattern | Cutover | Main reason "
      "|\n";
  out += "|---|---|---|---|---|---|---|---|\n";
  for (const auto& p : plan.workloads) {
    const Workload& w = *p.workload;
    out += fmt::format("| [{}](#{}) | {} | **{}** | {}/5 | {} | {} | {} | {} |\n", cell(w.name),
                       anchor(w.name), cell(w.owner.value_or("")), p.strategy, p.confidence,
                       p.wave > 0 ? std::to_string(p.wave) : "not moving", cell(words(p.pattern)),
                       cell(words(p.cutover)), cell(p.reasons.empty() ? "" : p.reasons.front()));
  }
  out += "\n";
}

void waves_section(const Plan& plan, std::string& out) {
  out += "## Waves\n\n";
  out +=
      "Workloads in a dependency cycle move together; nothing moves before what it hard-depends "
      "on; "
      "wave 1 is a low-risk pilot that rehearses the runbook and the rollback; shared "
      "infrastructure "
      "follows as its own group. Waves respect the limits of " +
      fmt::format("{} workloads and {:.0f} TB each.\n\n", plan.defaults.max_workloads_per_wave,
                  plan.defaults.max_data_tb_per_wave);
  for (const auto& wp : plan.waves) {
    const Wave& w = wp.wave;
    const WaveTimes& t = plan.schedule.waves[static_cast<size_t>(w.index - 1)];
    out += fmt::format("### Wave {}: {} (cutover {})\n\n", w.index, wp.label,
                       span_text(plan, t.cutover_start, t.cutover_end));
    out += fmt::format("- Workloads: {}\n", names_of(plan, w.members));
    out += fmt::format("- Data: {}\n\n", w.data_tb > 0 ? size_text(w.data_tb * 1000) : "none");
    if (!wp.risks.empty()) {
      out +=
          "| Severity | Likelihood x impact | Risk | Owner | Status | Workloads |\n"
          "|---|---|---|---|---|---|\n";
      for (const auto& r : wp.risks) {
        out += fmt::format("| {} | {} x {} | {} | {} | {} | {} |\n", r.severity, r.likelihood,
                           r.impact, cell(r.title), cell(join(r.owners, ", ")),
                           r.mitigated ? "mitigated" : "open", cell(join(r.workloads, ", ")));
      }
      out += "\n";
    }
  }
  std::vector<std::string> staying;
  for (const auto& p : plan.workloads) {
    if (p.wave == 0) staying.push_back(fmt::format("{} ({})", p.workload->name, p.strategy));
  }
  if (!staying.empty()) out += "### Not moving\n\n" + join(staying, ", ") + "\n\n";
  if (!plan.cycles.empty()) {
    out += "### Dependency cycles\n\n";
    for (const auto& c : plan.cycles)
      out += "- " + join(c, " <-> ") + ": must cut over in one window\n";
    out += "\n";
  }
}

void schedule_section(const Plan& plan, std::string& out) {
  const ScheduleOptions& o = plan.schedule_options;
  out += "## Schedule\n\n";
  out +=
      fmt::format("**{}**{}.\n\n", programme_text(plan),
                  plan.start_assumed ? "; the start is assumed to be the Monday after today (set "
                                       "`defaults.start` or `--start`)"
                                     : "");
  out += fmt::format(
      "Days are working days (Monday to Friday). Mobilisation comes first ({} days: landing "
      "zone, network link, tooling). Each workload is then built by its team (its owner), {} "
      "at a time per team, earliest wave first; its data copy runs so that it finishes as its "
      "wave's cutover begins. Waves cut over one at a time ({} days each), so wave N+1 is "
      "built while wave N cuts over and wave N-1 is in hypercare; the first wave after the "
      "pilot waits for the pilot's lessons. After each cutover, {} days of hypercare keep the "
      "source read-only as the way back, then {} days decommission it.\n\n",
      o.mobilisation_days, o.team_capacity, o.cutover_days, o.hypercare_days, o.decommission_days);
  out += gantt_mermaid(plan) + "\n";
  out +=
      "| Wave | Group | Builds | Data copy | Cutover | Hypercare until | Source off |\n"
      "|---|---|---|---|---|---|---|\n";
  for (size_t i = 0; i < plan.waves.size(); ++i) {
    const WavePlan& wp = plan.waves[i];
    const WaveTimes& t = plan.schedule.waves[i];
    out +=
        fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", wp.wave.index, wp.label,
                    span_text(plan, t.build_start, t.build_end),
                    t.sync_start >= 0 ? span_text(plan, t.sync_start, t.sync_end) : "-",
                    span_text(plan, t.cutover_start, t.cutover_end),
                    date_text(plan, t.hypercare_end - 1), date_text(plan, t.decommission_end - 1));
  }
  out += fmt::format(
      "\n### Critical path\n\n{}.\n\nDelaying any step of it delays the end; anything "
      "else has slack.\n\n",
      markdown_text(critical_path_text(plan)));
  out += "### Teams\n\n| Team | Workloads | Build days | Busy until |\n|---|---|---|---|\n";
  for (const auto& team : plan.schedule.teams) {
    out += fmt::format("| {} | {} | {} | {} |\n", cell(team.name), team.workloads, team.build_days,
                       date_text(plan, std::max(0, team.busy_until - 1)));
  }
  out += "\n";
}

void data_section(const Plan& plan, std::string& out) {
  out += "## Data migration\n\n";
  out += fmt::format(
      "Transfer time = bytes / (bandwidth x efficiency) = size x 8 / ({} Gbps x {}). "
      "Dump and restore is chosen only when it fits the downtime budget; otherwise the "
      "data is copied while the source serves and kept in sync until a short cutover.\n\n",
      plan.defaults.bandwidth_gbps, plan.defaults.link_efficiency);
  out += "| Workload | Store | Engine | Size | Method | Copy time | Downtime | Budget | Why |\n";
  out += "|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& p : plan.workloads) {
    for (const auto& d : p.data_plan) {
      out += fmt::format(
          "| {} | {} | {} | {}{} | {} | {} | {}{} | {:.0f} min | {} |\n", p.workload->name,
          cell(d.store), cell(d.engine), size_text(d.size_gb), d.size_assumed ? " (assumed)" : "",
          method_label(d.method), copy_text(d), hours_text(d.downtime_minutes / 60),
          d.fits_budget ? "" : " **over budget**", d.downtime_budget_minutes, cell(d.why));
    }
  }
  out += "\n";
}

void mapping_section(const Plan& plan, std::string& out) {
  out += "## Service mapping\n\n";
  out +=
      "| Workload | Cloud service | Open / sovereign equivalent | Complexity | Notes "
      "|\n|---|---|---|---|---|\n";
  for (const auto& p : plan.workloads) {
    for (const auto& m : p.service_mappings) {
      out += fmt::format("| {} | {} | {} | {}{} | {} |\n", p.workload->name, cell(m.from),
                         m.to.empty() ? "**not in catalog**" : cell(m.to), m.complexity,
                         m.proprietary ? " (code change)" : "", cell(m.notes));
    }
  }
  out += "\n";
}

void gravity_section(const Plan& plan, std::string& out) {
  std::vector<const WorkloadPlan*> heavy;
  for (const auto& p : plan.workloads) {
    if (p.gravity.size_gb > 0) heavy.push_back(&p);
  }
  std::stable_sort(heavy.begin(), heavy.end(), [](const WorkloadPlan* a, const WorkloadPlan* b) {
    return a->gravity.score > b->gravity.score;
  });
  out += "## Data gravity\n\n";
  out +=
      "Migration difficulty = data size x access frequency x integration count. The score is "
      "log10 of that product, so each point is ten times more pull.\n\n";
  out +=
      "| Workload | Gravity | Level | Size | Accesses/day | Integrations "
      "|\n|---|---|---|---|---|---|\n";
  for (const WorkloadPlan* p : heavy) {
    out += fmt::format("| {} | {:.1f} | {} | {} | {:.0f} | {} |\n", p->workload->name,
                       p->gravity.score, p->gravity.level, size_text(p->gravity.size_gb),
                       p->gravity.accesses_per_day, p->gravity.integrations);
  }
  out += "\n";
}

// "every workload that moves" rather than thirty names, when that is what it is.
std::string applies_to(const Plan& plan, const std::vector<std::string>& names) {
  const auto moving = std::count_if(plan.workloads.begin(), plan.workloads.end(),
                                    [](const WorkloadPlan& p) { return p.wave > 0; });
  if (names.size() == plan.workloads.size()) return "all workloads";
  if (static_cast<long>(names.size()) == moving) return "every workload that moves";
  return join(names, ", ");
}

void checklist_section(const Plan& plan, std::string& out) {
  out += "## Pre-migration checklist\n\n";
  out +=
      "What must be ready before a workload moves; each item names the workloads it applies "
      "to.\n\n";
  for (const char* section : {"technical", "data", "operational"}) {
    std::vector<std::pair<std::string, std::vector<std::string>>> items;
    for (const auto& p : plan.workloads) {
      for (const auto& c : p.checklist) {
        if (c.section != section) continue;
        auto it = std::find_if(items.begin(), items.end(),
                               [&](const auto& e) { return e.first == c.item; });
        if (it == items.end())
          items.push_back({c.item, {p.workload->name}});
        else
          it->second.push_back(p.workload->name);
      }
    }
    if (items.empty()) continue;
    out += fmt::format("### {} readiness\n\n", section == std::string("technical") ? "Technical"
                                               : section == std::string("data")    ? "Data"
                                                                                   : "Operational");
    for (const auto& [item, names] : items) {
      out += fmt::format("- [ ] {} ({})\n", item, applies_to(plan, names));
    }
    out += "\n";
  }
}

void rollback_section(const Plan& plan, std::string& out) {
  out += "## Rollback criteria\n\n";
  out += "| Metric | Threshold | Action | Applies to |\n|---|---|---|---|\n";
  std::vector<std::pair<const RollbackRule*, std::vector<std::string>>> rows;
  for (const auto& p : plan.workloads) {
    for (const auto& r : p.rollback) {
      auto it = std::find_if(rows.begin(), rows.end(), [&](const auto& e) {
        return e.first->metric == r.metric && e.first->threshold == r.threshold;
      });
      if (it == rows.end())
        rows.push_back({&r, {p.workload->name}});
      else
        it->second.push_back(p.workload->name);
    }
  }
  for (const auto& [r, names] : rows) {
    out += fmt::format("| {} | {} | {} | {} |\n", cell(r->metric), cell(r->threshold),
                       cell(r->action), cell(applies_to(plan, names)));
  }
  out += "\n";
}

// One workload's section: what it is, its decisions with their traces, its
// data plan and risks.
void workload_detail(const WorkloadPlan& p, std::string& out) {
  const Workload& w = *p.workload;
  out += fmt::format("### {}\n\n", markdown_text(w.name));
  if (w.description) out += markdown_text(*w.description) + "\n\n";
  std::vector<std::string> facts;
  if (w.kind) facts.push_back("kind " + *w.kind);
  if (w.technology) facts.push_back(*w.technology);
  if (w.owner) facts.push_back("owner " + *w.owner);
  if (w.criticality) facts.push_back(*w.criticality + " criticality");
  if (w.data_classification) facts.push_back(*w.data_classification + " data");
  if (w.wave_hint) facts.push_back(fmt::format("wave {} in the source inventory", *w.wave_hint));
  if (!w.servers.empty())
    facts.push_back(fmt::format("{} server{}", w.servers.size(), w.servers.size() == 1 ? "" : "s"));
  if (!facts.empty()) out += "- " + markdown_text(join(facts, "; ")) + "\n";
  out += fmt::format("- **{}**, confidence {}/5, {}; traffic pattern {}, cutover {}\n", p.strategy,
                     p.confidence, p.wave > 0 ? fmt::format("wave {}", p.wave) : "not moving",
                     words(p.pattern), words(p.cutover));
  if (p.wave > 0) {
    out += fmt::format("- Build: {}, by {}{}\n", markdown_text(p.effort_explanation),
                       markdown_text(p.team),
                       p.sync_days > 0 ? fmt::format("; data copy {} working day{} before the "
                                                     "cutover",
                                                     p.sync_days, p.sync_days == 1 ? "" : "s")
                                       : "");
  }
  if (!w.depends_on.empty() || !w.depends_on_soft.empty()) {
    std::vector<std::string> deps;
    for (const auto& d : w.depends_on) deps.push_back(d.name);
    for (const auto& d : w.depends_on_soft) deps.push_back(d.name + " (soft)");
    out += "- Depends on: " + markdown_text(join(deps, ", ")) + "\n";
  }
  if (!p.dependents.empty()) out += "- Used by: " + markdown_text(join(p.dependents, ", ")) + "\n";
  if (!w.tags.empty()) out += "- Tags: " + markdown_text(join(w.tags, ", ")) + "\n";
  if (!w.from_tags.empty())
    out += "- Read from its tags: " + markdown_text(join(w.from_tags, "; ")) + "\n";
  for (const auto& server : w.servers)
    out += "- Server: " + markdown_text(server_text(server)) + "\n";
  out += fmt::format("- Data gravity: {} ({})\n\n", p.gravity.level, p.gravity.explanation);
  out += "Why " + p.strategy + ":\n\n";
  for (const auto& r : p.reasons) out += "- " + r + "\n";
  out += "\n";
  for (const auto& [name, result] : p.decisions) {
    out += fmt::format("<details><summary>Decision trace: {} = {}</summary>\n\n", name,
                       words(result.choice));
    out += "| Rule | Votes | Inputs read |\n|---|---|---|\n";
    for (const auto& vote : result.fired) {
      std::vector<std::string> votes, inputs;
      for (const auto& [option, weight] : vote.rule->votes)
        votes.push_back(fmt::format("{} {:+g}", option, weight));
      for (const auto& in : vote.inputs)
        inputs.push_back(std::string(in.fact) + "=" + in.value + (in.assumed ? " (assumed)" : ""));
      out += fmt::format("| {} | {} | {} |\n", vote.rule->id, join(votes, ", "),
                         cell(join(inputs, ", ")));
    }
    std::vector<std::string> scores;
    for (const auto& [option, score] : result.scores)
      scores.push_back(fmt::format("{} {:g}", option, score));
    out += fmt::format("\nTotals: {}{}\n\n</details>\n\n",
                       scores.empty() ? "no votes" : join(scores, ", "),
                       result.fell_back ? " (no rule applied; fallback)" : "");
  }
  if (!p.risks.empty()) {
    out +=
        "| Severity | Likelihood x impact | Risk | Owner | Mitigation |\n"
        "|---|---|---|---|---|\n";
    for (const auto& r : p.risks) {
      out +=
          fmt::format("| {} | {} x {} | {} | {} | {} |\n", r.severity, r.likelihood, r.impact,
                      cell(r.title), cell(r.owner),
                      r.mitigated ? "**mitigated**: " + cell(r.mitigated_by) : cell(r.mitigation));
    }
    out += "\n";
  }
}

// Most of a large plan's markdown: two threads write one half each.
void workload_details(const Plan& plan, std::string& out) {
  out += "## Workloads in detail\n\n";
  std::string later;
  in_two_halves(plan.workloads.size(), kWorkloadsWorthAThread,
                [&](size_t from, size_t to, int part) {
                  for (size_t i = from; i < to; ++i)
                    workload_detail(plan.workloads[i], part == 0 ? out : later);
                });
  out += later;
}

void assumptions_section(const Plan& plan, std::string& out) {
  out += "## Assumptions\n\n";
  out +=
      "Where the inventory was silent the plan used these values (from the rules' assumptions). "
      "Filling them in raises the confidence rating.\n\n";
  out += "| Workload | Confidence | Assumed |\n|---|---|---|\n";
  bool any = false;
  for (const auto& p : plan.workloads) {
    if (p.assumptions.empty()) continue;
    any = true;
    std::vector<std::string> items;
    for (const auto& a : p.assumptions) items.push_back(a.fact + "=" + a.value);
    out += fmt::format("| {} | {}/5 | {} |\n", p.workload->name, p.confidence,
                       cell(join(items, ", ")));
  }
  if (!any) out += "| - | - | nothing: every input was given |\n";
  out += "\n";
}

}  // namespace

std::string changes_markdown(const std::vector<PlanChange>& changes) {
  if (changes.empty()) return "None.\n";
  std::string out = "| Subject | Change | Before | After |\n|---|---|---|---|\n";
  for (const auto& c : changes) {
    out += fmt::format("| {} | {} | {} | {} |\n", cell(c.subject), cell(c.field), cell(c.before),
                       cell(c.after));
  }
  return out;
}

std::string render_markdown(const Plan& plan) {
  std::string out = "# Migration plan\n\n";
  out += fmt::format(
      "Generated by `ferry assess` from {}. Every decision below shows the rules that made "
      "it and the inputs they read; rules: `{}`, service catalog: `{}`.\n\n",
      join(input_files(plan), ", "), plan.rules_source, plan.catalog_source);
  summary(plan, out);
  what_if_section(plan, out);
  strategy_table(plan, out);
  waves_section(plan, out);
  schedule_section(plan, out);
  data_section(plan, out);
  mapping_section(plan, out);
  gravity_section(plan, out);
  checklist_section(plan, out);
  rollback_section(plan, out);
  workload_details(plan, out);
  assumptions_section(plan, out);
  out += "## Warnings\n\n";
  if (plan.warnings.empty()) out += "None.\n";
  for (const auto& w : plan.warnings) out += "- " + markdown_text(w) + "\n";
  return out;
}

}  // namespace ferry::assess
