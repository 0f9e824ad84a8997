// One run plan's text: a header a person can act on (where the plan came
// from, when to run it, what to fill in, how each rollback criterion is
// checked), then the plan in the shape docs/run.md describes.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "assess/emit_runs.h"
#include "assess/report.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

// The default of `ferry run`'s cutover (run/default_steps.h): long enough
// for ferry db cutover's switch, which takes about a second.
constexpr const char* kHold = "5s";
// The pools the header's proxy example names; the cutover moves the route to
// the new one.
constexpr const char* kNewPool = "modern";
constexpr int kWidth = 80;

std::optional<double> percent_in(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) continue;
    size_t end = i;
    while (end < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) {
      ++end;
    }
    if (end < text.size() && text[end] == '%') return parse_double(text.substr(i, end - i));
    i = end;
  }
  return std::nullopt;
}

bool is_error_rate(const RollbackRule& r) {
  return to_lower(r.metric).find("error rate") != std::string::npos;
}

bool is_latency(const RollbackRule& r) {
  const std::string text = to_lower(r.metric + " " + r.threshold);
  return text.find("latency") != std::string::npos || text.find("p99") != std::string::npos;
}

// Text for a comment or a quoted string: one line.
std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

// `text` as comment lines of at most kWidth columns: the first starts with
// `first`, the others with `next`.
std::string comment(const std::string& text, const std::string& first = "# ",
                    const std::string& next = "# ") {
  std::string out, line = first;
  bool fresh = true;
  for (const std::string& word : split_trimmed(one_line(text), " ")) {
    if (!fresh && line.size() + 1 + word.size() > kWidth) {
      out += line + "\n";
      line = next;
      fresh = true;
    }
    line += (fresh ? "" : " ") + word;
    fresh = false;
  }
  return out + std::string(trim(line)) + "\n";
}

// A YAML double-quoted string.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : one_line(text)) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

// A name as a YAML scalar: bare unless YAML would read it as something else.
std::string scalar(const std::string& name) {
  static const std::vector<std::string> kSpecial{"true", "false", "yes", "no", "on",
                                                 "off",  "null",  "y",   "n",  "~"};
  const bool plain = !name.empty() && std::isalpha(static_cast<unsigned char>(name[0])) &&
                     std::find(kSpecial.begin(), kSpecial.end(), name) == kSpecial.end();
  return plain ? name : quoted(name);
}

// A line of YAML with a comment after it, the comments of a block aligned.
std::string with_comment(const std::string& yaml, const std::string& why) {
  return fmt::format("{:<38}# {}\n", yaml + " ", why);
}

std::string seconds_text(int64_t seconds) { return duration_text(seconds * 1000); }

std::string strongest_reason(const WorkloadPlan& p, const std::string& decision) {
  for (const auto& [name, result] : p.decisions) {
    if (name != decision) continue;
    const Vote* best = nullptr;
    double weight = 0;
    for (const Vote& vote : result.fired) {
      const auto it = vote.rule->votes.find(result.choice);
      if (it != vote.rule->votes.end() && it->second > weight) {
        best = &vote;
        weight = it->second;
      }
    }
    return best ? best->because : "no rule applied: the default";
  }
  return "";
}

// Everything the plan and its header need about the workloads around it.
struct Context {
  const Plan& plan;
  const RunPlan& run;
  const EmittedRuns& runs;
  const EmitRunsOptions& options;
  const WorkloadPlan& workload;
  std::string path;    // the plan file as the user reaches it
  std::string window;  // its wave's cutover window

