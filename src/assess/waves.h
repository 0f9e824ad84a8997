// Waves from the dependency graph. Workloads in a hard-dependency cycle
// (a strongly connected component) move together; nothing goes in an earlier
// wave than what it hard-depends on; wave 1 is a low-risk pilot; shared
// infrastructure is its own early group; every wave respects the capacity
// limits. Pure graph logic: knows nothing of rules or reports.
#pragma once

#include <string>
#include <vector>

namespace ferry::assess {

struct WaveInput {
  std::string name;
  std::vector<size_t> hard_deps;  // indices into the input
  // Workloads that share a host with it (from an import): one host cannot be
  // in two places, so they move in one wave, like a cycle.
  std::vector<size_t> same_host;
  bool moving = true;  // false for retire / retain: never scheduled
  bool shared_infrastructure = false;
  bool priority = false;          // tier 1 data: scheduled first among equals
  int risk = 0;                   // lower is safer; the pilot takes the safest
  bool pilot_candidate = false;   // simple enough to rehearse the runbook on
  std::string not_pilot_because;  // why not, when it is not a candidate
  int confidence = 0;             // among equally safe pilots, the better-known first
  bool application = true;  // not a database, cache, queue or store: a pilot should cut one over
  double data_tb = 0;
};

struct WaveOptions {
  int max_workloads = 8;
  double max_data_tb = 50;
  int pilot_size = 3;
  int max_pilot_risk = 3;
};

enum class WaveKind { kPilot, kSharedInfrastructure, kMigration };

struct Wave {
  int index = 0;  // 1-based
  WaveKind kind = WaveKind::kMigration;
  std::vector<size_t> members;
  double data_tb = 0;
};

struct WaveSchedule {
  std::vector<int> wave_of;  // per input; 0 when not moving
  std::vector<Wave> waves;
  std::vector<std::vector<size_t>> cycles;  // hard-dependency cycles
  std::vector<int> cycle_of;                // per input: index into cycles, or -1
  std::vector<std::string> warnings;
};

WaveSchedule schedule_waves(const std::vector<WaveInput>& inputs, const WaveOptions& options);

// Strongly connected components (Tarjan, iterative), in reverse topological
// order: every component comes after the components it depends on. With
// `same_host`, workloads sharing a host are joined as if they formed a cycle.
std::vector<std::vector<size_t>> strongly_connected_components(const std::vector<WaveInput>& inputs,
                                                               bool same_host = false);

}  // namespace ferry::assess
