// A YAML (and JSON) document tree with the line and column of every node,
// built on libyaml's event parser. ferry reads configuration through it
// (see yaml_reader.h); it owns its nodes and has no hidden sharing.
//
// Why not yaml-cpp: it parsed a 3.7 MB inventory in 0.86 s where libyaml's
// parser takes 0.08 s, and `ferry assess` must plan 10,000 workloads in under
// a second (bench/assess_scale.sh).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace ferry {

class YamlNode {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMapping };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_scalar() const { return kind_ == Kind::kScalar; }
  bool is_sequence() const { return kind_ == Kind::kSequence; }
  bool is_mapping() const { return kind_ == Kind::kMapping; }
  int line() const { return line_; }      // 1-based
  int column() const { return column_; }  // 1-based

  // The text of a scalar ("" for other kinds).
  const std::string& scalar() const { return scalar_; }
  // Written in quotes: in JSON, a string ("1"), not a number or true/false.
  bool quoted() const { return quoted_; }
  // Typed views of a scalar; nullopt when it is not one. Booleans follow
  // YAML 1.1 (true/false, yes/no, on/off).
  std::optional<bool> as_bool() const;
  std::optional<double> as_number() const;
  std::optional<int64_t> as_integer() const;

  // Sequence items.
  size_t size() const { return kind_ == Kind::kMapping ? children_.size() / 2 : children_.size(); }
  const YamlNode& operator[](size_t i) const { return children_[i]; }
  // Mapping entries, in document order.
  const YamlNode& key(size_t i) const { return children_[2 * i]; }
  const YamlNode& value(size_t i) const { return children_[2 * i + 1]; }
  // The value under a scalar key, or nullptr.
  const YamlNode* find(std::string_view key) const;
  // For documents read as data (a JSON answer, a status file): the text of
  // the scalar under `key` ("" when absent or not a scalar), and its number
  // truncated to an integer (0 when absent or not a number).
  std::string text_at(std::string_view key) const;
  int64_t integer_at(std::string_view key) const;

 private:
  friend class YamlBuilder;
  Kind kind_ = Kind::kNull;
  int line_ = 0;
  int column_ = 0;
  std::string scalar_;
  bool quoted_ = false;
  std::vector<YamlNode> children_;  // sequence items, or key, value, key, value...
};

// Parses one document; a syntax error names file:line:column.
Result<YamlNode> parse_yaml(std::string_view text, const std::string& file);

}  // namespace ferry
