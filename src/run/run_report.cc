#include "run/run_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/json_writer.h"
#include "core/text.h"
#include "run/route_metrics.h"

namespace ferry::run {

namespace {

// Events that decided or changed something: the report's list of decisions.
const std::set<std::string> kDecisions = {"command",
                                          "step_failed",
                                          "undo_started",
                                          "undo_done",
                                          "undo_failed",
                                          "rolled_back",
                                          "rollout_started",
                                          "rollout_restarted",
                                          "rollout_step",
                                          "verify_result",
                                          "hold",
                                          "release",
                                          "weights_changed",
                                          "watch_verdict",
                                          "follow_started",
                                          "reverse_follow_started",
                                          "interrupted",
                                          "done"};

std::string time_text(double at) { return at > 0 ? iso_time(at) : ""; }

ReportPool pool_of(const std::string& name, const proxy::SideCounts& c) {
  return {name, c.requests, c.errors, c.error_rate_percent(), c.p99_ms()};
}

// Each pool's window between two readings; a pool missing from the first
// had served nothing yet.
ReportPhase phase_between(const std::string& phase, const PoolCounts& from, const PoolCounts& to) {
  ReportPhase out{phase, {}};
  for (const auto& [pool, later] : to) {
    const auto earlier = from.find(pool);
    const proxy::SideCounts start = earlier == from.end() ? proxy::SideCounts{} : earlier->second;
    if (!counts_follow(start, later)) continue;  // the proxy restarted in between
    const proxy::SideCounts window = later - start;
    if (window.requests > 0) out.pools.push_back(pool_of(pool, window));
  }
  return out;
}

std::string seconds_text(double s) {
  if (s < 60) return fmt::format("{:.1f} s", s);
  return fmt::format("{}m{:02}s", static_cast<int64_t>(s) / 60, static_cast<int64_t>(s) % 60);
}

const char* kHeldOrder[] = {"held",   "released", "timed_out", "client_gone",
                            "p50_ms", "p99_ms",   "max_ms",    "held_for_ms"};

std::string held_text(const RunReport& r) {
  if (r.held.empty()) return "none (no cutover held requests)";
  return fmt::format(
      "{} requests waited (p50 {} ms, p99 {} ms, max {} ms); {} answered 503 after "
      "the timeout, {} clients gave up",
      r.held.at("held"), r.held.at("p50_ms"), r.held.at("p99_ms"), r.held.at("max_ms"),
      r.held.at("timed_out"), r.held.at("client_gone"));
}

std::string unavailable_text(const RunReport& r) {
  if (r.write_unavailable_seconds.empty()) return "none (no database was switched)";
  std::vector<std::string> parts;
  for (double s : r.write_unavailable_seconds) parts.push_back(fmt::format("{:.2f} s", s));
  return join(parts, ", ");
}

std::string error_rate_text(int64_t requests, int64_t errors) {
  if (requests == 0) return "no requests";
  return fmt::format("{} requests, {} errors ({:.3f} %)", requests, errors,
                     100.0 * static_cast<double>(errors) / static_cast<double>(requests));
}

}  // namespace

std::map<std::string, std::string> parse_fields(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const size_t eq = text.find('=', i);
    const size_t space = text.find(' ', i);
    if (eq == std::string_view::npos || (space != std::string_view::npos && space < eq)) {
      i = space == std::string_view::npos ? text.size() : space + 1;  // a word, not a field
      continue;
    }
    const std::string key(text.substr(i, eq - i));
    i = eq + 1;
    std::string value;
    if (i < text.size() && text[i] == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i];
      }
      ++i;
    } else {
      const size_t end = text.find(' ', i);
      value = std::string(text.substr(i, end == std::string_view::npos ? text.npos : end - i));
      i = end == std::string_view::npos ? text.size() : end;
    }
    out[key] = value;
  }
  return out;
}