  const WaveTimes& times() const {
    return plan.schedule.waves[static_cast<size_t>(workload.wave - 1)];
  }
  std::string name_of(size_t i) const { return plan.workloads[i].workload->name; }
  // "billing (wave 7, wave-07-billing.yaml)"
  std::string with_plan(const std::string& name) const {
    for (const RunPlan& r : runs.plans) {
      if (name_of(r.workload) != name) continue;
      return fmt::format("{} (wave {}, {})", name, plan.workloads[r.workload].wave, r.file);
    }
    for (size_t i = 0; i < plan.workloads.size(); ++i) {
      if (name_of(i) == name) return fmt::format("{} (wave {})", name, plan.workloads[i].wave);
    }
    return name;
  }
  // The moving workloads that use the plan's databases from elsewhere;
  // `same_wave`: only those cutting over in its wave.
  std::vector<std::string> users(bool same_wave = false) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < plan.workloads.size(); ++i) {
      const WorkloadPlan& p = plan.workloads[i];
      if (p.wave == 0 || i == run.workload) continue;
      if (same_wave && p.wave != workload.wave) continue;
      for (const RunDatabase& db : run.databases) {
        const auto& deps = plan.workloads[db.owner].dependents;
        if (std::find(deps.begin(), deps.end(), p.workload->name) != deps.end()) {
          out.push_back(p.workload->name);
          break;
        }
      }
    }
    return out;
  }
  std::vector<RollbackRule> criteria() const {
    std::vector<RollbackRule> out;
    auto add = [&](const WorkloadPlan& p) {
      for (const RollbackRule& r : p.rollback) {
        const bool known = std::any_of(out.begin(), out.end(),
                                       [&](const RollbackRule& o) { return o.metric == r.metric; });
        if (!known) out.push_back(r);
      }
    };
    add(workload);
    for (size_t j : run.carried) add(plan.workloads[j]);
    return out;
  }
};

std::string when_text(const Context& c) {
  const WaveTimes& t = c.times();
  std::string out;
  if (!c.run.databases.empty()) {
    std::vector<std::string> copies;
    int sync_start = -1;
    for (const RunDatabase& db : c.run.databases) {
      const DataPlanItem& item = c.plan.workloads[db.owner].data_plan[db.item];
      copies.push_back(fmt::format("{} {}", item.store, copy_text(item)));
      for (const ScheduleTask& task : c.plan.schedule.tasks) {
        if (task.kind != TaskKind::kSync || task.workload != static_cast<int>(db.owner)) continue;
        if (sync_start < 0 || task.start < sync_start) sync_start = task.start;
      }
    }
    out += fmt::format(
        "The copy comes first and changes nothing users see (assess's estimate: {}). {} The "
        "run then waits at its approval for the window. Hypercare until {}: keep the way back "
        "open (the reverse stream runs, the source stays read-only); the source is switched "
        "off by {}.",
        join(copies, ", "),
        sync_start >= 0 ? "The schedule starts it on " + date_text(c.plan, sync_start) + "."
                        : "Start the run a little before the window.",
        date_text(c.plan, t.hypercare_end - 1), date_text(c.plan, t.decommission_end - 1));
  } else {
    out += fmt::format(
        "Start it in the window: it waits at its approval before it moves any traffic. "
        "Hypercare until {}: keep the old deployment running, the way back for its traffic; it "
        "is switched off by {}.",
        date_text(c.plan, t.hypercare_end - 1), date_text(c.plan, t.decommission_end - 1));
  }
  if (c.plan.start_assumed) {
    out += fmt::format(" (The inventory gives no start date: dates count from {}.)",
                       date_text(c.plan, 0));
  }
  return out;
}

std::string why_text(const Context& c) {
  const WorkloadPlan& p = c.workload;
  // The style comes from the data when the plan carries a database
  // workload's: its size and users decide it.
  std::string cutover_reason = strongest_reason(p, "cutover");
  for (auto j = c.run.carried.rbegin(); j != c.run.carried.rend(); ++j) {
    const WorkloadPlan& db = c.plan.workloads[*j];
    if ((db.cutover == "layer_by_layer") == c.run.layer_by_layer) {
      cutover_reason = db.workload->name + ": " + strongest_reason(db, "cutover");
    }
  }
  std::string out =
      fmt::format("Strategy {} (confidence {}/5): {}. Cut over {}: {}.", p.strategy, p.confidence,
                  p.reasons.empty() ? "" : p.reasons.front(),
                  c.run.layer_by_layer ? "layer by layer" : "all at once", cutover_reason);
  if (!c.run.route.empty()) {
    out += fmt::format(" Traffic: {}: {}.", words(p.pattern), strongest_reason(p, "pattern"));
  }
  return out;
}

