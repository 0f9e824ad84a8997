// The one way a command times its steps (assess, clone, cutover): each step
// is started and finished by name, its seconds recorded in order, logged at
// debug level (`ferry -v ...` shows where the time went), and the total
// counted from the timer's creation. Steps may overlap (a clone builds
// indexes while tables still copy); each is timed from its own start.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ferry {

struct TimedStep {
  std::string name;
  double seconds = 0;
};

class StepTimer {
 public:
  using Clock = std::chrono::steady_clock;
  // A step under way: what start() hands out and finish() takes back.
  struct Running {
    std::string name;
    Clock::time_point started;
  };

  StepTimer() : started_(Clock::now()), last_end_(started_) {}

  Running start(std::string name) const { return {std::move(name), Clock::now()}; }
  // Records the step, logs it, returns its seconds.
  double finish(const Running& step);
  // A step that began where the previous one ended (or at the timer's start).
  double lap(std::string name);

  const std::vector<TimedStep>& steps() const { return steps_; }
  double total_seconds() const;

 private:
  Clock::time_point started_, last_end_;
  std::vector<TimedStep> steps_;
};

}  // namespace ferry
