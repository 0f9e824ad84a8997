#include "run/live_step_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/log.h"
#include "core/text.h"
#include "run/proxy_admin.h"
#include "run/step_child.h"

namespace ferry::run {

LiveStepRunner::LiveStepRunner(const Plan& plan, RunJournal& journal, LiveRunnerOptions options)
    : plan_(plan), journal_(journal), options_(std::move(options)) {}

LiveStepRunner::~LiveStepRunner() = default;

std::string LiveStepRunner::database_dir(const Plan& plan, const PlanDatabase& db) {
  return (std::filesystem::path(plan.state_dir) / db.name).string();
}

StepOutcome LiveStepRunner::run(size_t index, const PlanStep& step, StopCheck& stop) {
  // Each route's counters per pool: when the run starts, when its traffic
  // first moves, once its database is switched, and after every step. The
  // watch's baseline and the report's before/during/after come from them.
  note_traffic("", "start", true);
  if (step.kind == StepKind::kRollout || (step.kind == StepKind::kCutover && !step.route.empty())) {
    note_traffic(step.route, "moved", true);
  }
  StepOutcome outcome = run_step(index, step, stop);
  if (outcome.ok && step.kind == StepKind::kCutover && !step.route.empty()) {
    note_traffic(step.route, "switched", true);
  }
  note_traffic("", "last", false);
  return outcome;
}

StepOutcome LiveStepRunner::run_step(size_t index, const PlanStep& step, StopCheck& stop) {
  const PlanDatabase* db = step.database.empty() ? nullptr : plan_.find_database(step.database);
  switch (step.kind) {
    case StepKind::kClone:
      return clone(index, *db, stop);
    case StepKind::kFollow:
      return follow(index, *db, stop);
    case StepKind::kVerify:
      return verify(index, *db, stop);
    case StepKind::kRollout:
      return rollout(index, step, stop);
    case StepKind::kCutover:
      return cutover(index, step, stop);
    case StepKind::kWatch:
      return watch(index, step, stop);
    case StepKind::kCommand:
      return command(step, stop);
    case StepKind::kApprove:
      break;  // the engine waits for approvals itself
  }
  return {false, std::string("no runner for a step of kind ") + step_kind_name(step.kind)};
}

StepOutcome LiveStepRunner::undo(size_t index, const PlanStep& step) {
  switch (step.kind) {
    case StepKind::kRollout:
      return undo_rollout(index, step);
    case StepKind::kCutover:
      return undo_cutover(index, step);
    default:
      return {true, "nothing to undo"};
  }
}

StepOutcome LiveStepRunner::command(const PlanStep& step, StopCheck& stop) {
  const std::string dir = plan_.state_dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ChildSpec spec;
  // In the plan's directory, as the plan's relative paths are meant.
  const std::string plan_dir = std::filesystem::path(plan_.file).parent_path().string();
  spec.argv = {"/bin/sh", "-c",
               plan_dir.empty() ? step.command : "cd '" + plan_dir + "' && " + step.command};
  spec.stdout_file = (std::filesystem::path(dir) / "command.out").string();
  spec.stderr_file = (std::filesystem::path(dir) / "command.log").string();
  spec.lifetime = ChildLifetime::kDiesWithParent;
  auto result = run_step_child(spec, &stop, options_.poll_ms);
  if (!result) return {false, result.error().to_string()};
  if (result->stopped) return {false, "stopped by a person's command"};
  if (result->exit_status != 0) {
    return {false, fmt::format("exit status {}{}", result->exit_status,
                               result->log_tail.empty() ? "" : ": " + result->log_tail)};
  }
  const std::string out(trim(result->out));
  return {true, out.empty() ? "exit status 0" : "exit status 0: " + out.substr(0, 300)};
}

void LiveStepRunner::event(const std::string& kind, const std::string& detail) {
  log_info(fmt::format("run: event={} plan={} {}", kind, plan_.name, detail));
  if (auto ok = journal_.event(kind, detail); !ok) {
    log_error("run: could not journal an event: " + ok.error().to_string());
  }
}

std::string LiveStepRunner::key(size_t index, const std::string& name) const {
  return fmt::format("step{}.{}", index + 1, name);
}

void LiveStepRunner::remember(const std::string& key, const std::string& value) {
  if (auto ok = journal_.remember(key, value); !ok) {
    log_error("run: could not journal " + key + ": " + ok.error().to_string());
  }
}

std::string LiveStepRunner::recall(const std::string& key) const {
  auto value = journal_.recall(key);
  return value ? *value : std::string();
}

ProxyAdmin* LiveStepRunner::proxy(std::string* error) {
  if (proxy_) return proxy_.get();
  if (!plan_.proxy) {
    *error = "the plan has no proxy";
    return nullptr;
  }
  auto admin = ProxyAdmin::open(*plan_.proxy, options_.env_token);
  if (!admin) {
    *error = admin.error().to_string();
    return nullptr;
  }
  proxy_ = std::make_unique<ProxyAdmin>(std::move(*admin));
  return proxy_.get();
}

void LiveStepRunner::sleep_poll() const {
  std::this_thread::sleep_for(std::chrono::milliseconds(options_.poll_ms));
}

}  // namespace ferry::run