std::vector<std::string> data_paragraphs(const Context& c) {
  std::vector<std::string> out;
  for (const RunDatabase& db : c.run.databases) {
    const WorkloadPlan& owner = c.plan.workloads[db.owner];
    const DataPlanItem& item = owner.data_plan[db.item];
    std::string text = fmt::format(
        "{}{} (PostgreSQL, {}{}{}): assess chose {}: {}. ferry moves it online whatever the "
        "method: ferry db clone copies it while the source serves, ferry db follow streams the "
        "changes, and the cutover pauses writes for seconds.",
        item.store, db.owner == c.run.workload ? "" : " of " + owner.workload->name,
        size_text(item.size_gb), item.size_assumed ? " assumed" : "",
        item.change_rate_gb_per_day > 0
            ? fmt::format(", {:g} GB/day of changes", item.change_rate_gb_per_day)
            : "",
        method_label(item.method), item.why);
    if (!item.can_catch_up) {
      text +=
          " Warning: it changes faster than the link carries, so the follow can never catch "
          "up; widen the link first.";
    }
    if (item.appliance_recommended) {
      text +=
          " assess recommends a transfer appliance for the bulk; ferry db clone copies over "
          "the network.";
    }
    out.push_back(text);
  }
  for (size_t j : c.run.carried) {
    out.push_back(fmt::format(
        "{} moves in this plan because {} is the only workload that uses it and both cut over "
        "in wave {}: the cutover holds the requests of {} while the database switches.",
        c.name_of(j), c.workload.workload->name, c.workload.wave, c.workload.workload->name));
  }
  const std::vector<std::string> users = c.users();
  const std::vector<std::string> first = c.users(true);
  if (c.run.route.empty() && !c.run.databases.empty()) {
    std::vector<std::string> listed;
    for (const auto& u : users) listed.push_back(c.with_plan(u));
    std::string why = "several workloads use it";
    if (users.empty()) {
      why = "no moving workload uses it";
    } else if (users.size() == 1) {
      why = first.empty() ? "its user moves in another wave"
                          : "its user has no route whose requests the proxy could hold";
    }
    out.push_back(fmt::format(
        "No route: {}, so this plan moves the data only and nothing holds requests at the "
        "switch; the workloads that use it must reconnect to the target then ({}): give the "
        "cutover then: and rollback_then: hooks that repoint them.{}",
        why, listed.empty() ? "none moving" : join(listed, ", "),
        c.run.layer_by_layer && !first.empty()
            ? " Layer by layer: approve the cutover once the traffic of " + join(first, " and ") +
                  " runs on the new side."
            : ""));
  }
  for (const RunExclusion& x : c.runs.exclusions) {
    const bool ours =
        x.workload == c.run.workload ||
        std::find(c.run.carried.begin(), c.run.carried.end(), x.workload) != c.run.carried.end();
    if (ours)
      out.push_back(
          fmt::format("Not in this plan: {} of {}: {}.", x.what, c.name_of(x.workload), x.reason));
  }
  return out;
}

std::string variables_text(const Context& c) {
  std::string out = "# Set before running (the plan holds no secrets):\n";
  for (const RunDatabase& db : c.run.databases) {
    const std::string store = c.plan.workloads[db.owner].data_plan[db.item].store;
    out += fmt::format("#   {}_SOURCE_URI  where {} is now, e.g. postgres://USER@OLD-HOST/DB\n",
                       db.variable, store);
    out += fmt::format(
        "#   {}_TARGET_URI  its new, empty database, e.g. postgres://USER@NEW-HOST/DB\n",
        db.variable);
  }
  if (!c.run.route.empty()) {
    out += "#   FERRY_ADMIN_TOKEN  the proxy's admin token, if it has one (or proxy.token_file)\n";
  }
  return out;
}

