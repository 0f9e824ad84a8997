#include "proxy/response_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include "core/yaml.h"

namespace ferry::proxy {

namespace {

using Step = JsonPathPattern::Step;

constexpr size_t kShownValue = 200;

std::string shortened(std::string_view v) {
  if (v.size() <= kShownValue) return std::string(v);
  return std::string(v.substr(0, kShownValue)) + "...";
}

std::string path_text(const std::vector<Step>& steps) {
  std::string out = "$";
  for (const Step& s : steps)
    out += s.index ? (s.any ? std::string("[*]") : "[" + std::to_string(s.n) + "]") : "." + s.key;
  return out;
}

std::string shown(const YamlNode& n) {
  switch (n.kind()) {
    case YamlNode::Kind::kNull:
      return "null";
    case YamlNode::Kind::kScalar:
      return shortened(n.quoted() ? "\"" + n.scalar() + "\"" : n.scalar());
    case YamlNode::Kind::kSequence:
      return fmt::format("[...] ({} items)", n.size());
    case YamlNode::Kind::kMapping:
      return fmt::format("{{...}} ({} keys)", n.size());
  }
  return "";
}

bool scalars_equal(const YamlNode& a, const YamlNode& b) {
  if (a.quoted() != b.quoted()) return false;
  if (!a.quoted()) {
    const auto x = a.as_number(), y = b.as_number();
    if (x && y) return *x == *y;
  }
  return a.scalar() == b.scalar();
}

// A pattern covers the path when it matches the path or one of its parents.
bool covers(const JsonPathPattern& p, const std::vector<Step>& path) {
  if (p.steps.size() > path.size()) return false;
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const Step &want = p.steps[i], &have = path[i];
    if (want.index != have.index) return false;
    if (want.index ? !(want.any || want.n == have.n) : want.key != have.key) return false;
  }
  return true;
}

class JsonComparison {
 public:
  JsonComparison(const DiffPolicy& policy, std::vector<FieldDifference>& out)
      : policy_(policy), out_(out) {}

  void compare(const YamlNode* a, const YamlNode* b) {
    if (ignored()) return;
    if (!a || !b) {
      out_.push_back({path_text(path_), a ? shown(*a) : "(absent)", b ? shown(*b) : "(absent)"});
      return;
    }
    if (a->kind() != b->kind()) {
      differ(*a, *b);
      return;
    }
    switch (a->kind()) {
      case YamlNode::Kind::kNull:
        return;
      case YamlNode::Kind::kScalar:
        if (!scalars_equal(*a, *b)) differ(*a, *b);
        return;
      case YamlNode::Kind::kSequence:
        for (size_t i = 0; i < std::max(a->size(), b->size()); ++i) {
          path_.push_back({true, false, "", i});
          compare(i < a->size() ? &(*a)[i] : nullptr, i < b->size() ? &(*b)[i] : nullptr);
          path_.pop_back();
        }
        return;
      case YamlNode::Kind::kMapping: {
        std::set<std::string> seen;
        for (size_t i = 0; i < a->size(); ++i) {
          const std::string& key = a->key(i).scalar();
          seen.insert(key);
          path_.push_back({false, false, key, 0});
          compare(&a->value(i), b->find(key));
          path_.pop_back();
        }
        for (size_t i = 0; i < b->size(); ++i) {
          const std::string& key = b->key(i).scalar();
          if (seen.count(key)) continue;
          path_.push_back({false, false, key, 0});
          compare(nullptr, &b->value(i));
          path_.pop_back();
        }
        return;
      }
    }
  }

 private:
  bool ignored() const {
    return std::any_of(policy_.ignore.begin(), policy_.ignore.end(),
                       [&](const JsonPathPattern& p) { return covers(p, path_); });
  }
  void differ(const YamlNode& a, const YamlNode& b) {
    out_.push_back({path_text(path_), shown(a), shown(b)});
  }

  const DiffPolicy& policy_;
  std::vector<FieldDifference>& out_;
  std::vector<Step> path_;
};

// Only an object or an array counts as a JSON body: a YAML parser would take
// plain text for a scalar.
bool looks_like_json(std::string_view body) {
  const size_t first = body.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (body[first] == '{' || body[first] == '[');
}

std::string header_values(const AnswerToCompare& a, const std::string& name) {
  std::string out;
  bool found = false;
  for (const auto& [n, v] : a.headers) {
    if (n != name) continue;
    out += (found ? ", " : "") + v;
    found = true;
  }
  return found ? out : "(absent)";
}

}  // namespace

