#include "assess/catalog.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/diagnostics.h"
#include "core/text.h"
#include "core/yaml_reader.h"

extern const std::string_view ferry_builtin_catalog;

namespace ferry::assess {

const std::vector<std::string> kComplexities{"low", "medium", "high"};
const std::vector<std::string> kConstraints{
    "no_replication_out",     // a replica outside the service cannot attach (no REPLICAOF/SYNC)
    "hashes_not_exportable",  // password hashes cannot be exported
    "keys_not_exportable",    // key material never leaves the service
    "no_superuser",           // managed database: no superuser, no ALTER SYSTEM
};

namespace {
const std::vector<std::string> kProviders{"aws", "azure", "gcp", "saas", "other"};
}

std::string_view builtin_catalog_text() { return ferry_builtin_catalog; }

Result<Catalog> Catalog::parse(const std::string& text, const std::string& file) {
  auto root = parse_yaml(text, file);
  if (!root) return tl::unexpected(root.error());
  Diagnostics diags;
  Catalog catalog;
  MappingReader top(*root, file, "", diags);
  top.require("services");
  const YamlNode* list = top.node("services");
  top.finish();
  if (list && !list->is_sequence()) {
    diags.error(location_of(*list, file), "services: expected a list");
  }
  std::unordered_map<std::string, SourceLocation> seen;
  for (size_t i = 0; list && list->is_sequence() && i < list->size(); ++i) {
    MappingReader r((*list)[i], file, fmt::format("services[{}]", i), diags);
    CatalogEntry e;
    r.require("name");
    r.require("to");
    r.require("complexity");
    e.name = r.text("name").value_or("");
    e.provider = r.choice("provider", kProviders).value_or("other");
    e.aliases = r.text_list("aliases").value_or(std::vector<std::string>{});
    e.category = r.text("category").value_or("other");
    e.to = r.text("to").value_or("");
    e.complexity = r.choice("complexity", kComplexities).value_or("");
    e.proprietary = r.boolean("proprietary").value_or(false);
    e.notes = r.text("notes").value_or("");
    const auto constraints = r.text_list("constraints").value_or(std::vector<std::string>{});
    for (size_t c = 0; c < constraints.size(); ++c) {
      if (std::find(kConstraints.begin(), kConstraints.end(), constraints[c]) ==
          kConstraints.end()) {
        diags.error(r.element_location("constraints", c),
                    fmt::format("services[{}].constraints: unknown constraint '{}'{}; expected "
                                "one of: {}",
                                i, constraints[c], did_you_mean_hint(constraints[c], kConstraints),
                                join(kConstraints, ", ")));
      } else {
        e.constraints.push_back(constraints[c]);
      }
    }
    r.finish();
    if (e.name.empty()) continue;
    std::vector<std::string> spellings = e.aliases;
    spellings.push_back(e.name);
    for (const auto& spelling : spellings) {
      const std::string key = normalize_name(spelling);
      if (auto [it, inserted] = seen.emplace(key, r.where()); !inserted) {
        diags.error(r.where(), fmt::format("services[{}]: '{}' is already used by the entry at {}",
                                           i, spelling, it->second.to_string()));
      } else {
        catalog.by_name_.emplace(key, catalog.entries_.size());
      }
    }
    catalog.entries_.push_back(std::move(e));
  }
  if (diags.has_errors()) return tl::unexpected(diags.to_error(file));
  return catalog;
}

const CatalogEntry* Catalog::find(std::string_view service) const {
  auto it = by_name_.find(normalize_name(service));
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

}  // namespace ferry::assess