// The route the plan needs in the proxy's config, for the pattern chosen.
std::string proxy_text(const Context& c, const WatchSettings& w) {
  const std::string& route = c.run.route;
  const bool rollout = c.run.layer_by_layer || c.run.databases.empty();
  std::string out = comment(fmt::format(
      "The proxy. proxy.admin below is the admin.listen of a running `ferry proxy` in front of "
      "the old and new deployments of {}, with a route named {} whose split has both "
      "(docs/proxy.md){}",
      c.workload.workload->name, route,
      rollout ? " and a rollout to the new one, for example:" : ", for example:"));
  // Each step long enough for two of the analysis' windows at this traffic.
  const std::string pause = seconds_text(std::max<int64_t>(600, 2 * w.interval_seconds));
  std::string steps = fmt::format(
      "[ {{ weight: 10, pause: {0} }}, {{ weight: 50, pause: {0} }}, {{ weight: 90, pause: {0} "
      "}}, {{ weight: 100 }} ]",
      pause);
  std::string note;
  const std::string& pattern = c.workload.pattern;
  if (pattern == "lift_and_shift") {
    steps = "[ { weight: 100 } ]";
    note = "Lift and shift: the rollout is one switch, judged by the watch after it.";
  } else if (pattern == "parallel_run") {
    note =
        "Parallel run: before this run, add mirror: { pool: modern, percent: 100 } to the "
        "route and compare the answers (docs/proxy.md, \"Parallel run\") for as long as it "
        "takes to trust them.";
  } else if (pattern == "strangler_fig") {
    note =
        "Strangler fig: a route per slice of paths (match: { path_prefix: ... }), each moved "
        "on its own; this plan moves the first, copy it for the next.";
  }
  out += "#   - name: " + route + "\n";
  out += "#     match: { host: " + route + ".example }   # what reaches it today\n";
  out += "#     split: [ { pool: legacy, weight: 100 }, { pool: modern, weight: 0 } ]\n";
  if (rollout) {
    out += "#     rollout:\n#       to: modern\n#       steps: " + steps + "\n";
    out += fmt::format(
        "#       analysis: {{ interval: {}, max_error_rate_increase: {:g}, max_p99_ratio: {:g},\n"
        "#                   min_requests: {}, inconclusive_for: {} }}\n",
        seconds_text(w.interval_seconds), w.max_error_rate_increase, w.max_p99_ratio,
        w.min_requests, seconds_text(std::max<int64_t>(600, 2 * w.interval_seconds)));
  } else {
    note =
        "All at once: the cutover moves all of the route's traffic to the pool modern as the "
        "database switches (a canary would need the new side on the old database first: "
        "that is layer by layer).";
  }
  if (!note.empty()) out += comment(note);
  return out;
}

std::string criteria_text(const Context& c, const WatchSettings& w) {
  std::string out =
      comment("Rollback criteria, from rollback_criteria in " +
              (c.plan.rules_source.empty() ? std::string("the rules") : c.plan.rules_source) + ":");
  const std::string abort = "ferry run abort " + c.path;
  for (const RollbackRule& r : c.criteria()) {
    std::string how;
    if (watch_checks(r) && !c.run.route.empty()) {
      how = is_error_rate(r)
                ? fmt::format("the watch checks it (max_error_rate_increase: {:g})",
                              w.max_error_rate_increase)
                : fmt::format("the watch checks it (max_p99_ratio: {:g})", w.max_p99_ratio);
      if (c.run.layer_by_layer || c.run.databases.empty()) how += ", and the rollout's analysis";
    } else if (watch_checks(r)) {
      how = "no route here: the watches of the plans of the workloads that use it check it";
    } else if (to_lower(r.metric).find("integrity") != std::string::npos &&
               c.run.databases.empty()) {
      how =
          "this plan moves no database: check the data that moves by other means (see Data); "
          "whoever finds errors runs " +
          abort + ", which sets the route back";
    } else if (to_lower(r.metric).find("integrity") != std::string::npos) {
      how =
          "the verify steps compare every row before and after the cutover; what is found "
          "later (reconciliation, the application's own checks) is for a person: " +
          abort + " walks the way back";
    } else {
      how = "ferry cannot see this: whoever declares it runs " + abort +
            ", which walks the way back at once";
    }
    out +=
        comment(fmt::format("- {}: {} ({}): {}.", r.metric, r.threshold, to_lower(r.action), how),
                "#   ", "#     ");
  }
  return out;
}

std::string header(const Context& c, const WatchSettings& w) {
  const WorkloadPlan& p = c.workload;
  std::vector<std::string> parts;
  parts.push_back(
      comment(fmt::format("ferry run plan for {}: wave {} ({}), cutover window {}.",
                          p.workload->name, p.wave,
                          c.plan.waves[static_cast<size_t>(p.wave - 1)].label, c.window)) +
      comment(fmt::format("Written by `ferry assess --emit-runs` from {}{}. A skeleton: fill in "
                          "what this header asks, check it, then run it in its window "
                          "(docs/run.md):",
                          join(c.options.inventories, ", "),
                          c.plan.what_if_settings.empty()
                              ? ""
                              : " (what if " + join(c.plan.what_if_settings, " ") + ")")) +
      "#   ferry run " + c.path + " --dry-run\n#   ferry run " + c.path + "\n");
  parts.push_back(comment("When. " + when_text(c)));
  parts.push_back(comment("Why. " + why_text(c)));
  for (const std::string& d : data_paragraphs(c)) parts.push_back(comment("Data. " + d));
  parts.push_back(variables_text(c));
  if (!c.run.route.empty()) parts.push_back(proxy_text(c, w));
  parts.push_back(criteria_text(c, w));
  if (!c.run.route.empty()) parts.push_back(comment("The watch's windows: " + w.traffic_note));
  return join(parts, "#\n");
}