Result<JsonPathPattern> parse_json_path(std::string_view text) {
  JsonPathPattern p;
  p.text = std::string(text);
  auto bad = [&](const std::string& why) -> Result<JsonPathPattern> {
    return fail(
        ErrorCode::kInvalidInput,
        fmt::format("'{}' is not a field path ({}); write it like $.items[*].etag", text, why));
  };
  if (text.empty() || text[0] != '$') return bad("it must start with $");
  size_t i = 1;
  while (i < text.size()) {
    if (text[i] == '.') {
      const size_t end = text.find_first_of(".[", i + 1);
      std::string key(
          text.substr(i + 1, (end == std::string_view::npos ? text.size() : end) - i - 1));
      if (key.empty()) return bad("an empty key after '.'");
      p.steps.push_back({false, false, std::move(key), 0});
      i = end == std::string_view::npos ? text.size() : end;
    } else if (text[i] == '[') {
      const size_t close = text.find(']', i);
      if (close == std::string_view::npos) return bad("a '[' without ']'");
      const std::string_view inside = text.substr(i + 1, close - i - 1);
      if (inside == "*") {
        p.steps.push_back({true, true, "", 0});
      } else {
        size_t n = 0;
        const auto [end, ec] = std::from_chars(inside.data(), inside.data() + inside.size(), n);
        if (inside.empty() || ec != std::errc() || end != inside.data() + inside.size())
          return bad("an index must be a number or *");
        p.steps.push_back({true, false, "", n});
      }
      i = close + 1;
    } else {
      return bad(fmt::format("unexpected '{}' at {}", text[i], i + 1));
    }
  }
  return p;
}

std::vector<std::vector<FieldDifference>> diff_answers(const AnswerToCompare& primary,
                                                       std::span<const AnswerToCompare> others,
                                                       const DiffPolicy& policy) {
  // The primary's body is parsed once, and only if some other body differs.
  std::optional<Result<YamlNode>> parsed_primary;
  std::vector<std::vector<FieldDifference>> all;
  for (const AnswerToCompare& other : others) {
    std::vector<FieldDifference>& out = all.emplace_back();
    if (primary.status != other.status)
      out.push_back({"status", std::to_string(primary.status), std::to_string(other.status)});
    for (const std::string& name : policy.headers) {
      std::string a = header_values(primary, name), b = header_values(other, name);
      if (a != b) out.push_back({"header:" + name, shortened(a), shortened(b)});
    }
    if (primary.body == other.body) continue;
    if (looks_like_json(primary.body) && looks_like_json(other.body)) {
      if (!parsed_primary) parsed_primary = parse_yaml(primary.body, "primary");
      auto b = parse_yaml(other.body, "other");
      if (*parsed_primary && b) {
        JsonComparison(policy, out).compare(&**parsed_primary, &*b);
        continue;
      }
    }
    out.push_back({"body", shortened(primary.body), shortened(other.body)});
  }
  return all;
}

std::vector<FieldDifference> diff_answers(const AnswerToCompare& primary,
                                          const AnswerToCompare& candidate,
                                          const DiffPolicy& policy) {
  return std::move(diff_answers(primary, std::span(&candidate, 1), policy)[0]);
}

std::string general_path(std::string_view path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '[' && i + 1 < path.size() && path[i + 1] >= '0' && path[i + 1] <= '9') {
      const size_t close = path.find(']', i);
      if (close != std::string_view::npos) {
        out += "[*]";
        i = close;
        continue;
      }
    }
    out += path[i];
  }
  return out;
}

bool stands_out(int64_t candidate, int64_t noise, int64_t samples) {
  if (candidate <= 0 || samples <= 0) return false;
  const double beyond = static_cast<double>(candidate - noise);
  return beyond > kRelativeThreshold * static_cast<double>(candidate) &&
         beyond > kAbsoluteThreshold * static_cast<double>(samples);
}

}  // namespace ferry::proxy
