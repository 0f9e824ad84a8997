#include "assess/waves.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <queue>
#include <tuple>

namespace ferry::assess {

std::vector<std::vector<size_t>> strongly_connected_components(const std::vector<WaveInput>& g,
                                                               bool same_host) {
  // Edge k of v: its hard dependencies, then (if asked) its host mates.
  auto edges = [&](size_t v) {
    return g[v].hard_deps.size() + (same_host ? g[v].same_host.size() : 0);
  };
  auto edge = [&](size_t v, size_t k) {
    return k < g[v].hard_deps.size() ? g[v].hard_deps[k]
                                     : g[v].same_host[k - g[v].hard_deps.size()];
  };
  const size_t n = g.size();
  constexpr size_t kUnvisited = static_cast<size_t>(-1);
  std::vector<size_t> index(n, kUnvisited), low(n, 0);
  std::vector<bool> on_stack(n, false);
  std::vector<size_t> stack;
  std::vector<std::vector<size_t>> components;
  size_t next_index = 0;
  // Explicit call stack: (node, next edge to look at). Deep dependency chains
  // in generated estates would overflow a recursive version.
  std::vector<std::pair<size_t, size_t>> frames;
  for (size_t root = 0; root < n; ++root) {
    if (index[root] != kUnvisited) continue;
    frames.push_back({root, 0});
    while (!frames.empty()) {
      auto& [v, next] = frames.back();
      if (next == 0) {
        index[v] = low[v] = next_index++;
        stack.push_back(v);
        on_stack[v] = true;
      }
      if (next < edges(v)) {
        size_t w = edge(v, next++);
        if (index[w] == kUnvisited) {
          frames.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        std::vector<size_t> component;
        size_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component.push_back(w);
        } while (w != v);
        std::sort(component.begin(), component.end());
        components.push_back(std::move(component));
      }
      size_t finished = v;
      frames.pop_back();
      if (!frames.empty()) {
        size_t parent = frames.back().first;
        low[parent] = std::min(low[parent], low[finished]);
      }
    }
  }
  return components;
}

namespace {

std::string workloads_text(int n) { return fmt::format("{} workload{}", n, n == 1 ? "" : "s"); }

std::string tb_text(double tb) {
  return tb >= 1 ? fmt::format("{:.1f} TB", tb) : fmt::format("{:.0f} GB", tb * 1000);
}

struct Component {
  std::vector<size_t> members;
  std::vector<size_t> deps;  // other components it hard-depends on
  bool moving = false;
  bool shared_infrastructure = false;
  bool priority = false;
  int risk = 0;
  double data_tb = 0;
  std::string name;  // first member's name, for stable ordering
};

class WaveBook {
 public:
  WaveBook(const WaveOptions& o) : options_(o) {}

  // First wave at or after `earliest` with room, creating waves as needed.
  int place(const Component& c, int earliest, WaveKind kind, std::vector<std::string>& warnings) {
    const int count = static_cast<int>(c.members.size());
    const bool oversized = count > options_.max_workloads || c.data_tb > options_.max_data_tb;
    if (oversized) {
      warnings.push_back(
          fmt::format("{} ({}, {}) exceeds the wave limits ({}, {}): it gets a wave of its own",
                      c.name, workloads_text(count), tb_text(c.data_tb),
                      workloads_text(options_.max_workloads), tb_text(options_.max_data_tb)));
    }
    for (int w = std::max(earliest, 1); w <= static_cast<int>(waves_.size()); ++w) {
      Wave& wave = waves_[w - 1];
      if (wave.kind != kind) continue;
      const bool fits =
          oversized ? wave.members.empty()
                    : static_cast<int>(wave.members.size()) + count <= options_.max_workloads &&
                          wave.data_tb + c.data_tb <= options_.max_data_tb;
      if (fits) return add(w, c);
    }
    waves_.push_back(Wave{static_cast<int>(waves_.size()) + 1, kind, {}, 0});
    return add(static_cast<int>(waves_.size()), c);
  }

  int size() const { return static_cast<int>(waves_.size()); }
  WaveKind kind(int w) const { return waves_[w - 1].kind; }
  std::vector<Wave> take() { return std::move(waves_); }

  // Moves a placed component to wave `to` if it has room; false otherwise.
  bool move(const Component& c, int from, int to) {
    Wave& target = waves_[to - 1];
    if (static_cast<int>(target.members.size() + c.members.size()) > options_.max_workloads ||
        target.data_tb + c.data_tb > options_.max_data_tb) {
      return false;
    }
    Wave& source = waves_[from - 1];
    std::erase_if(source.members, [&](size_t m) {
      return std::find(c.members.begin(), c.members.end(), m) != c.members.end();
    });
    source.data_tb -= c.data_tb;
    add(to, c);
    return true;
  }

