#include "assess/schedule.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace ferry::assess {
namespace {

ScheduleWorkload workload(const char* name, const char* team, int wave, int build, int sync = 0) {
  return {name, team, wave, build, sync};
}

std::vector<TaskKind> kinds_on_critical_path(const Schedule& s) {
  std::vector<TaskKind> out;
  for (size_t t : s.critical_path) out.push_back(s.tasks[t].kind);
  return out;
}

const ScheduleOptions kOptions{20, 2, 3, 10, 5, {}};

TEST(Schedule, WavesFormAPipelineOneCutoverAtATime) {
  // Wave 2 is built while wave 1 is built; it cuts over as soon as wave 1's
  // cutover ends, during wave 1's hypercare.
  std::vector<ScheduleWorkload> ws{workload("a", "t1", 1, 5), workload("b", "t2", 2, 5)};
  Schedule s = schedule_programme(ws, {{1, false, {0}}, {2, false, {1}}}, kOptions);
  ASSERT_EQ(s.waves.size(), 2u);
  EXPECT_EQ(s.waves[0].build_start, 20);
  EXPECT_EQ(s.waves[0].cutover_start, 25);
  EXPECT_EQ(s.waves[0].cutover_end, 28);
  EXPECT_EQ(s.waves[0].hypercare_end, 38);
  EXPECT_EQ(s.waves[0].decommission_end, 43);
  EXPECT_EQ(s.waves[1].build_start, 20);
  EXPECT_EQ(s.waves[1].cutover_start, 28);
  EXPECT_EQ(s.end, 46);
  EXPECT_EQ(
      kinds_on_critical_path(s),
      (std::vector<TaskKind>{TaskKind::kMobilisation, TaskKind::kBuild, TaskKind::kCutover,
                             TaskKind::kCutover, TaskKind::kHypercare, TaskKind::kDecommission}));
}

TEST(Schedule, TheFirstWaveAfterThePilotWaitsForItsHypercare) {
  std::vector<ScheduleWorkload> ws{workload("a", "t", 1, 5), workload("b", "t", 2, 5),
                                   workload("c", "t", 3, 5)};
  Schedule s = schedule_programme(ws, {{1, true, {0}}, {2, false, {1}}, {3, false, {2}}}, kOptions);
  EXPECT_EQ(s.waves[1].cutover_start, s.waves[0].hypercare_end);
  // Only the first: wave 3 follows wave 2's cutover.
  EXPECT_EQ(s.waves[2].cutover_start, s.waves[1].cutover_end);
}

TEST(Schedule, ATeamBuildsAsManyAtOnceAsItsCapacity) {
  std::vector<ScheduleWorkload> ws{workload("a", "t", 1, 10), workload("b", "t", 1, 10),
                                   workload("c", "t", 1, 10), workload("d", "other", 1, 10)};
  ScheduleOptions one = kOptions;
  one.team_capacity = 1;
  Schedule narrow = schedule_programme(ws, {{1, false, {0, 1, 2, 3}}}, one);
  EXPECT_EQ(narrow.waves[0].cutover_start, 50);  // 20 + three builds one after another
  Schedule wide = schedule_programme(ws, {{1, false, {0, 1, 2, 3}}}, kOptions);
  EXPECT_EQ(wide.waves[0].cutover_start, 40);  // two at once, then the third
  ASSERT_EQ(wide.teams.size(), 2u);
  EXPECT_EQ(wide.teams[1].name, "t");
  EXPECT_EQ(wide.teams[1].workloads, 3);
  EXPECT_EQ(wide.teams[1].build_days, 30);
  EXPECT_EQ(wide.teams[1].busy_until, 40);
  // The critical path goes through the build that waited for a free slot.
  EXPECT_EQ(kinds_on_critical_path(narrow),
            (std::vector<TaskKind>{TaskKind::kMobilisation, TaskKind::kBuild, TaskKind::kBuild,
                                   TaskKind::kBuild, TaskKind::kCutover, TaskKind::kHypercare,
                                   TaskKind::kDecommission}));
}

TEST(Schedule, CopiesFinishAsTheCutoverBeginsAndALongOneDecidesIt) {
  std::vector<ScheduleWorkload> ws{workload("app", "t", 1, 5, 2), workload("big", "t", 1, 3, 30)};
  Schedule s = schedule_programme(ws, {{1, false, {0, 1}}}, kOptions);
  EXPECT_EQ(s.waves[0].cutover_start, 50);  // the 30-day copy after the mobilisation
  std::map<std::string, std::pair<int, int>> syncs;
  for (const auto& t : s.tasks) {
    if (t.kind == TaskKind::kSync) syncs[ws[t.workload].name] = {t.start, t.end};
  }
  EXPECT_EQ(syncs["big"], std::make_pair(20, 50));
  EXPECT_EQ(syncs["app"], std::make_pair(48, 50));  // as late as it can
  EXPECT_EQ(kinds_on_critical_path(s),
            (std::vector<TaskKind>{TaskKind::kMobilisation, TaskKind::kSync, TaskKind::kCutover,
                                   TaskKind::kHypercare, TaskKind::kDecommission}));
}

TEST(Schedule, AChangeFreezeHoldsACutoverThatWouldTouchIt) {
  std::vector<ScheduleWorkload> ws{workload("a", "t", 1, 5), workload("b", "t", 2, 5)};
  ScheduleOptions o = kOptions;
  o.freezes = {{26, 35, "year end"}};  // wave 1 is ready on day 25: its window 25-28 touches it
  Schedule s = schedule_programme(ws, {{1, false, {0}}, {2, false, {1}}}, o);
  EXPECT_EQ(s.waves[0].wait_start, 25);
  EXPECT_EQ(s.waves[0].cutover_start, 35);
  EXPECT_EQ(s.waves[1].cutover_start, 38);  // right after: the freeze is over
  EXPECT_EQ(s.waves[1].wait_start, -1);
  EXPECT_EQ(kinds_on_critical_path(s),
            (std::vector<TaskKind>{TaskKind::kMobilisation, TaskKind::kBuild, TaskKind::kFreeze,
                                   TaskKind::kCutover, TaskKind::kCutover, TaskKind::kHypercare,
                                   TaskKind::kDecommission}));
  // Two freezes close together: the window may fit in neither gap.
  o.freezes = {{26, 30, "a"}, {31, 40, "b"}};
  Schedule twice = schedule_programme(ws, {{1, false, {0}}}, o);
  EXPECT_EQ(twice.waves[0].cutover_start, 40);
}

TEST(Schedule, PropertiesHoldOnRandomProgrammes) {
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> days(0, 40), small(1, 4), coin(0, 9);
  for (int round = 0; round < 50; ++round) {
    ScheduleOptions o{days(rng), small(rng), small(rng), days(rng), small(rng), {}};
    if (coin(rng) < 5) o.freezes.push_back({days(rng) + 10, days(rng) + 60, "freeze"});
    std::vector<ScheduleWave> waves;
    std::vector<ScheduleWorkload> ws;
    const int wave_count = small(rng) + 1;
    for (int w = 1; w <= wave_count; ++w) {
      waves.push_back({w, w == 1 && coin(rng) < 5, {}});
      for (int k = small(rng); k > 0; --k) {
        waves.back().members.push_back(ws.size());
        ws.push_back({"w" + std::to_string(ws.size()), "team" + std::to_string(coin(rng) % 3), w,
                      days(rng), coin(rng) < 4 ? days(rng) : 0});
      }
    }
    Schedule s = schedule_programme(ws, waves, o);
    std::vector<int> build_end(ws.size(), -1);
    std::map<std::string, std::vector<std::pair<int, int>>> builds_of_team;
    for (const auto& t : s.tasks) {
      EXPECT_LE(t.start, t.end);
      EXPECT_LE(t.end, s.end);
      if (t.kind == TaskKind::kBuild) {
        EXPECT_GE(t.start, o.mobilisation_days);
        build_end[t.workload] = t.end;
        builds_of_team[ws[t.workload].team].push_back({t.start, t.end});
      }
    }
    for (const auto& [team, builds] : builds_of_team) {
      for (const auto& [start, end] : builds) {
        int at_once = 0;
        for (const auto& [other_start, other_end] : builds)
          at_once += other_start <= start && start < other_end ? 1 : 0;
        EXPECT_LE(at_once, o.team_capacity) << team;
      }
    }
    for (size_t w = 0; w < waves.size(); ++w) {
      for (size_t m : waves[w].members) {
        EXPECT_GE(s.waves[w].cutover_start, build_end[m]);
        EXPECT_GE(s.waves[w].cutover_start, o.mobilisation_days + ws[m].sync_days);
      }
      if (w > 0) {
        EXPECT_GE(s.waves[w].cutover_start, s.waves[w - 1].cutover_end);
      }
      for (const auto& z : o.freezes) {  // no cutover window touches a freeze
        EXPECT_TRUE(s.waves[w].cutover_end <= z.start || s.waves[w].cutover_start >= z.end)
            << "wave " << w + 1 << " cuts over during the freeze";
      }
      if (w > 0 && waves[w - 1].pilot) {
        EXPECT_GE(s.waves[w].cutover_start, s.waves[w - 1].hypercare_end);
      }
    }
    // The critical path is unbroken from the start to the end.
    ASSERT_FALSE(s.critical_path.empty());
    EXPECT_EQ(s.tasks[s.critical_path.front()].start, 0);
    EXPECT_EQ(s.tasks[s.critical_path.back()].end, s.end);
    for (size_t k = 1; k < s.critical_path.size(); ++k)
      EXPECT_EQ(s.tasks[s.critical_path[k]].start, s.tasks[s.critical_path[k - 1]].end);
  }
}

}  // namespace
}  // namespace ferry::assess
