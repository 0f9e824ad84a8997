#include "assess/inventory.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/text.h"

namespace ferry::assess {

const std::vector<std::string> kKinds{"service", "frontend", "batch",   "database",
                                      "cache",   "queue",    "storage", "cots"};
const std::vector<std::string> kCriticalities{"low", "medium", "high", "critical"};
const std::vector<std::string> kClassifications{"tier1", "tier2", "tier3", "public"};

std::optional<std::string> criticality_from_text(std::string_view text) {
  const std::string v = to_lower(trim(text));
  if (v == "yes" || v == "true") return "high";
  if (v == "no" || v == "false") return "low";
  for (const auto& c : kCriticalities) {
    if (v == c) return c;
  }
  return std::nullopt;
}

int criticality_rank(std::string_view criticality) {
  auto it = std::find(kCriticalities.begin(), kCriticalities.end(), criticality);
  return it == kCriticalities.end() ? -1 : static_cast<int>(it - kCriticalities.begin());
}

std::string canonical_engine(std::string_view word) {
  static const std::array<std::pair<const char*, const char*>, 22> kSpellings{{
      {"postgresql", "postgresql"},
      {"postgres", "postgresql"},
      {"pg", "postgresql"},
      {"mysql", "mysql"},
      {"mariadb", "mariadb"},
      {"oracle", "oracle"},
      {"sqlserver", "sqlserver"},
      {"mssql", "sqlserver"},
      {"redis", "redis"},
      {"valkey", "redis"},
      {"memcached", "memcached"},
      {"mongodb", "mongodb"},
      {"mongo", "mongodb"},
      {"elasticsearch", "elasticsearch"},
      {"opensearch", "opensearch"},
      {"cassandra", "cassandra"},
      {"kafka", "kafka"},
      {"rabbitmq", "rabbitmq"},
      {"nfs", "nfs"},
      {"sqlite", "sqlite"},
      {"db2", "db2"},
      {"couchdb", "couchdb"},
  }};
  const std::string key = normalize_name(word);
  for (const auto& [spelling, engine] : kSpellings) {
    if (key == spelling) return engine;
  }
  return "";
}

}  // namespace ferry::assess