Result<RunReport> gather_report(const Plan& plan, const RunJournal& journal) {
  RunReport r;
  r.name = plan.name;
  r.plan_file = plan.file;
  auto view = journal.view(plan);
  if (!view) return tl::unexpected(view.error());
  r.state = run_state_name(*view);
  r.why = view->why;
  auto steps = journal.steps();
  if (!steps) return tl::unexpected(steps.error());
  r.steps = std::move(*steps);
  for (const StepRecord& s : r.steps) {
    if (s.started_at > 0 && (r.started_at == 0 || s.started_at < r.started_at)) {
      r.started_at = s.started_at;
    }
    r.ended_at = std::max(r.ended_at, s.ended_at);
  }
  auto events = journal.events(100'000);
  if (!events) return tl::unexpected(events.error());
  for (const RunEventRecord& e : *events) {
    if (kDecisions.count(e.kind)) r.decisions.push_back(e);
    if (e.kind == "verify_result") {
      const auto f = parse_fields(e.detail);
      const auto at = [&](const char* k) { return f.count(k) ? f.at(k) : std::string("?"); };
      r.verifications.push_back(fmt::format(
          "step {}: {} ({} rows of {} tables; {} in flight, {} hot, {} real differences)",
          at("step"), at("ok") == "yes" ? "equal" : "DIFFERENT", at("rows"), at("tables"),
          at("in_flight"), at("tracking"), at("real")));
    }
  }
  // What the steps kept: write-unavailable times, holds, rows.
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const auto kept = [&](const std::string& name) -> std::string {
      auto v = journal.recall(fmt::format("step{}.{}", i + 1, name));
      return v ? *v : "";
    };
    for (const char* verb : {"cutover", "rollback"}) {
      if (auto s = parse_double(kept(std::string(verb) + "_write_unavailable_s")); s && *s >= 0) {
        r.write_unavailable_seconds.push_back(*s);
      }
    }
    r.rows_copied += static_cast<int64_t>(parse_double(kept("rows")).value_or(0));
    for (const char* hold : {"hold", "rollback_hold"}) {
      for (const auto& [k, v] : parse_fields(kept(hold))) {
        const auto n = static_cast<int64_t>(parse_double(v).value_or(0));
        const bool wait = k.size() > 3 && k.substr(k.size() - 3) == "_ms";
        r.held[k] = wait ? std::max(r.held[k], n) : r.held[k] + n;
      }
    }
  }
  // Each route's traffic per pool: before the run moved it, while it moved,
  // after the database was switched.
  std::set<std::string> routes;
  for (const PlanStep& s : plan.steps) {
    if (!s.route.empty()) routes.insert(s.route);
  }
  for (const std::string& route : routes) {
    const auto reading = [&](const char* label) -> std::optional<PoolCounts> {
      auto line = journal.recall(fmt::format("traffic.{}.{}", route, label));
      if (!line || line->empty()) return std::nullopt;
      return parse_pool_counts_line(*line);
    };
    const auto start = reading("start"), moved = reading("moved"), switched = reading("switched"),
               last = reading("last");
    if (!start || !last) continue;
    ReportRoute out{route, {}};
    out.phases.push_back(phase_between("before", *start, moved ? *moved : *last));
    if (moved) out.phases.push_back(phase_between("during", *moved, switched ? *switched : *last));
    if (switched) out.phases.push_back(phase_between("after", *switched, *last));
    if (counts_follow(total(*start), total(*last))) {
      const proxy::SideCounts all = total(*last) - total(*start);
      r.requests += all.requests;
      r.errors += all.errors;
    }
    r.traffic.push_back(std::move(out));
  }
  return r;
}