  // Waves emptied by moves disappear; the rest are renumbered in order.
  void drop_empty_waves(std::vector<int>& wave_of, std::vector<int>& comp_wave) {
    std::vector<int> renumbered(waves_.size() + 1, 0);
    std::vector<Wave> kept;
    for (auto& wave : waves_) {
      if (wave.members.empty()) continue;
      renumbered[wave.index] = static_cast<int>(kept.size()) + 1;
      wave.index = renumbered[wave.index];
      kept.push_back(std::move(wave));
    }
    waves_ = std::move(kept);
    for (int& w : wave_of) w = renumbered[w];
    for (int& w : comp_wave) w = renumbered[w];
  }

 private:
  int add(int w, const Component& c) {
    Wave& wave = waves_[w - 1];
    wave.members.insert(wave.members.end(), c.members.begin(), c.members.end());
    wave.data_tb += c.data_tb;
    return w;
  }

  const WaveOptions& options_;
  std::vector<Wave> waves_;
};

// What the passes share: the components, where each one is placed so far,
// and the waves being filled.
struct Scheduling {
  Scheduling(const std::vector<WaveInput>& in, const WaveOptions& o, WaveSchedule& s,
             std::vector<Component> components)
      : inputs(in),
        options(o),
        out(s),
        comps(std::move(components)),
        users(comps.size()),
        comp_wave(comps.size(), 0),
        book(o) {
    for (size_t c = 0; c < comps.size(); ++c) {
      for (size_t d : comps[c].deps) users[d].push_back(c);
    }
  }

  void assign(size_t c, int wave) {
    comp_wave[c] = wave;
    for (size_t m : comps[c].members) out.wave_of[m] = inputs[m].moving ? wave : 0;
  }

