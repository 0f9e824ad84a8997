#include "run/step_child.h"

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/files.h"
#include "core/process.h"

namespace ferry::run {

ChildSpec ferry_child(const std::string& ferry_binary, const std::vector<std::string>& args,
                      const PlanDatabase& db, const std::string& dir, const std::string& name,
                      ChildLifetime lifetime) {
  ChildSpec spec;
  spec.argv = {ferry_binary, "--log-format", "text"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = {{"FERRY_SOURCE", db.source}, {"FERRY_TARGET", db.target}};
  spec.stdout_file = (std::filesystem::path(dir) / (name + ".out")).string();
  spec.stderr_file = (std::filesystem::path(dir) / (name + ".log")).string();
  spec.lifetime = lifetime;
  return spec;
}

std::string file_tail(const std::string& path, size_t lines) {
  auto text = read_text_file(path);
  return text ? tail_lines(*text, lines) : std::string();
}

Result<StepChildResult> run_step_child(const ChildSpec& spec, StopCheck* stop, int64_t poll_ms,
                                       const std::function<void()>& progress, int64_t progress_ms) {
  auto child = ChildProcess::start(spec);
  if (!child) return tl::unexpected(child.error());
  StepChildResult result;
  auto last_check = std::chrono::steady_clock::now();
  auto last_progress = last_check;
  while (true) {
    if (auto status = child->poll()) {
      result.exit_status = *status;
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    if (progress && now - last_progress >= std::chrono::milliseconds(progress_ms)) {
      last_progress = now;
      progress();
    }
    if (stop && now - last_check >= std::chrono::milliseconds(poll_ms)) {
      last_check = now;
      if (stop->stop_requested()) {
        child->send(SIGTERM);
        result.exit_status = child->wait();
        result.stopped = true;
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!spec.stdout_file.empty()) result.out = read_text_file(spec.stdout_file).value_or("");
  if (!spec.stderr_file.empty()) result.log_tail = file_tail(spec.stderr_file, 6);
  return result;
}

}  // namespace ferry::run