std::string render_report_markdown(const RunReport& r) {
  std::string out = fmt::format("# Migration report: {}\n\n", r.name);
  out +=
      fmt::format("Plan `{}`; **{}**{}. Started {}, ended {} ({}).\n\n", r.plan_file, r.state,
                  r.why.empty() ? "" : " (" + markdown_text(r.why) + ")", time_text(r.started_at),
                  time_text(r.ended_at), seconds_text(std::max(0.0, r.ended_at - r.started_at)));
  out += "## Summary\n\n| | |\n|---|---|\n";
  out +=
      fmt::format("| requests through the proxy | {} |\n", error_rate_text(r.requests, r.errors));
  out += fmt::format("| write-unavailable time | {} |\n", unavailable_text(r));
  out += fmt::format("| requests held | {} |\n", held_text(r));
  out += fmt::format("| rows copied | {} |\n", r.rows_copied);
  for (const auto& v : r.verifications) out += fmt::format("| verify | {} |\n", markdown_text(v));
  out += "\n## Timeline\n\n| # | step | target | state | started | took | what it did |\n";
  out += "|---|---|---|---|---|---|---|\n";
  for (const StepRecord& s : r.steps) {
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", s.index + 1, s.kind,
                       markdown_text(s.target), step_state_name(s.state), time_text(s.started_at),
                       s.started_at > 0 ? seconds_text(s.seconds()) : "", markdown_text(s.detail));
  }
  for (const ReportRoute& route : r.traffic) {
    out += fmt::format("\n## Traffic of route {}\n\n", route.route);
    out += "| phase | pool | requests | errors | error rate | p99 |\n|---|---|---|---|---|---|\n";
    for (const ReportPhase& phase : route.phases) {
      if (phase.pools.empty()) out += fmt::format("| {} | | 0 | | | |\n", phase.phase);
      for (const ReportPool& p : phase.pools) {
        out += fmt::format("| {} | {} | {} | {} | {:.3f} % | {:.1f} ms |\n", phase.phase, p.pool,
                           p.requests, p.errors, p.error_rate, p.p99_ms);
      }
    }
  }
  out += "\n## Decisions\n\n";
  for (const RunEventRecord& e : r.decisions) {
    out += fmt::format("- {} **{}** {}\n", time_text(e.at), e.kind, markdown_text(e.detail));
  }
  return out;
}

