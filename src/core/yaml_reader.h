// Strict, schema-driven reading of YAML (and JSON) with file:line:column for
// every problem. A MappingReader reads the keys a loader knows; finish() then
// reports every key nobody asked for, with a "did you mean" hint. Problems go
// to Diagnostics so a loader reports them all at once.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostics.h"
#include "core/yaml.h"

namespace ferry {

SourceLocation location_of(const YamlNode& node, const std::string& file);

class MappingReader {
 public:
  // `path` names the mapping in messages, e.g. "workloads[3]". A node that is
  // not a mapping is reported once and every read returns nothing. Keys passed
  // to the readers must outlive the reader (string literals, usually).
  MappingReader(const YamlNode& node, std::string file, std::string path, Diagnostics& diags);

  bool valid() const { return valid_; }
  bool has(std::string_view key);
  // The raw node, for nested structures; marks the key as known. nullptr when absent.
  const YamlNode* node(std::string_view key);

  // Each returns nullopt when the key is absent or its value is invalid (the
  // latter is reported). An explicit null reads as absent, except for
  // optional_text, where null means "known to be none" and reads as "".
  std::optional<std::string> text(std::string_view key);
  std::optional<std::string> optional_text(std::string_view key);
  std::optional<bool> boolean(std::string_view key);
  std::optional<double> number(std::string_view key, double min, double max);
  std::optional<int64_t> integer(std::string_view key, int64_t min, int64_t max);
  std::optional<std::string> choice(std::string_view key, std::span<const std::string> allowed);
  // A sequence of scalars; a single scalar is accepted as a one-element list.
  std::optional<std::vector<std::string>> text_list(std::string_view key);
  // Location of the i-th element of a list key (for messages about elements).
  SourceLocation element_location(std::string_view key, size_t index);

  void require(std::string_view key);
  // Reports keys present in the mapping that were never read.
  void finish();

  SourceLocation where() const { return location_of(node_, file_); }
  SourceLocation where(std::string_view key);
  const std::string& file() const { return file_; }
  std::string field(std::string_view key) const;

 private:
  const YamlNode* value(std::string_view key);
  void error_at(std::string_view key, const std::string& message);

  const YamlNode& node_;
  std::string file_;
  std::string path_;
  Diagnostics& diags_;
  bool valid_ = true;
  std::vector<std::string_view> known_;
};

}  // namespace ferry