std::string watch_step(const std::string& route, const WatchSettings& w) {
  std::string out = "  - watch:\n";
  out += "      for: " + seconds_text(w.for_seconds) + "\n";
  out += "      route: " + scalar(route) + "\n";
  out +=
      with_comment("      interval: " + seconds_text(w.interval_seconds), "each verdict's window");
  out += with_comment(fmt::format("      max_error_rate_increase: {:g}", w.max_error_rate_increase),
                      w.error_rate_from.empty() ? "points; ferry's default" : w.error_rate_from);
  out += with_comment(fmt::format("      max_p99_ratio: {:g}", w.max_p99_ratio),
                      w.p99_from.empty() ? "ferry's default" : w.p99_from);
  out += with_comment(fmt::format("      min_requests: {}", w.min_requests),
                      "a window with fewer gives no verdict");
  return out;
}

std::string cutover_step(const Context& c, const RunDatabase& db) {
  const DataPlanItem& item = c.plan.workloads[db.owner].data_plan[db.item];
  std::string out = "  - cutover:\n      database: " + scalar(db.name) + "\n";
  std::string app = "the new side of " + c.workload.workload->name;
  if (!c.run.route.empty()) {
    out += "      route: " + scalar(c.run.route) + "\n";
    out += with_comment(std::string("      to: ") + kNewPool, "the route's pool on the new side");
    out += with_comment(
        std::string("      hold_requests: ") + kHold,
        fmt::format("how long requests may wait while writes pause (seconds with ferry; assess "
                    "budgets {:g} min for {})",
                    item.downtime_minutes, method_label(item.method)));
  } else {
    const std::vector<std::string> users = c.users();
    app = users.empty() ? "its applications" : join(users, " and ");
  }
  out += with_comment("      reverse: true", "the way back: the target streams to the source");
  out += with_comment("      # then: ./use-target.sh", "at the switch: point " + app + " at it");
  out += with_comment("      # rollback_then: ./use-source.sh", "and back, if it is rolled back");
  return out;
}

std::string approve_message(const Context& c) {
  std::vector<std::string> names;
  for (const RunDatabase& db : c.run.databases) names.push_back(db.name);
  const std::string data = join(names, ", ") + " copied, followed and verified: ";
  const std::string& name = c.workload.workload->name;
  if (c.run.databases.empty()) return "move the traffic of " + name + " in its window, " + c.window;
  if (c.run.route.empty()) {
    const std::vector<std::string> first = c.users(true);
    return data + "cut it over in its window, " + c.window +
           (c.run.layer_by_layer && !first.empty()
                ? ", once the traffic of " + join(first, " and ") + " runs on the new side"
                : "");
  }
  return data + "move " + name + " in its window, " + c.window;
}