std::string render_report_json(const RunReport& r) {
  JsonWriter w;
  w.begin_object().field("name", r.name).field("plan", r.plan_file).field("state", r.state);
  w.field("why", r.why).field("started_at", time_text(r.started_at));
  w.field("ended_at", time_text(r.ended_at));
  w.field("seconds", std::max(0.0, r.ended_at - r.started_at));
  w.key("summary").begin_object().field("requests", r.requests).field("errors", r.errors);
  w.field("error_rate",
          r.requests > 0 ? 100.0 * static_cast<double>(r.errors) / static_cast<double>(r.requests)
                         : 0.0);
  w.key("write_unavailable_seconds").begin_array();
  for (double s : r.write_unavailable_seconds) w.value(s);
  w.end_array();
  w.field("rows_copied", r.rows_copied).key("held").begin_object();
  for (const char* k : kHeldOrder) w.field(k, r.held.count(k) ? r.held.at(k) : 0);
  w.end_object().field("verifications", r.verifications).end_object();
  w.key("steps").begin_array();
  for (const StepRecord& s : r.steps) {
    w.begin_object().field("index", static_cast<int64_t>(s.index + 1)).field("kind", s.kind);
    w.field("target", s.target).field("state", step_state_name(s.state));
    w.field("started_at", time_text(s.started_at)).field("ended_at", time_text(s.ended_at));
    w.field("seconds", s.seconds()).field("detail", s.detail).end_object();
  }
  w.end_array().key("traffic").begin_array();
  for (const ReportRoute& route : r.traffic) {
    w.begin_object().field("route", route.route).key("phases").begin_array();
    for (const ReportPhase& phase : route.phases) {
      w.begin_object().field("phase", phase.phase).key("pools").begin_array();
      for (const ReportPool& p : phase.pools) {
        w.begin_object().field("pool", p.pool).field("requests", p.requests);
        w.field("errors", p.errors).field("error_rate", p.error_rate).field("p99_ms", p.p99_ms);
        w.end_object();
      }
      w.end_array().end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().key("decisions").begin_array();
  for (const RunEventRecord& e : r.decisions) {
    w.begin_object().field("at", time_text(e.at)).field("kind", e.kind);
    w.field("detail", e.detail).end_object();
  }
  w.end_array().end_object();
  return w.take();
}

std::string render_report_html(const RunReport& r) {
  const auto row = [](std::initializer_list<std::string> cells, const char* tag = "td") {
    std::string out = "<tr>";
    for (const auto& c : cells) out += fmt::format("<{0}>{1}</{0}>", tag, html_escape(c));
    return out + "</tr>\n";
  };
  const char* state_class = r.state == "done"                             ? "ok"
                            : r.state == "failed" || r.state == "aborted" ? "bad"
                                                                          : "wait";
  std::string out = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Migration report: )" +
                    html_escape(r.name) + R"(</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1d2330;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #dde}
table{border-collapse:collapse;width:100%;margin:.6em 0}td,th{border:1px solid #dde;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#f3f5f9}.state{display:inline-block;padding:.1em .6em;border-radius:.3em;font-weight:600;color:#fff}
.ok{background:#1f8a4c}.bad{background:#c0392b}.wait{background:#b7791f}.num{font-variant-numeric:tabular-nums}
ul.decisions{padding-left:1.2em}ul.decisions li{margin:.15em 0;font-family:ui-monospace,monospace;font-size:13px}
</style></head><body>
)";
  out +=
      fmt::format("<h1>Migration report: {}</h1>\n<p><span class=\"state {}\">{}</span> {}</p>\n",
                  html_escape(r.name), state_class, html_escape(r.state), html_escape(r.why));
  out += fmt::format("<p>Plan <code>{}</code>. Started {}, ended {} ({}).</p>\n",
                     html_escape(r.plan_file), time_text(r.started_at), time_text(r.ended_at),
                     seconds_text(std::max(0.0, r.ended_at - r.started_at)));
  out += "<h2>Summary</h2>\n<table class=\"num\">\n";
  out += row({"requests through the proxy", error_rate_text(r.requests, r.errors)});
  out += row({"write-unavailable time", unavailable_text(r)});
  out += row({"requests held", held_text(r)});
  out += row({"rows copied", std::to_string(r.rows_copied)});
  for (const auto& v : r.verifications) out += row({"verify", v});
  out += "</table>\n<h2>Timeline</h2>\n<table>\n";
  out += row({"#", "step", "target", "state", "started", "took", "what it did"}, "th");
  for (const StepRecord& s : r.steps) {
    out +=
        row({std::to_string(s.index + 1), s.kind, s.target, step_state_name(s.state),
             time_text(s.started_at), s.started_at > 0 ? seconds_text(s.seconds()) : "", s.detail});
  }
  out += "</table>\n";
  for (const ReportRoute& route : r.traffic) {
    out += fmt::format("<h2>Traffic of route {}</h2>\n<table class=\"num\">\n",
                       html_escape(route.route));
    out += row({"phase", "pool", "requests", "errors", "error rate", "p99"}, "th");
    for (const ReportPhase& phase : route.phases) {
      if (phase.pools.empty()) out += row({phase.phase, "", "0", "", "", ""});
      for (const ReportPool& p : phase.pools) {
        out += row({phase.phase, p.pool, std::to_string(p.requests), std::to_string(p.errors),
                    fmt::format("{:.3f} %", p.error_rate), fmt::format("{:.1f} ms", p.p99_ms)});
      }
    }
    out += "</table>\n";
  }
  out += "<h2>Decisions</h2>\n<ul class=\"decisions\">\n";
  for (const RunEventRecord& e : r.decisions) {
    out += fmt::format("<li>{} <b>{}</b> {}</li>\n", time_text(e.at), html_escape(e.kind),
                       html_escape(e.detail));
  }
  return out + "</ul>\n</body></html>\n";
}

}  // namespace ferry::run
