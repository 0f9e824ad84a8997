#include "assess/tags.h"

#include <fmt/format.h>

#include "core/text.h"

namespace ferry::assess {

namespace {

// A tag in any of the shapes importers keep: "eol", "eol:yes", "Lifecycle/EOL",
// "criticality:critical". Returns the meaning's key, or "".
std::string meaning_of(const std::string& tag) {
  std::string text = to_lower(tag);
  // "Category/Tag" (Konveyor) and "key:value" (AWS): a yes/true value means the key.
  std::string key = text, value;
  if (auto colon = text.find(':'); colon != std::string::npos) {
    key = std::string(trim(text.substr(0, colon)));
    value = std::string(trim(text.substr(colon + 1)));
  } else if (auto slash = text.find('/'); slash != std::string::npos) {
    key = std::string(trim(text.substr(0, slash)));
    value = std::string(trim(text.substr(slash + 1)));
  }
  // criticality:high and critical:yes are a level, which the AWS importer
  // reads as such (critical:yes is high); only a bare word is a meaning here.
  if (!value.empty() && (key == "criticality" || key == "critical")) return "";
  const std::string word = value.empty() || value == "yes" || value == "true" ? key : value;
  const std::string name = normalize_name(word);
  if (name == "eol" || name == "endoflife" || name == "eos" || name == "endofsupport") return "eol";
  if (name == "critical" || name == "businesscritical" || name == "missioncritical")
    return "critical";
  if (name == "pii" || name == "gdpr" || name == "sensitive" || name == "personaldata")
    return "pii";
  if (name == "cots" || name == "commercialofftheshelf" || name == "vendorproduct") return "cots";
  return "";
}

template <typename T>
void fill(Workload& w, std::optional<T>& field, const T& value, const std::string& tag,
          const char* field_name, const std::string& shown, Diagnostics& warnings) {
  if (!field) {
    field = value;
    w.from_tags.push_back(fmt::format("{} -> {} {}", tag, field_name, shown));
  } else if (*field != value) {
    warnings.warning(w.where, fmt::format("{}: tag '{}' says {} {}, the inventory says otherwise; "
                                          "the inventory wins",
                                          w.name, tag, field_name, shown));
  }
}

}  // namespace

void apply_tags(Workload& w, Diagnostics& warnings) {
  for (const auto& tag : w.tags) {
    const std::string meaning = meaning_of(tag);
    if (meaning == "eol") {
      fill(w, w.remaining_lifespan_years, 0.0, tag, "remaining_lifespan_years", "0", warnings);
    } else if (meaning == "critical") {
      fill(w, w.criticality, std::string("critical"), tag, "criticality", "critical", warnings);
    } else if (meaning == "pii") {
      fill(w, w.data_classification, std::string("tier1"), tag, "data_classification", "tier1",
           warnings);
    } else if (meaning == "cots") {
      fill(w, w.commercial_off_the_shelf, true, tag, "commercial_off_the_shelf", "true", warnings);
    }
  }
}

}  // namespace ferry::assess
