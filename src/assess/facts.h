// Facts: the named values rules read about one workload. Some come straight
// from the inventory, some are derived (service mapping, data size, graph
// position), and some are assumed because the inventory did not say; every
// assumed fact is recorded so the plan can show it and lower its confidence.
#pragma once

#include <map>
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

struct Fact {
  FactValue value;
  bool assumed = false;  // the inventory did not say; the rules' assumption was used
};

class Facts {
 public:
  void set(const std::string& name, FactValue value, bool assumed = false);
  const Fact* get(const std::string& name) const;
  const std::map<std::string, Fact>& all() const { return facts_; }

 private:
  std::map<std::string, Fact> facts_;
};

std::string format_fact_value(const FactValue& v);

}  // namespace ferry::assess
