#include "assess/schedule.h"

#include <algorithm>
#include <map>
#include <tuple>

namespace ferry::assess {

namespace {

// A team's parallel work: when each of its `capacity` slots frees up, and the
// build that holds it (0, the mobilisation, before any).
struct TeamSlot {
  int free_at = 0;
  int task = 0;
};

int add_task(Schedule& s, ScheduleTask task) {
  s.tasks.push_back(std::move(task));
  return static_cast<int>(s.tasks.size()) - 1;
}

// Builds start once the landing zone is there, earliest wave first and, within
// a wave, the longest first (it decides when the wave is ready); a team takes
// the next build when one of its slots frees up.
std::vector<int> schedule_builds(const std::vector<ScheduleWorkload>& ws,
                                 const std::vector<ScheduleWave>& waves, const ScheduleOptions& o,
                                 Schedule& s) {
  std::vector<std::tuple<size_t, int, std::string, size_t>> order;  // wave position, -days, name, i
  for (size_t w = 0; w < waves.size(); ++w) {
    for (size_t m : waves[w].members) order.emplace_back(w, -ws[m].build_days, ws[m].name, m);
  }
  std::sort(order.begin(), order.end());
  std::map<std::string, std::vector<TeamSlot>> slots;
  std::map<std::string, TeamLoad> load;
  std::vector<int> build_task(ws.size(), -1);
  for (const auto& [w, negative_days, name, i] : order) {
    auto& team = slots[ws[i].team];
    if (team.empty())
      team.assign(static_cast<size_t>(std::max(1, o.team_capacity)), {o.mobilisation_days, 0});
    auto slot = std::min_element(
        team.begin(), team.end(),
        [](const TeamSlot& a, const TeamSlot& b) { return a.free_at < b.free_at; });
    const int task = add_task(s, {TaskKind::kBuild,
                                  waves[w].index,
                                  static_cast<int>(i),
                                  slot->free_at,
                                  slot->free_at + ws[i].build_days,
                                  {0},
                                  slot->task});
    *slot = {s.tasks[task].end, task};
    build_task[i] = task;
    TeamLoad& team_load = load[ws[i].team];
    team_load.name = ws[i].team;
    ++team_load.workloads;
    team_load.build_days += ws[i].build_days;
    team_load.busy_until = std::max(team_load.busy_until, s.tasks[task].end);
  }
  for (auto& [name, team_load] : load) s.teams.push_back(std::move(team_load));
  return build_task;
}

// Marks the chain of drivers that ends with the task finishing last.
void find_critical_path(Schedule& s) {
  int last = 0;
  for (size_t t = 0; t < s.tasks.size(); ++t) {
    if (s.tasks[t].end >= s.tasks[last].end) last = static_cast<int>(t);
  }
  s.end = s.tasks[last].end;
  for (int t = last; t >= 0; t = s.tasks[t].driver) {
    s.tasks[t].critical = true;
    s.critical_path.push_back(static_cast<size_t>(t));
  }
  std::reverse(s.critical_path.begin(), s.critical_path.end());
}

}  // namespace

const char* task_kind_name(TaskKind kind) {
  switch (kind) {
    case TaskKind::kMobilisation:
      return "mobilisation";
    case TaskKind::kBuild:
      return "build";
    case TaskKind::kSync:
      return "sync";
    case TaskKind::kFreeze:
      return "freeze";
    case TaskKind::kCutover:
      return "cutover";
    case TaskKind::kHypercare:
      return "hypercare";
    case TaskKind::kDecommission:
      return "decommission";
  }
  return "build";
}

Schedule schedule_programme(const std::vector<ScheduleWorkload>& ws,
                            const std::vector<ScheduleWave>& waves, const ScheduleOptions& o) {
  Schedule s;
  const int mobilised = o.mobilisation_days;
  add_task(s, {TaskKind::kMobilisation, 0, -1, 0, mobilised, {}, -1});
  const std::vector<int> build_task = schedule_builds(ws, waves, o, s);

  int previous_cutover = -1;
  int pilot_hypercare = -1;  // the first regular wave waits for the pilot's lessons
  for (const auto& wave : waves) {
    WaveTimes times;
    times.build_start = -1;
    // The cutover starts when everything it needs is done: the cutover
    // before it, the pilot's hypercare, each member's build and data copy.
    int start = mobilised, driver = 0, sync_member = -1;
    std::vector<int> after;
    auto consider = [&](int end, int task, int member) {
      if (task >= 0) after.push_back(task);
      if (end > start) {
        start = end;
        driver = task;
        sync_member = member;
      }
    };
    if (previous_cutover >= 0) consider(s.tasks[previous_cutover].end, previous_cutover, -1);
    if (pilot_hypercare >= 0) consider(s.tasks[pilot_hypercare].end, pilot_hypercare, -1);
    for (size_t m : wave.members) {
      const ScheduleTask& build = s.tasks[build_task[m]];
      if (times.build_start < 0 || build.start < times.build_start) times.build_start = build.start;
      times.build_end = std::max(times.build_end, build.end);
      consider(build.end, build_task[m], -1);
      if (ws[m].sync_days > 0) consider(mobilised + ws[m].sync_days, -1, static_cast<int>(m));
    }
    // Each copy runs as late as it can, finishing as the cutover begins, so
    // the replication it leaves running is as short as possible.
    for (size_t m : wave.members) {
      if (ws[m].sync_days == 0) continue;
      const int sync_start = std::max(mobilised, start - ws[m].sync_days);
      const int task = add_task(s, {TaskKind::kSync,
                                    wave.index,
                                    static_cast<int>(m),
                                    sync_start,
                                    sync_start + ws[m].sync_days,
                                    {0},
                                    sync_start == mobilised ? 0 : -1});
      after.push_back(task);
      if (sync_member == static_cast<int>(m)) driver = task;
      if (times.sync_start < 0 || sync_start < times.sync_start) times.sync_start = sync_start;
      times.sync_end = std::max(times.sync_end, sync_start + ws[m].sync_days);
    }
    std::sort(after.begin(), after.end());
    // A cutover window may not touch a change freeze: the wave waits for its
    // end, and the wait is a task of its own (it may be on the critical path).
    const int ready = start;
    int freeze = -1;
    for (bool moved = true; moved;) {  // a new window may touch another freeze
      moved = false;
      for (size_t f = 0; f < o.freezes.size(); ++f) {
        const ScheduleFreeze& z = o.freezes[f];
        if (start < z.end && start + o.cutover_days > z.start) {
          start = z.end;
          freeze = static_cast<int>(f);
          moved = true;
        }
      }
    }
    if (freeze >= 0) {
      ScheduleTask wait{TaskKind::kFreeze, wave.index, -1, ready, start, after, driver};
      wait.freeze = freeze;
      times.wait_start = ready;
      driver = add_task(s, std::move(wait));
      after = {driver};
    }
    const int cutover = add_task(s, {TaskKind::kCutover, wave.index, -1, start,
                                     start + o.cutover_days, std::move(after), driver});
    const int hypercare = add_task(s, {TaskKind::kHypercare,
                                       wave.index,
                                       -1,
                                       s.tasks[cutover].end,
                                       s.tasks[cutover].end + o.hypercare_days,
                                       {cutover},
                                       cutover});
    const int decommission = add_task(s, {TaskKind::kDecommission,
                                          wave.index,
                                          -1,
                                          s.tasks[hypercare].end,
                                          s.tasks[hypercare].end + o.decommission_days,
                                          {hypercare},
                                          hypercare});
    times.cutover_start = start;
    times.cutover_end = s.tasks[cutover].end;
    times.hypercare_end = s.tasks[hypercare].end;
    times.decommission_end = s.tasks[decommission].end;
    if (times.build_start < 0) times.build_start = times.build_end = start;
    s.waves.push_back(times);
    previous_cutover = cutover;
    pilot_hypercare = wave.pilot ? hypercare : -1;
  }
  find_critical_path(s);
  return s;
}

}  // namespace ferry::assess
