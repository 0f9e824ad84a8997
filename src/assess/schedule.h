// The programme's timeline, in working days from the start: mobilisation
// (landing zone, link, tooling), then each workload's build by its team while
// earlier waves cut over, its data sync, and per wave a cutover window,
// hypercare (the source kept read-only for rollback) and the source's
// decommissioning. Waves form a pipeline: one cutover at a time, wave N+1's
// builds run while wave N cuts over and wave N-1 is in hypercare, and the
// first regular wave waits for the pilot's lessons (its hypercare). Pure:
// knows nothing of rules, reports or dates.
#pragma once

#include <string>
#include <vector>

namespace ferry::assess {

// Working days [start, end) in which no cutover may run.
struct ScheduleFreeze {
  int start = 0;
  int end = 0;
  std::string why;
};

struct ScheduleOptions {
  int mobilisation_days = 20;
  int team_capacity = 2;  // workloads one team builds at once
  int cutover_days = 3;   // a wave's cutover window
  int hypercare_days = 10;
  int decommission_days = 5;
  std::vector<ScheduleFreeze> freezes;
};

struct ScheduleWorkload {
  std::string name;
  std::string team;
  int wave = 0;        // 1-based; 0 when not moving: not scheduled
  int build_days = 0;  // working days of its team's effort
  int sync_days = 0;   // the online copy that must finish before its cutover; 0 for none
};

struct ScheduleWave {
  int index = 0;  // 1-based, in cutover order
  bool pilot = false;
  std::vector<size_t> members;  // indices into the workloads
};

// kFreeze: a wave ready to cut over waits for the end of a change freeze.
enum class TaskKind { kMobilisation, kBuild, kSync, kFreeze, kCutover, kHypercare, kDecommission };

struct ScheduleTask {
  TaskKind kind = TaskKind::kBuild;
  int wave = 0;            // 0 for mobilisation
  int workload = -1;       // index into the workloads for builds and syncs
  int start = 0;           // working days from the programme's start
  int end = 0;             // exclusive
  std::vector<int> after;  // every task that must end before this one starts
  // The one whose end decided this one's start (for a build, maybe the build
  // before it in its team's slot); -1 when nothing held it back.
  int driver = -1;
  bool critical = false;
  int freeze = -1;  // for a wait: index into the options' freezes
};

struct WaveTimes {
  int build_start = 0;  // the first member's build
  int build_end = 0;    // the last member's build
  int sync_start = -1;  // the first member's copy; -1 without one
  int sync_end = -1;    // the last member's copy's end (the cutover's start, or a freeze wait's)
  int wait_start = -1;  // ready, but waiting for a change freeze until cutover_start; -1: no wait
  int cutover_start = 0;
  int cutover_end = 0;
  int hypercare_end = 0;
  int decommission_end = 0;
};

struct TeamLoad {
  std::string name;
  int workloads = 0;
  int build_days = 0;  // the sum of its builds
  int busy_until = 0;  // its last build's end
};

struct Schedule {
  // Mobilisation, every build, then per wave its syncs, cutover, hypercare and
  // decommissioning.
  std::vector<ScheduleTask> tasks;
  std::vector<WaveTimes> waves;  // per wave, in the input's order
  std::vector<TeamLoad> teams;   // by name
  // The chain of tasks that decides the end, first to last: delaying any of
  // them delays the programme.
  std::vector<size_t> critical_path;
  int end = 0;
};

Schedule schedule_programme(const std::vector<ScheduleWorkload>& workloads,
                            const std::vector<ScheduleWave>& waves, const ScheduleOptions& options);

const char* task_kind_name(TaskKind kind);  // "mobilisation", "build", "sync", ...

}  // namespace ferry::assess
