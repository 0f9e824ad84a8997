#include "assess/waves.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace ferry::assess {
namespace {

WaveInput node(const char* name, std::vector<size_t> deps = {}, int risk = 0, double data_tb = 0) {
  WaveInput w;
  w.name = name;
  w.hard_deps = std::move(deps);
  w.risk = risk;
  w.data_tb = data_tb;
  w.pilot_candidate = true;
  return w;
}

// Random DAGs plus a few back edges that make cycles.
std::vector<WaveInput> random_estate(std::mt19937& rng, size_t n) {
  std::vector<WaveInput> g;
  std::uniform_int_distribution<int> risk(0, 8), coin(0, 9);
  std::uniform_real_distribution<double> tb(0, 12);
  for (size_t i = 0; i < n; ++i) {
    WaveInput w = node("w", {}, risk(rng), coin(rng) < 3 ? tb(rng) : 0);
    w.name = "w" + std::to_string(i);
    w.moving = coin(rng) != 0;
    w.shared_infrastructure = coin(rng) == 1;
    w.priority = coin(rng) == 2;
    w.pilot_candidate = coin(rng) < 7;
    if (i > 0) {
      std::uniform_int_distribution<size_t> pick(0, i - 1);
      for (int e = coin(rng) % 4; e > 0; --e) w.hard_deps.push_back(pick(rng));
    }
    g.push_back(std::move(w));
  }
  std::uniform_int_distribution<size_t> any(0, n - 1);
  for (int b = 0; b < 5; ++b) {
    size_t from = any(rng), to = any(rng);
    if (from != to) g[from].hard_deps.push_back(to);
  }
  return g;
}

TEST(Waves, PropertiesHoldOnRandomEstates) {
  std::mt19937 rng(20261122);
  WaveOptions options{6, 20, 3, 3};
  for (int round = 0; round < 200; ++round) {
    auto g = random_estate(rng, 10 + round % 60);
    WaveSchedule s = schedule_waves(g, options);
    ASSERT_EQ(s.wave_of.size(), g.size());
    for (size_t i = 0; i < g.size(); ++i) {
      // Moving workloads get a wave, the others none.
      EXPECT_EQ(s.wave_of[i] > 0, g[i].moving) << g[i].name;
      if (!g[i].moving) continue;
      // Never earlier than a moving hard dependency.
      for (size_t d : g[i].hard_deps) {
        if (g[d].moving) {
          EXPECT_GE(s.wave_of[i], s.wave_of[d]) << g[i].name << " before " << g[d].name;
        }
      }
    }
    // Cycles move together.
    for (const auto& cycle : s.cycles) {
      std::set<int> waves;
      for (size_t m : cycle) {
        if (g[m].moving) waves.insert(s.wave_of[m]);
      }
      EXPECT_LE(waves.size(), 1u);
    }
    // Capacity: a wave over the limits holds a single component.
    for (const auto& wave : s.waves) {
      EXPECT_FALSE(wave.members.empty());
      if (static_cast<int>(wave.members.size()) > options.max_workloads ||
          wave.data_tb > options.max_data_tb) {
        std::set<int> cycles;
        for (size_t m : wave.members) cycles.insert(s.cycle_of[m]);
        EXPECT_TRUE(wave.members.size() == 1 || (cycles.size() == 1 && *cycles.begin() >= 0))
            << "oversized wave " << wave.index << " mixes components";
      }
      if (wave.kind == WaveKind::kPilot) {
        EXPECT_EQ(wave.index, 1);
        EXPECT_LE(static_cast<int>(wave.members.size()), options.pilot_size);
        for (size_t m : wave.members) {
          // The pilot moves on its own: what a member depends on is in the pilot too.
          for (size_t d : g[m].hard_deps) {
            if (g[d].moving) {
              EXPECT_EQ(s.wave_of[d], 1)
                  << g[m].name << " pilots without its dependency " << g[d].name;
            }
          }
          EXPECT_TRUE(g[m].pilot_candidate);
          EXPECT_LE(g[m].risk, options.max_pilot_risk);
          EXPECT_FALSE(g[m].priority);
          EXPECT_FALSE(g[m].shared_infrastructure);
        }
      }
    }
    // Waves are numbered in order.
    for (size_t w = 0; w < s.waves.size(); ++w)
      EXPECT_EQ(s.waves[w].index, static_cast<int>(w) + 1);
  }
}

TEST(Waves, PilotThenSharedInfrastructureThenDependencyOrder) {
  //  0 dns (infra)   1 static-site (safe, standalone)   2 db   3 api -> db, dns   4 ui -> api
  std::vector<WaveInput> g{node("dns"), node("static-site"), node("db", {}, 5),
                           node("api", {2, 0}, 5), node("ui", {3}, 5)};
  g[0].shared_infrastructure = true;
  WaveSchedule s = schedule_waves(g, WaveOptions{2, 50, 1, 3});
  ASSERT_GE(s.waves.size(), 3u);
  EXPECT_EQ(s.waves[0].kind, WaveKind::kPilot);
  EXPECT_EQ(s.wave_of[1], 1);  // the safest standalone workload pilots
  EXPECT_EQ(s.waves[1].kind, WaveKind::kSharedInfrastructure);
  EXPECT_EQ(s.wave_of[0], 2);
  EXPECT_GE(s.wave_of[3], s.wave_of[2]);
  EXPECT_GE(s.wave_of[4], s.wave_of[3]);
  EXPECT_LE(s.waves[2].members.size(), 2u);
}

TEST(Waves, CycleMovesTogether) {
  // a <-> b (cycle), c -> a
  std::vector<WaveInput> g{node("a", {1}, 5), node("b", {0}, 5), node("c", {0}, 5)};
  WaveSchedule s = schedule_waves(g, WaveOptions{8, 50, 0, 3});
  ASSERT_EQ(s.cycles.size(), 1u);
  EXPECT_EQ(s.cycles[0], (std::vector<size_t>{0, 1}));
  EXPECT_EQ(s.wave_of[0], s.wave_of[1]);
  EXPECT_GE(s.wave_of[2], s.wave_of[0]);
}

TEST(Waves, WorkloadsSharingAHostMoveInOneWaveWithoutBeingACycle) {
  // c depends on b depends on a; d shares a host with a, e with c. Two per
  // wave would split them without the host links.
  std::vector<WaveInput> g{node("a"), node("b", {0}), node("c", {1}), node("d"), node("e")};
  g[0].same_host = {3};
  g[3].same_host = {0};
  g[2].same_host = {4};
  g[4].same_host = {2};
  WaveSchedule s = schedule_waves(g, WaveOptions{2, 50, 0, 3});
  EXPECT_EQ(s.wave_of[0], s.wave_of[3]);
  EXPECT_EQ(s.wave_of[2], s.wave_of[4]);
  EXPECT_LT(s.wave_of[0], s.wave_of[2]);
  EXPECT_TRUE(s.cycles.empty());
  for (int c : s.cycle_of) EXPECT_EQ(c, -1);
}

TEST(Waves, DatabasesMoveWithTheirConsumersNotMonthsBefore) {
  // db has no dependencies and could go first; its only consumer needs the
  // slow service, so it waits and moves with the consumer.
  // db, a and b are ready at once; with two per wave the forward pass puts db
  // in wave 1, and app (which needs b) lands in wave 2.
  std::vector<WaveInput> g{node("a", {}, 5), node("db", {}, 5), node("b", {}, 5),
                           node("app", {1, 2}, 5)};
  g[0].priority = true;
  WaveSchedule s = schedule_waves(g, WaveOptions{3, 50, 0, 3});
  EXPECT_EQ(s.wave_of[1], s.wave_of[3])
      << "db wave " << s.wave_of[1] << ", app wave " << s.wave_of[3];
  EXPECT_GE(s.wave_of[3], s.wave_of[2]);
  EXPECT_EQ(s.waves.size(), 2u);
}

TEST(Waves, PilotPrefersAnApplicationWithItsDatabase) {
  std::vector<WaveInput> g{node("queue"), node("wiki-db"), node("wiki", {1})};
  g[0].application = false;
  g[1].application = false;
  for (auto& n : g) n.confidence = 5;
  WaveSchedule s = schedule_waves(g, WaveOptions{8, 50, 2, 3});
  EXPECT_EQ(s.wave_of[1], 1);
  EXPECT_EQ(s.wave_of[2], 1);
  EXPECT_NE(s.wave_of[0], 1);
}

TEST(Waves, DataCapacitySplitsWavesAndOversizedGetTheirOwn) {
  std::vector<WaveInput> g{node("a", {}, 5, 30), node("b", {}, 5, 30), node("huge", {}, 5, 68)};
  WaveSchedule s = schedule_waves(g, WaveOptions{8, 40, 0, 3});
  EXPECT_EQ(s.waves.size(), 3u);
  EXPECT_NE(s.wave_of[0], s.wave_of[1]);
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_NE(s.warnings[0].find("huge (1 workload, 68.0 TB) exceeds the wave limits"),
            std::string::npos);
}

TEST(Waves, TierOneDataGoesFirstAmongReadyWorkloads) {
  std::vector<WaveInput> g{node("plain", {}, 5), node("sensitive", {}, 5)};
  g[1].priority = true;
  WaveSchedule s = schedule_waves(g, WaveOptions{1, 50, 0, 3});
  EXPECT_EQ(s.wave_of[1], 1);
  EXPECT_EQ(s.wave_of[0], 2);
}

TEST(Waves, PilotPrefersAGroupNothingElseUsesThenAWellKnownOne) {
  // lib is the safest, but app (too risky to pilot) uses it: piloting lib
  // alone would leave app calling back across platforms.
  std::vector<WaveInput> g{node("lib", {}, 0), node("app", {0}, 5), node("guess", {}, 0),
                           node("known", {}, 2)};
  for (auto& n : g) n.confidence = 4;
  g[2].confidence = 2;  // a pilot built on guesses proves little
  WaveSchedule s = schedule_waves(g, WaveOptions{8, 50, 1, 3});
  ASSERT_EQ(s.waves[0].kind, WaveKind::kPilot);
  EXPECT_EQ(s.waves[0].members, (std::vector<size_t>{3}));
}

TEST(Waves, NoPilotIsAWarningThatSaysWhy) {
  std::vector<WaveInput> risky{node("a", {}, 5), node("b", {}, 5), node("c", {0}, 1),
                               node("d", {}, 0)};
  risky[3].pilot_candidate = false;
  risky[3].not_pilot_because = "confidence 2/5 (a pilot needs 4) and no owner";
  WaveSchedule none = schedule_waves(risky, WaveOptions{8, 50, 2, 3});
  EXPECT_NE(none.waves[0].kind, WaveKind::kPilot);
  // The nearest candidates, safest first, each with what stopped it.
  EXPECT_EQ(none.warnings,
            std::vector<std::string>{
                "no pilot wave: no workload qualifies (a simple, low-risk, well-known move with an "
                "owner, without tier 1 data, with its dependencies); the first wave is a "
                "production wave. Nearest: d (confidence 2/5 (a pilot needs 4) and no owner); c "
                "(it depends on a: risk 5 (a pilot allows 3)); a (risk 5 (a pilot allows 3))"});

  std::vector<WaveInput> heavy{node("a", {}, 0, 60)};
  WaveSchedule too_big = schedule_waves(heavy, WaveOptions{8, 50, 2, 3});
  EXPECT_NE(too_big.waves[0].kind, WaveKind::kPilot);
  ASSERT_FALSE(too_big.warnings.empty());
  EXPECT_EQ(too_big.warnings[0],
            "no pilot: the workloads that qualify do not fit a wave (2 workloads, 50.0 TB)");

  // Asking for no pilot is not worth a warning.
  EXPECT_TRUE(schedule_waves(risky, WaveOptions{8, 50, 0, 3}).warnings.empty());
}

TEST(Waves, SharedInfrastructureWaitingOnARegularWorkloadMovesWithTheRegularWaves) {
  std::vector<WaveInput> g{node("vault-db", {}, 5), node("vault", {0}, 5)};
  g[1].shared_infrastructure = true;
  WaveSchedule s = schedule_waves(g, WaveOptions{8, 50, 0, 3});
  for (const auto& wave : s.waves) EXPECT_NE(wave.kind, WaveKind::kSharedInfrastructure);
  EXPECT_GE(s.wave_of[1], s.wave_of[0]);
  EXPECT_EQ(s.warnings,
            std::vector<std::string>{"shared infrastructure vault depends on vault-db, which "
                                     "cannot move with the infrastructure group; vault moves "
                                     "with the regular waves"});
}

TEST(Waves, ACycleMovesWithoutItsMembersThatStayBehind) {
  // a <-> b, and b is retired: the cycle is still reported, a moves alone and
  // b's risk does not keep a out of the pilot.
  std::vector<WaveInput> g{node("a", {1}, 0), node("b", {0}, 9)};
  g[1].moving = false;
  WaveSchedule s = schedule_waves(g, WaveOptions{8, 50, 1, 3});
  ASSERT_EQ(s.cycles.size(), 1u);
  EXPECT_EQ(s.cycle_of, (std::vector<int>{0, 0}));
  EXPECT_EQ(s.wave_of, (std::vector<int>{1, 0}));
  EXPECT_EQ(s.waves[0].kind, WaveKind::kPilot);
  EXPECT_EQ(s.warnings,
            std::vector<std::string>{"dependency cycle through a includes workloads that are not "
                                     "moving (b); the rest of the cycle will depend across "
                                     "platforms"});
}

TEST(Waves, DeepChainsDoNotOverflowTheStack) {
  std::vector<WaveInput> g;
  for (size_t i = 0; i < 200000; ++i)
    g.push_back(node("n", i == 0 ? std::vector<size_t>{} : std::vector<size_t>{i - 1}, 5));
  auto components = strongly_connected_components(g);
  EXPECT_EQ(components.size(), g.size());
  EXPECT_EQ(components.front(), std::vector<size_t>{0});  // dependencies come first
}

}  // namespace
}  // namespace ferry::assess
