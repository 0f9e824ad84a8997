// Facts: the named values rules read about one workload. Some come straight
// from the inventory, some are derived (service mapping, data size, graph
// position), and some are assumed because the inventory did not say; every
// assumed fact is recorded so the plan can show it and lower its confidence.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ferry::assess {

using FactValue = std::variant<bool, double, std::string>;

enum class FactType { kBool, kNumber, kText };

struct FactInfo {
  const char* name;
  FactType type;
  const char* meaning;
};

// Every fact a rule may name, with its type; rules naming anything else are
// rejected when loaded.
const std::vector<FactInfo>& fact_registry();
const FactInfo* find_fact(const std::string& name);
// Position of a fact in the registry; rules resolve names to it once, when loaded.
size_t fact_index(const FactInfo& info);

struct Fact {
  FactValue value;
  bool assumed = false;  // the inventory did not say; the rules' assumption was used
};

// One workload's facts, a slot per registry entry: rules are evaluated for
// every workload of large estates, so lookups are by index, not by name.
class Facts {
 public:
  Facts();
  // `name` must be in the registry.
  void set(const std::string& name, FactValue value, bool assumed = false);
  const Fact* get(const std::string& name) const;
  const Fact* get(size_t index) const { return slots_[index] ? &*slots_[index] : nullptr; }

 private:
  std::vector<std::optional<Fact>> slots_;
};

std::string format_fact_value(const FactValue& v);

}  // namespace ferry::assess