std::string body(const Context& c, const WatchSettings& w) {
  const RunPlan& run = c.run;
  std::string out = "name: " + scalar(run.name) + "\n";
  out += with_comment("state_dir: ./state/" + run.name, "its journal; never shared by two plans");
  if (!run.databases.empty()) {
    out += "databases:\n";
    for (const RunDatabase& db : run.databases) {
      out += fmt::format(
          "  {}: {{ source: \"${{{}_SOURCE_URI}}\", target: \"${{{}_TARGET_URI}}\"{} }}\n",
          scalar(db.name), db.variable, db.variable,
          run.route.empty() ? "" : ", route: " + scalar(run.route));
    }
  }
  if (!run.route.empty()) {
    out += with_comment("proxy: { admin: 127.0.0.1:9901 }", "your ferry proxy's admin.listen");
  }
  out += with_comment("on_failure: rollback", "walk the way back; pause: a person decides");
  out += "steps:\n";
  if (!run.databases.empty()) {
    out += "  # The copy, while the source keeps serving.\n";
    for (const RunDatabase& db : run.databases) {
      for (const char* kind : {"clone", "follow", "verify"}) {
        out += fmt::format("  - {}: {}\n", kind, scalar(db.name));
      }
    }
  }
  out += "  - approve: " + quoted(approve_message(c)) + "\n";
  if (!run.route.empty() && (run.layer_by_layer || run.databases.empty())) {
    out += run.databases.empty()
               ? "  # The traffic, step by step, judged by the rollout's analysis.\n"
               : "  # Layer by layer: the application first, on the old database, step by step.\n";
    out += "  - rollout: " + scalar(run.route) + "\n";
    if (!run.databases.empty()) out += watch_step(run.route, w);
  }
  if (!run.databases.empty()) {
    out += run.route.empty() ? "  # The switch: the target becomes the database of record.\n"
           : run.layer_by_layer
               ? "  # Then the data layer: the database switches under the moved traffic.\n"
               : "  # All at once: the database and the route's traffic switch together.\n";
    for (const RunDatabase& db : run.databases) out += cutover_step(c, db);
    for (const RunDatabase& db : run.databases) out += "  - verify: " + scalar(db.name) + "\n";
  }
  if (!run.route.empty()) out += watch_step(run.route, w);
  return out;
}

}  // namespace

bool watch_checks(const RollbackRule& criterion) {
  return (is_error_rate(criterion) || is_latency(criterion)) &&
         percent_in(criterion.threshold).has_value();
}

WatchSettings watch_settings(const std::vector<RollbackRule>& criteria,
                             std::optional<double> requests_per_day) {
  WatchSettings w;
  for (const RollbackRule& r : criteria) {
    if (!watch_checks(r)) continue;
    const double percent = *percent_in(r.threshold);
    if (is_error_rate(r)) {
      w.max_error_rate_increase = percent;
      w.error_rate_from = r.metric + " " + r.threshold;
    } else {
      w.max_p99_ratio = 1 + percent / 100;
      w.p99_from = r.metric + " " + r.threshold;
    }
  }
  if (!requests_per_day || *requests_per_day <= 0) {
    w.traffic_note = fmt::format(
        "the inventory gives no traffic figure, so they assume {} requests every {}s (about "
        "{:.0f} a day). On a quieter route lengthen interval and for: a watch that finds no "
        "window with a verdict fails.",
        w.min_requests, w.interval_seconds, w.min_requests * 86400.0 / w.interval_seconds);
    return w;
  }
  // Windows long enough to hold twice min_requests at the day's average
  // rate: a cutover window is usually a quiet hour.
  const double per_second = *requests_per_day / 86400;
  const double needed = 2.0 * static_cast<double>(w.min_requests) / per_second;
  if (needed > static_cast<double>(w.interval_seconds)) {
    w.interval_seconds = std::min<int64_t>(3600, static_cast<int64_t>(std::ceil(needed / 60)) * 60);
    w.for_seconds = std::max<int64_t>(w.for_seconds, 3 * w.interval_seconds);
  }
  const double expected = per_second * static_cast<double>(w.interval_seconds);
  w.min_requests = std::clamp<int64_t>(static_cast<int64_t>(expected / 2), 1, w.min_requests);
  w.traffic_note = fmt::format(
      "{:.0f} requests a day put about {:.0f} in each {} window at the day's average, and {} make "
      "a "
      "verdict.",
      *requests_per_day, expected, seconds_text(w.interval_seconds), w.min_requests);
  if (w.min_requests < 20) {
    w.traffic_note +=
        " Too few to judge a 1-point error rate surely: watch the route yourself too.";
  }
  return w;
}

std::string run_plan_text(const Plan& plan, const RunPlan& run, const EmittedRuns& runs,
                          const EmitRunsOptions& options) {
  const WorkloadPlan& p = plan.workloads[run.workload];
  const WaveTimes& t = plan.schedule.waves[static_cast<size_t>(p.wave - 1)];
  const Context c{plan,
                  run,
                  runs,
                  options,
                  p,
                  options.dir.empty() ? run.file : options.dir + "/" + run.file,
                  span_text(plan, t.cutover_start, t.cutover_end)};
  const WatchSettings w = watch_settings(c.criteria(), p.workload->requests_per_day);
  return header(c, w) + "\n" + body(c, w);
}

}  // namespace ferry::assess
