// libFuzzer target: the migration plan loader on arbitrary bytes: a bad plan
// must become a list of errors, never a crash; a plan that loads must keep
// its promises (every step's database is the plan's, every step can be
// described).
#include <cstddef>
#include <cstdint>
#include <string>

#include "run/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::run;
  const std::string text(reinterpret_cast<const char*>(data), size);
  // Every variable is set, to a connection string libpq accepts.
  const Environment env = [](std::string_view name) -> std::optional<std::string> {
    if (name.size() > 32) return std::nullopt;
    return "postgres://app:pw@db.example:5432/shop";
  };
  auto plan = parse_plan(text, "fuzz.yaml", env);
  if (!plan) return 0;
  for (const PlanStep& step : plan->steps) {
    if (!step.database.empty() && !plan->find_database(step.database)) __builtin_trap();
    if (step.describe().empty()) __builtin_trap();
  }
  return 0;
}