  const std::vector<WaveInput>& inputs;
  const WaveOptions& options;
  WaveSchedule& out;
  const std::vector<Component> comps;      // dependencies first
  std::vector<std::vector<size_t>> users;  // per component: the components that hard-depend on it
  std::vector<int> comp_wave;              // per component: its wave, 0 while unplaced
  WaveBook book;
};

Component describe_component(const std::vector<WaveInput>& inputs, std::vector<size_t> members) {
  Component comp;
  comp.members = std::move(members);
  comp.name = inputs[comp.members.front()].name;
  for (size_t m : comp.members) comp.moving = comp.moving || inputs[m].moving;
  // What the component is (infrastructure, priority, risk, size, time)
  // comes from the members that move; a retired or retained member of a
  // cycle stays behind and lends it nothing.
  for (size_t m : comp.members) {
    const WaveInput& in = inputs[m];
    if (comp.moving && !in.moving) continue;
    comp.shared_infrastructure = comp.shared_infrastructure || in.shared_infrastructure;
    comp.priority = comp.priority || in.priority;
    comp.risk = std::max(comp.risk, in.risk);
    comp.data_tb += in.data_tb;
  }
  return comp;
}

// Records a cycle (or a group sharing hosts) and keeps only its moving
// members in the component (all of them when none moves); members that stay
// behind are a warning.
void record_group(const std::vector<WaveInput>& inputs, Component& comp, bool cycle,
                  WaveSchedule& out) {
  std::vector<size_t> moving_members;
  std::vector<std::string> staying;
  for (size_t m : comp.members) {
    if (cycle) out.cycle_of[m] = static_cast<int>(out.cycles.size());
    if (inputs[m].moving)
      moving_members.push_back(m);
    else
      staying.push_back(inputs[m].name);
  }
  const char* what = cycle ? "dependency cycle" : "group of workloads sharing hosts";
  if (!staying.empty() && !moving_members.empty()) {
    out.warnings.push_back(
        fmt::format("{} through {} includes workloads that are not "
                    "moving ({}); the rest of the {} will depend across "
                    "platforms",
                    what, comp.name, fmt::join(staying, ", "), cycle ? "cycle" : "group"));
  }
  if (cycle) out.cycles.push_back(comp.members);
  comp.members = moving_members.empty() ? comp.members : moving_members;
}

// Pass 1: one component per strongly connected component, dependencies
// first, each knowing the moving components it hard-depends on.
std::vector<Component> build_components(const std::vector<WaveInput>& inputs, WaveSchedule& out) {
  // Components join workloads that share a host too; only the hard cycles
  // among them are reported as cycles.
  auto sccs = strongly_connected_components(inputs, /*same_host=*/true);
  std::vector<size_t> cycle_size(inputs.size(), 1);
  for (const auto& hard : strongly_connected_components(inputs)) {
    for (size_t m : hard) cycle_size[m] = hard.size();
  }
  // Indexed by every workload, including cycle members that stay behind.
  std::vector<size_t> comp_of(inputs.size());
  std::vector<Component> comps;
  comps.reserve(sccs.size());
  for (size_t c = 0; c < sccs.size(); ++c) {
    for (size_t m : sccs[c]) comp_of[m] = c;
    comps.push_back(describe_component(inputs, std::move(sccs[c])));
    const bool cycle = std::any_of(comps[c].members.begin(), comps[c].members.end(),
                                   [&](size_t m) { return cycle_size[m] > 1; });
    if (comps[c].members.size() > 1) record_group(inputs, comps[c], cycle, out);
  }
  for (size_t c = 0; c < comps.size(); ++c) {
    for (size_t m : comps[c].members) {
      for (size_t d : inputs[m].hard_deps) {
        size_t dc = comp_of[d];
        if (dc != c && comps[dc].moving &&
            std::find(comps[c].deps.begin(), comps[c].deps.end(), dc) == comps[c].deps.end()) {
          comps[c].deps.push_back(dc);
        }
      }
    }
  }
  return comps;
}

struct PilotGroup {
  std::vector<size_t> comps;  // dependencies first
  bool application = false;
  bool self_contained = true;  // nothing outside the group uses a member
  int risk = 0;
  int confidence = 0;
  double data_tb = 0;
};

// Why component c cannot be part of the pilot, or "" when it can: a pilot is
// made of single, simple, low-risk moves.
std::string pilot_refusal(const Scheduling& s, size_t c) {
  const Component& comp = s.comps[c];
  const WaveInput& first = s.inputs[comp.members.front()];
  if (!comp.moving) return "it does not move";
  if (comp.members.size() > 1) return "it moves with others (a dependency cycle or shared hosts)";
  if (!first.pilot_candidate)
    return first.not_pilot_because.empty() ? "not a pilot candidate" : first.not_pilot_because;
  if (comp.shared_infrastructure) return "it is shared infrastructure";
  if (comp.priority) return "it holds tier 1 data";
  if (comp.risk > s.options.max_pilot_risk)
    return fmt::format("risk {} (a pilot allows {})", comp.risk, s.options.max_pilot_risk);
  return "";
}

bool pilot_eligible(const Scheduling& s, size_t c) { return pilot_refusal(s, c).empty(); }

// Why c with what it hard-depends on cannot be a pilot: its own reason, or
// the first dependency found that cannot be (breadth first: the nearest).
std::string pilot_group_refusal(const Scheduling& s, size_t c) {
  if (auto own = pilot_refusal(s, c); !own.empty()) return own;
  std::vector<bool> seen(s.comps.size(), false);
  std::queue<size_t> todo;
  todo.push(c);
  seen[c] = true;
  while (!todo.empty()) {
    const size_t x = todo.front();
    todo.pop();
    if (auto theirs = pilot_refusal(s, x); !theirs.empty())
      return fmt::format("it depends on {}: {}", s.comps[x].name, theirs);
    for (size_t d : s.comps[x].deps) {
      if (!seen[d]) {
        seen[d] = true;
        todo.push(d);
      }
    }
  }
  return "it does not fit the pilot wave with its dependencies";
}

// The applications that came closest to being the pilot (lowest risk first),
// each with what stopped it: what an owner must change to get a pilot.
std::string nearest_pilots(const Scheduling& s) {
  std::vector<size_t> candidates;
  for (size_t c = 0; c < s.comps.size(); ++c) {
    const Component& comp = s.comps[c];
    if (comp.moving && !comp.shared_infrastructure && s.inputs[comp.members.front()].application)
      candidates.push_back(c);
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](size_t a, size_t b) { return s.comps[a].risk < s.comps[b].risk; });
  std::vector<std::string> parts;
  for (size_t i = 0; i < candidates.size() && i < 3; ++i) {
    parts.push_back(
        fmt::format("{} ({})", s.comps[candidates[i]].name, pilot_group_refusal(s, candidates[i])));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

// Component c and everything it hard-depends on, if all of it qualifies and
// fits in `limit` components.
std::optional<PilotGroup> pilot_group_from(const Scheduling& s, size_t c, int limit) {
  PilotGroup group;
  std::vector<size_t> todo{c};
  std::vector<bool> seen(s.comps.size(), false);
  seen[c] = true;
  while (!todo.empty()) {
    const size_t x = todo.back();
    todo.pop_back();
    if (!pilot_eligible(s, x) || static_cast<int>(group.comps.size()) >= limit) return std::nullopt;
    group.comps.push_back(x);
    for (size_t d : s.comps[x].deps) {
      if (!seen[d]) {
        seen[d] = true;
        todo.push_back(d);
      }
    }
  }
  std::sort(group.comps.begin(), group.comps.end());  // component order is dependency order
  group.confidence = 5;
  for (size_t x : group.comps) {
    for (size_t u : s.users[x]) {
      if (std::find(group.comps.begin(), group.comps.end(), u) == group.comps.end())
        group.self_contained = false;
    }
    const WaveInput& in = s.inputs[s.comps[x].members.front()];
    group.application = group.application || in.application;
    group.risk = std::max(group.risk, s.comps[x].risk);
    group.confidence = std::min(group.confidence, in.confidence);
    group.data_tb += s.comps[x].data_tb;
  }
  return group;
}

// Every group that could be the pilot, best first: self-contained groups (a
// pilot must not leave a consumer calling back across platforms), then
// well-known ones (a pilot built on guesses proves little), then those with
// an application, then the safest.
std::vector<PilotGroup> pilot_groups(const Scheduling& s, int limit) {
  std::vector<PilotGroup> groups;
  for (size_t c = 0; c < s.comps.size() && limit > 0; ++c) {
    if (!pilot_eligible(s, c)) continue;
    if (auto group = pilot_group_from(s, c, limit)) groups.push_back(std::move(*group));
  }
  auto group_key = [&](const PilotGroup& g) {
    return std::make_tuple(!g.self_contained, g.confidence < 3, !g.application, g.risk,
                           -g.confidence, g.data_tb, g.comps.size(),
                           std::cref(s.comps[g.comps.back()].name));
  };
  std::sort(groups.begin(), groups.end(),
            [&](const PilotGroup& a, const PilotGroup& b) { return group_key(a) < group_key(b); });
  return groups;
}

// Pass 2: the pilot, wave 1: the best groups that fit one wave, so that the
// pilot rehearses a real cutover and its rollback.
void place_pilot(Scheduling& s) {
  const int pilot_limit = std::min(s.options.pilot_size, s.options.max_workloads);
  const std::vector<PilotGroup> groups = pilot_groups(s, pilot_limit);
  int pilot_count = 0;
  double pilot_tb = 0;
  bool have_self_contained = false;
  for (const auto& group : groups) {
    // Once the pilot has a self-contained group, stragglers would only split
    // consumers from their dependencies.
    if (have_self_contained && !group.self_contained) break;
    int added = 0;
    double tb = 0;
    for (size_t x : group.comps) {
      if (s.comp_wave[x] == 0) {
        ++added;
        tb += s.comps[x].data_tb;
      }
    }
    if (added == 0 || pilot_count + added > pilot_limit || pilot_tb + tb > s.options.max_data_tb)
      continue;
    for (size_t x : group.comps) {
      if (s.comp_wave[x] == 0)
        s.assign(x, s.book.place(s.comps[x], 1, WaveKind::kPilot, s.out.warnings));
    }
    pilot_count += added;
    pilot_tb += tb;
    have_self_contained = have_self_contained || group.self_contained;
  }
  if (pilot_count == 0 && s.options.pilot_size > 0 && !groups.empty()) {
    s.out.warnings.push_back(
        fmt::format("no pilot: the workloads that qualify do not fit a wave ({}, {})",
                    workloads_text(pilot_limit), tb_text(s.options.max_data_tb)));
  } else if (pilot_count == 0 && s.options.pilot_size > 0) {
    s.out.warnings.push_back(fmt::format(
        "no pilot wave: no workload qualifies (a simple, low-risk, well-known move with an owner, "
        "without tier 1 data, with its dependencies); the first wave is a production wave. "
        "Nearest: {}",
        nearest_pilots(s)));
  }
}

// Pass 3: shared infrastructure whose own dependencies are already placed,
// in waves of its own right after the pilot.
void place_shared_infrastructure(Scheduling& s) {
  const int infra_start = s.book.size() + 1;
  for (size_t c = 0; c < s.comps.size(); ++c) {  // components are in dependency order
    const Component& comp = s.comps[c];
    if (!comp.moving || !comp.shared_infrastructure || s.comp_wave[c] != 0) continue;
    int earliest = infra_start;
    const Component* blocking = nullptr;  // a dependency not placed in the pilot or this group
    for (size_t d : comp.deps) {
      if (s.comp_wave[d] == 0 && !blocking) blocking = &s.comps[d];
      earliest = std::max(earliest, s.comp_wave[d]);
    }
    if (blocking) {
      s.out.warnings.push_back(
          fmt::format("shared infrastructure {} depends on {}, which cannot move with the "
                      "infrastructure group; {} moves with the regular waves",
                      comp.name, blocking->name, comp.name));
      continue;
    }
    s.assign(c, s.book.place(comp, earliest, WaveKind::kSharedInfrastructure, s.out.warnings));
  }
}

// Pass 4: everything else, in dependency order; among what is ready, the
// earliest possible wave first, then tier 1 data, then the lower risk.
void place_in_dependency_order(Scheduling& s) {
  const int regular_start = s.book.size() + 1;
  std::vector<size_t> waiting(s.comps.size(), 0);
  std::vector<std::vector<size_t>> dependents(s.comps.size());
  using Key = std::tuple<int, bool, int, std::string, size_t>;
  std::priority_queue<Key, std::vector<Key>, std::greater<Key>> ready;
  auto make_ready = [&](size_t c) {
    int earliest = regular_start;
    for (size_t d : s.comps[c].deps) earliest = std::max(earliest, s.comp_wave[d]);
    ready.emplace(earliest, !s.comps[c].priority, s.comps[c].risk, s.comps[c].name, c);
  };
  for (size_t c = 0; c < s.comps.size(); ++c) {
    if (!s.comps[c].moving || s.comp_wave[c] != 0) continue;
    for (size_t d : s.comps[c].deps) {
      if (s.comp_wave[d] == 0) {
        ++waiting[c];
        dependents[d].push_back(c);
      }
    }
  }
  for (size_t c = 0; c < s.comps.size(); ++c) {
    if (s.comps[c].moving && s.comp_wave[c] == 0 && waiting[c] == 0) make_ready(c);
  }
  while (!ready.empty()) {
    auto [earliest, not_priority, risk, name, c] = ready.top();
    ready.pop();
    s.assign(c, s.book.place(s.comps[c], earliest, WaveKind::kMigration, s.out.warnings));
    for (size_t dep : dependents[c]) {
      if (--waiting[dep] == 0) make_ready(dep);
    }
  }
}

// Pass 5: pull dependencies towards their consumers. The forward pass moves
// each component as early as possible, which would move a database months
// before the applications using it (and leave them talking across
// platforms). Dependents first, each component moves to the latest migration
// wave no later than its earliest dependent that has room. Waves this
// empties disappear.
void pull_dependencies_towards_consumers(Scheduling& s) {
  for (size_t c = s.comps.size(); c-- > 0;) {
    if (s.comp_wave[c] == 0 || s.book.kind(s.comp_wave[c]) != WaveKind::kMigration ||
        s.users[c].empty())
      continue;
    int latest = std::numeric_limits<int>::max();
    for (size_t u : s.users[c]) {
      if (s.comp_wave[u] != 0) latest = std::min(latest, s.comp_wave[u]);
    }
    if (latest == std::numeric_limits<int>::max()) continue;
    for (int w = latest; w > s.comp_wave[c]; --w) {
      if (s.book.kind(w) == WaveKind::kMigration && s.book.move(s.comps[c], s.comp_wave[c], w)) {
        s.assign(c, w);
        break;
      }
    }
  }
  s.book.drop_empty_waves(s.out.wave_of, s.comp_wave);
}

}  // namespace

WaveSchedule schedule_waves(const std::vector<WaveInput>& inputs, const WaveOptions& options) {
  WaveSchedule out;
  out.wave_of.assign(inputs.size(), 0);
  out.cycle_of.assign(inputs.size(), -1);
  // 1. Cycles move together: one component per cycle or lone workload.
  Scheduling s(inputs, options, out, build_components(inputs, out));
  // 2. A small, safe pilot first.
  place_pilot(s);
  // 3. Then shared infrastructure (DNS, identity, monitoring) as its own group.
  place_shared_infrastructure(s);
  // 4. Then everything else, nothing before what it depends on.
  place_in_dependency_order(s);
  // 5. Then dependencies move as late as their consumers allow.
  pull_dependencies_towards_consumers(s);
  out.waves = s.book.take();
  return out;
}

}  // namespace ferry::assess
