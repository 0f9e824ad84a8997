#include "core/step_timer.h"

#include <fmt/format.h>

#include "core/log.h"

namespace ferry {

double StepTimer::finish(const Running& step) {
  const auto now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - step.started).count();
  steps_.push_back({step.name, seconds});
  last_end_ = now;
  log_debug(fmt::format("step {}: {:.3f} s", step.name, seconds));
  return seconds;
}

double StepTimer::lap(std::string name) { return finish({std::move(name), last_end_}); }

double StepTimer::total_seconds() const {
  return std::chrono::duration<double>(Clock::now() - started_).count();
}

}  // namespace ferry
