// libFuzzer target: every inventory importer and the traffic parser on
// arbitrary bytes. They read files users hand to ferry, so any input must end
// in workloads or diagnostics, never a crash, hang or sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "assess/importers.h"
#include "assess/traffic.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ferry;
  using namespace ferry::assess;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Diagnostics diags;
  PlanningDefaults defaults;
  import_native_yaml(text, "fuzz.yaml", defaults, diags);
  if (auto table = parse_csv(text, "fuzz.csv")) {
    import_seed_csv(*table, "fuzz.csv", diags);
    import_konveyor_csv(*table, "fuzz.csv", diags);
    import_aws_discovery_csv(*table, "fuzz.csv", diags);
  }
  parse_traffic(std::string_view(text).substr(0, 64));
  diags.to_string();
  return 0;
}
