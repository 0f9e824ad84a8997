#include "assess/inventory.h"

#include <algorithm>
#include <array>
#include <cctype>
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

std::string name_problem(std::string_view name) {
  if (trim(name).empty()) return "the name is empty";
  if (trim(name).size() != name.size()) return "the name starts or ends with whitespace";
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return "the name contains a control character";
  }
  return "";
}

int criticality_rank(std::string_view criticality) {
  auto it = std::find(kCriticalities.begin(), kCriticalities.end(), criticality);
  return it == kCriticalities.end() ? -1 : static_cast<int>(it - kCriticalities.begin());
}

std::string canonical_engine(std::string_view word) {
  static const std::array<std::pair<const char*, const char*>, 28> kSpellings{{
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
      {"s3", "s3"},
      {"gcs", "gcs"},
      {"blob", "blob"},
      {"efs", "efs"},
      {"minio", "minio"},
      {"files", "files"},
  }};
  const std::string key = normalize_name(word);
  for (const auto& [spelling, engine] : kSpellings) {
    if (key == spelling) return engine;
  }
  return "";
}

std::optional<EngineMention> engine_mentioned(std::string_view text) {
  // Object stores are engines (their data moves) and managed services at once.
  static const std::array<const char*, 4> kServiceEngines{"s3", "gcs", "blob", "efs"};
  auto versionish = [](const std::string& w) {
    return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'c' || c == 'g' ||
             c == 'i' || c == 'v';
    });
  };
  const std::vector<std::string> words = split_trimmed(text, " \t");
  std::optional<EngineMention> found;
  bool other_words = false;
  if (std::string whole = canonical_engine(text); !whole.empty()) {
    found = EngineMention{whole, false};
  } else {
    for (const auto& word : words) {
      if (std::string engine = canonical_engine(word); !engine.empty() && !found) {
        found = EngineMention{engine, false};
      } else if (!versionish(to_lower(word))) {
        other_words = true;
      }
    }
  }
  if (!found) return std::nullopt;
  found->is_service = other_words || std::find(kServiceEngines.begin(), kServiceEngines.end(),
                                               found->engine) != kServiceEngines.end();
  return found;
}

}  // namespace ferry::assess
