#include "run/run_status.h"

#include <fmt/format.h>

#include "core/json_writer.h"
#include "core/text.h"

namespace ferry::run {

namespace {

std::string time_text(double at) { return at > 0 ? iso_time(at) : ""; }

struct Status {
  RunView view;
  std::vector<StepRecord> steps;
  std::vector<RunEventRecord> events;
  std::vector<QueuedCommand> queued;
};

Result<Status> read(const Plan& plan, const RunJournal& journal, size_t events) {
  Status s;
  auto view = journal.view(plan);
  if (!view) return tl::unexpected(view.error());
  auto steps = journal.steps();
  if (!steps) return tl::unexpected(steps.error());
  auto recent = journal.events(events);
  if (!recent) return tl::unexpected(recent.error());
  auto queued = journal.queued_commands();
  if (!queued) return tl::unexpected(queued.error());
  s.view = std::move(*view);
  s.steps = std::move(*steps);
  s.events = std::move(*recent);
  s.queued = std::move(*queued);
  return s;
}

}  // namespace

Result<void> write_status_fields(JsonWriter& w, const Plan& plan, const RunJournal& journal,
                                 size_t events) {
  auto s = read(plan, journal, events);
  if (!s) return tl::unexpected(s.error());
  w.field("name", plan.name).field("state", run_state_name(s->view));
  w.field("why", s->view.why).key("steps").begin_array();
  for (const StepRecord& r : s->steps) {
    w.begin_object()
        .field("index", static_cast<int64_t>(r.index + 1))
        .field("kind", r.kind)
        .field("target", r.target)
        .field("state", step_state_name(r.state))
        .field("started_at", time_text(r.started_at))
        .field("ended_at", time_text(r.ended_at))
        .field("seconds", r.seconds())
        .field("detail", r.detail)
        .end_object();
  }
  w.end_array().key("events").begin_array();
  for (const RunEventRecord& e : s->events) {
    w.begin_object()
        .field("seq", e.seq)
        .field("at", time_text(e.at))
        .field("kind", e.kind)
        .field("detail", e.detail)
        .end_object();
  }
  w.end_array().key("queued").begin_array();
  for (const QueuedCommand& c : s->queued) {
    w.begin_object()
        .field("seq", c.seq)
        .field("at", time_text(c.at))
        .field("command", run_command_name(c.command))
        .field("who", c.who)
        .end_object();
  }
  w.end_array();
  return {};
}

Result<std::string> render_status_json(const Plan& plan, const RunJournal& journal, size_t events) {
  JsonWriter w;
  w.begin_object();
  if (auto ok = write_status_fields(w, plan, journal, events); !ok) {
    return tl::unexpected(ok.error());
  }
  w.end_object();
  return w.take();
}

Result<std::string> render_status_text(const Plan& plan, const RunJournal& journal, size_t events) {
  auto s = read(plan, journal, events);
  if (!s) return tl::unexpected(s.error());
  std::string out = fmt::format("run {}: {}{}\n", plan.name, run_state_name(s->view),
                                s->view.why.empty() ? "" : " (" + s->view.why + ")");
  for (const StepRecord& r : s->steps) {
    out += fmt::format("  {:>2}. {:<8} {:<8} {:<24} {:>8}  {}\n", r.index + 1,
                       step_state_name(r.state), r.kind, r.target.substr(0, 24),
                       r.started_at > 0 ? fmt::format("{:.0f} s", r.seconds()) : "", r.detail);
  }
  if (!s->events.empty()) out += "latest events:\n";
  for (const RunEventRecord& e : s->events) {
    out += fmt::format("  {}  {} {}\n", time_text(e.at), e.kind, e.detail);
  }
  if (!s->queued.empty()) out += "queued, for the running engine to take:\n";
  for (const QueuedCommand& c : s->queued) {
    out += fmt::format("  {}  {} by {}\n", time_text(c.at), run_command_name(c.command), c.who);
  }
  return out;
}

}  // namespace ferry::run
