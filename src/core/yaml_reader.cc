#include "core/yaml_reader.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/text.h"

namespace ferry {

Result<YAML::Node> parse_yaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    SourceLocation where{file, e.mark.line + 1, e.mark.column + 1};
    return fail(ErrorCode::kInvalidInput, fmt::format("{}: error: {}", where.to_string(), e.msg));
  }
}

SourceLocation location_of(const YAML::Node& node, const std::string& file) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return SourceLocation{file, 0, 0};
  return SourceLocation{file, mark.line + 1, mark.column + 1};
}

MappingReader::MappingReader(const YAML::Node& node, std::string file, std::string path,
                             Diagnostics& diags)
    : node_(node), file_(std::move(file)), path_(std::move(path)), diags_(diags) {
  if (!node_.IsMap()) {
    valid_ = false;
    diags_.error(where(), fmt::format("{}: expected a mapping of keys to values", path_));
  }
}

std::string MappingReader::field(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

SourceLocation MappingReader::where(const std::string& key) {
  if (valid_) {
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) return location_of(it->second, file_);
    }
  }
  return where();
}

void MappingReader::error_at(const std::string& key, const std::string& message) {
  diags_.error(where(key), fmt::format("{}: {}", field(key), message));
}

std::optional<YAML::Node> MappingReader::value(const std::string& key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
  if (!valid_) return std::nullopt;
  YAML::Node v = node_[key];
  if (!v.IsDefined()) return std::nullopt;
  return v;
}

bool MappingReader::has(const std::string& key) {
  auto v = value(key);
  return v && !v->IsNull();
}

YAML::Node MappingReader::node(const std::string& key) {
  auto v = value(key);
  return v ? *v : YAML::Node(YAML::NodeType::Undefined);
}

std::optional<std::string> MappingReader::text(const std::string& key) {
  auto v = value(key);
  if (!v || v->IsNull()) return std::nullopt;
  if (!v->IsScalar()) {
    error_at(key, "expected text, got a list or mapping");
    return std::nullopt;
  }
  return v->Scalar();
}

std::optional<std::string> MappingReader::optional_text(const std::string& key) {
  auto v = value(key);
  if (v && v->IsNull()) return std::string();
  return text(key);
}

std::optional<bool> MappingReader::boolean(const std::string& key) {
  auto v = value(key);
  if (!v || v->IsNull()) return std::nullopt;
  bool out = false;
  if (v->IsScalar() && YAML::convert<bool>::decode(*v, out)) return out;
  error_at(key, fmt::format("expected true or false, got '{}'", v->IsScalar() ? v->Scalar() : "a list or mapping"));
  return std::nullopt;
}

std::optional<double> MappingReader::number(const std::string& key, double min, double max) {
  auto v = value(key);
  if (!v || v->IsNull()) return std::nullopt;
  double out = 0;
  if (!v->IsScalar() || !YAML::convert<double>::decode(*v, out) || !std::isfinite(out)) {
    error_at(key, fmt::format("expected a number, got '{}'",
                              v->IsScalar() ? v->Scalar() : "a list or mapping"));
    return std::nullopt;
  }
  if (out < min || out > max) {
    error_at(key, fmt::format("{} is out of range [{}, {}]", v->Scalar(), min, max));
    return std::nullopt;
  }
  return out;
}

std::optional<int64_t> MappingReader::integer(const std::string& key, int64_t min, int64_t max) {
  auto v = value(key);
  if (!v || v->IsNull()) return std::nullopt;
  int64_t out = 0;
  if (!v->IsScalar() || !YAML::convert<int64_t>::decode(*v, out)) {
    error_at(key, fmt::format("expected a whole number, got '{}'",
                              v->IsScalar() ? v->Scalar() : "a list or mapping"));
    return std::nullopt;
  }
  if (out < min || out > max) {
    error_at(key, fmt::format("{} is out of range [{}, {}]", out, min, max));
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> MappingReader::choice(const std::string& key,
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

std::optional<std::vector<std::string>> MappingReader::text_list(const std::string& key) {
  auto v = value(key);
  if (!v || v->IsNull()) return std::nullopt;
  std::vector<std::string> out;
  if (v->IsScalar()) {
    out.push_back(v->Scalar());
    return out;
  }
  if (!v->IsSequence()) {
    error_at(key, "expected a list");
    return std::nullopt;
  }
  bool ok = true;
  for (size_t i = 0; i < v->size(); ++i) {
    const YAML::Node item = (*v)[i];
    if (!item.IsScalar()) {
      diags_.error(location_of(item, file_),
                   fmt::format("{}[{}]: expected text, got a list or mapping", field(key), i));
      ok = false;
      continue;
    }
    out.push_back(item.Scalar());
  }
  if (!ok) return std::nullopt;
  return out;
}

SourceLocation MappingReader::element_location(const std::string& key, size_t index) {
  auto v = value(key);
  if (v && v->IsSequence() && index < v->size()) return location_of((*v)[index], file_);
  return where(key);
}

void MappingReader::require(const std::string& key) {
  auto v = value(key);
  if (valid_ && (!v || v->IsNull())) {
    diags_.error(where(), fmt::format("{}: missing required field '{}'", path_, key));
  }
}

void MappingReader::finish() {
  if (!valid_) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    diags_.error(location_of(it->first, file_),
                 fmt::format("{}: unknown key '{}'{}", path_.empty() ? "top level" : path_, key,
                             did_you_mean_hint(key, known_)));
  }
}

}  // namespace ferry
