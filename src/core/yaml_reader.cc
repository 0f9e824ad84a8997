#include "core/yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/text.h"

namespace ferry {

namespace {

std::string shown(const YamlNode& v) { return v.is_scalar() ? v.scalar() : "a list or mapping"; }

}  // namespace

SourceLocation location_of(const YamlNode& node, const std::string& file) {
  return SourceLocation{file, node.line(), node.column()};
}

MappingReader::MappingReader(const YamlNode& node, std::string file, std::string path,
                             Diagnostics& diags)
    : node_(node), file_(std::move(file)), path_(std::move(path)), diags_(diags) {
  if (!node_.is_mapping()) {
    valid_ = false;
    diags_.error(where(), fmt::format("{}: expected a mapping of keys to values",
                                      path_.empty() ? "document" : path_));
  }
}

std::string MappingReader::field(std::string_view key) const {
  return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
}

SourceLocation MappingReader::where(std::string_view key) {
  if (const YamlNode* v = valid_ ? node_.find(key) : nullptr) return location_of(*v, file_);
  return where();
}

void MappingReader::error_at(std::string_view key, const std::string& message) {
  diags_.error(where(key), fmt::format("{}: {}", field(key), message));
}

const YamlNode* MappingReader::value(std::string_view key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
  return valid_ ? node_.find(key) : nullptr;
}

bool MappingReader::has(std::string_view key) {
  const YamlNode* v = value(key);
  return v && !v->is_null();
}

const YamlNode* MappingReader::node(std::string_view key) { return value(key); }

std::optional<std::string> MappingReader::text(std::string_view key) {
  const YamlNode* v = value(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_scalar()) {
    error_at(key, "expected text, got a list or mapping");
    return std::nullopt;
  }
  return v->scalar();
}

std::optional<std::string> MappingReader::optional_text(std::string_view key) {
  const YamlNode* v = value(key);
  if (v && v->is_null()) return std::string();
  return text(key);
}

std::optional<bool> MappingReader::boolean(std::string_view key) {
  const YamlNode* v = value(key);
  if (!v || v->is_null()) return std::nullopt;
  if (auto b = v->as_bool()) return b;
  error_at(key, fmt::format("expected true or false, got '{}'", shown(*v)));
  return std::nullopt;
}

std::optional<double> MappingReader::number(std::string_view key, double min, double max) {
  const YamlNode* v = value(key);
  if (!v || v->is_null()) return std::nullopt;
  auto out = v->as_number();
  if (!out || !std::isfinite(*out)) {
    error_at(key, fmt::format("expected a number, got '{}'", shown(*v)));
    return std::nullopt;
  }
  if (*out < min || *out > max) {
    error_at(key, fmt::format("{} is out of range [{}, {}]", v->scalar(), min, max));
    return std::nullopt;
  }
  return out;
}

std::optional<int64_t> MappingReader::integer(std::string_view key, int64_t min, int64_t max) {
  const YamlNode* v = value(key);
  if (!v || v->is_null()) return std::nullopt;
  auto out = v->as_integer();
  if (!out) {
    error_at(key, fmt::format("expected a whole number, got '{}'", shown(*v)));
    return std::nullopt;
  }
  if (*out < min || *out > max) {
    error_at(key, fmt::format("{} is out of range [{}, {}]", *out, min, max));
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> MappingReader::choice(std::string_view key,
                                                 std::span<const std::string> allowed) {
  auto raw = text(key);
  if (!raw) return std::nullopt;
  const std::string lowered = to_lower(*raw);
  if (std::find(allowed.begin(), allowed.end(), lowered) != allowed.end()) return lowered;
  error_at(key, fmt::format("unknown value '{}'{}; expected one of: {}", *raw,
                            did_you_mean_hint(*raw, allowed),
                            join(std::vector<std::string>(allowed.begin(), allowed.end()), ", ")));
  return std::nullopt;
}

std::optional<std::vector<std::string>> MappingReader::text_list(std::string_view key) {
  const YamlNode* v = value(key);
  if (!v || v->is_null()) return std::nullopt;
  std::vector<std::string> out;
  if (v->is_scalar()) {
    out.push_back(v->scalar());
    return out;
  }
  if (!v->is_sequence()) {
    error_at(key, "expected a list");
    return std::nullopt;
  }
  bool ok = true;
  for (size_t i = 0; i < v->size(); ++i) {
    const YamlNode& item = (*v)[i];
    if (!item.is_scalar()) {
      diags_.error(location_of(item, file_),
                   fmt::format("{}[{}]: expected text, got a list or mapping", field(key), i));
      ok = false;
      continue;
    }
    out.push_back(item.scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

SourceLocation MappingReader::element_location(std::string_view key, size_t index) {
  const YamlNode* v = value(key);
  if (v && v->is_sequence() && index < v->size()) return location_of((*v)[index], file_);
  return where(key);
}

void MappingReader::require(std::string_view key) {
  const YamlNode* v = value(key);
  if (valid_ && (!v || v->is_null())) {
    diags_.error(where(), fmt::format("{}: missing required field '{}'",
                                      path_.empty() ? "document" : path_, key));
  }
}

void MappingReader::finish() {
  if (!valid_) return;
  for (size_t i = 0; i < node_.size(); ++i) {
    const YamlNode& k = node_.key(i);
    const std::string name = k.is_scalar() ? k.scalar() : "?";
    if (std::find(known_.begin(), known_.end(), name) != known_.end()) continue;
    const std::vector<std::string> known(known_.begin(), known_.end());
    diags_.error(location_of(k, file_),
                 fmt::format("{}: unknown key '{}'{}", path_.empty() ? "top level" : path_, name,
                             did_you_mean_hint(name, known)));
  }
}

}  // namespace ferry
