// libFuzzer target: the rules and catalog loaders (--rules, --catalog) on
// arbitrary bytes: a bad file must become a list of errors, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "assess/catalog.h"
#include "assess/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry::assess;
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto rules = RuleSet::parse(text, "fuzz.yaml");
  if (rules) {
    // A rule set that loads must also evaluate on an empty fact set.
    Facts facts;
    for (const auto& d : rules->decisions) decide(d, facts);
  }
  (void)Catalog::parse(text, "fuzz.yaml");
  return 0;
}
