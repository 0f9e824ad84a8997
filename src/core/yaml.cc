#include "core/yaml.h"

#include <fmt/format.h>
#include <yaml.h>

#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "core/diagnostics.h"
#include "core/text.h"

namespace ferry {

namespace {

bool is_null_text(const std::string& s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

struct ParserDeleter {
  void operator()(yaml_parser_t* p) const {
    yaml_parser_delete(p);
    delete p;
  }
};

// Frees the event on every path out of the loop body.
struct Event {
  yaml_event_t e{};
  ~Event() { yaml_event_delete(&e); }
};

}  // namespace

std::optional<bool> YamlNode::as_bool() const {
  if (kind_ != Kind::kScalar) return std::nullopt;
  static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
  static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No",
                                       "NO",    "off",   "Off",   "OFF"};
  for (const char* t : kTrue) {
    if (scalar_ == t) return true;
  }
  for (const char* f : kFalse) {
    if (scalar_ == f) return false;
  }
  return std::nullopt;
}

std::optional<double> YamlNode::as_number() const {
  if (kind_ != Kind::kScalar) return std::nullopt;
  return parse_double(scalar_);
}

std::optional<int64_t> YamlNode::as_integer() const {
  if (kind_ != Kind::kScalar || scalar_.empty()) return std::nullopt;
  const char* begin = scalar_.data();
  const char* end = begin + scalar_.size();
  if (*begin == '+') ++begin;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(begin, end, v);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}

std::string YamlNode::text_at(std::string_view key) const {
  const YamlNode* v = find(key);
  return v ? v->scalar() : std::string();
}

int64_t YamlNode::integer_at(std::string_view key) const {
  const YamlNode* v = find(key);
  const auto n = v ? v->as_number() : std::nullopt;
  return n ? static_cast<int64_t>(*n) : 0;
}

const YamlNode* YamlNode::find(std::string_view key) const {
  if (kind_ != Kind::kMapping) return nullptr;
  for (size_t i = 0; i + 1 < children_.size(); i += 2) {
    if (children_[i].kind_ == Kind::kScalar && children_[i].scalar_ == key)
      return &children_[i + 1];
  }
  return nullptr;
}

// Turns libyaml's event stream into a tree. Anchored nodes are remembered and
// aliases copy them, so the tree has no shared parts.
class YamlBuilder {
 public:
  // Aliases copy their anchor, so a tiny hostile file can expand
  // exponentially ("billion laughs"); the tree is capped at this many nodes.
  static constexpr size_t kMaxNodes = 2'000'000;

  Result<YamlNode> build(std::string_view text, const std::string& file) {
    std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t);
    if (!yaml_parser_initialize(parser.get()))
      return fail(ErrorCode::kInternal, "libyaml: out of memory");
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
    std::vector<YamlNode> stack;
    std::vector<std::string> anchors_in_progress;
    YamlNode root;
    bool have_root = false;
    for (;;) {
      Event ev;
      if (!yaml_parser_parse(parser.get(), &ev.e)) {
        const yaml_mark_t& m = parser->problem_mark;
        return tl::unexpected(invalid_input_at(
            {file, static_cast<int>(m.line) + 1, static_cast<int>(m.column) + 1},
            fmt::format("{}{}", parser->problem ? parser->problem : "invalid YAML",
                        parser->context ? fmt::format(" ({})", parser->context) : "")));
      }
      const yaml_event_t& e = ev.e;
      YamlNode node;
      node.line_ = static_cast<int>(e.start_mark.line) + 1;
      node.column_ = static_cast<int>(e.start_mark.column) + 1;
      const char* anchor = nullptr;
      switch (e.type) {
        case YAML_STREAM_END_EVENT:
          return have_root ? std::move(root) : YamlNode{};
        case YAML_DOCUMENT_END_EVENT:
          // One document per file; later documents are ignored.
          return have_root ? std::move(root) : YamlNode{};
        case YAML_SCALAR_EVENT: {
          node.scalar_.assign(reinterpret_cast<const char*>(e.data.scalar.value),
                              e.data.scalar.length);
          node.quoted_ = e.data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
          node.kind_ = (!node.quoted_ && is_null_text(node.scalar_)) ? YamlNode::Kind::kNull
                                                                     : YamlNode::Kind::kScalar;
          anchor = reinterpret_cast<const char*>(e.data.scalar.anchor);
          if (anchor) anchors_[anchor] = {node, 1};
          if (++nodes_ > kMaxNodes) return too_large(file, node);
          if (!add(std::move(node), stack, root, have_root)) return nested_root_error(file);
          continue;
        }
        case YAML_ALIAS_EVENT: {
          auto it = anchors_.find(reinterpret_cast<const char*>(e.data.alias.anchor));
          if (it == anchors_.end()) {
            return tl::unexpected(
                invalid_input_at({file, node.line_, node.column_}, "unknown alias"));
          }
          nodes_ += it->second.second;
          if (nodes_ > kMaxNodes) return too_large(file, node);
          if (!add(YamlNode(it->second.first), stack, root, have_root))
            return nested_root_error(file);
          continue;
        }
        case YAML_SEQUENCE_START_EVENT:
          node.kind_ = YamlNode::Kind::kSequence;
          anchor = reinterpret_cast<const char*>(e.data.sequence_start.anchor);
          break;
        case YAML_MAPPING_START_EVENT:
          node.kind_ = YamlNode::Kind::kMapping;
          anchor = reinterpret_cast<const char*>(e.data.mapping_start.anchor);
          break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
          YamlNode done = std::move(stack.back());
          stack.pop_back();
          const std::string name = std::move(anchors_in_progress.back());
          anchors_in_progress.pop_back();
          if (done.is_mapping()) {
            if (auto duplicate = duplicate_key(done, file)) return tl::unexpected(*duplicate);
          }
          if (!name.empty()) anchors_[name] = {done, count(done)};
          if (!add(std::move(done), stack, root, have_root)) return nested_root_error(file);
          continue;
        }
        default:
          continue;  // stream and document start
      }
      if (++nodes_ > kMaxNodes) return too_large(file, node);
      stack.push_back(std::move(node));
      anchors_in_progress.emplace_back(anchor ? anchor : "");
    }
  }

 private:
  static bool add(YamlNode node, std::vector<YamlNode>& stack, YamlNode& root, bool& have_root) {
    if (stack.empty()) {
      if (have_root) return false;
      root = std::move(node);
      have_root = true;
      return true;
    }
    stack.back().children_.push_back(std::move(node));
    return true;
  }
  static tl::unexpected<Error> nested_root_error(const std::string& file) {
    return fail(ErrorCode::kInternal, file + ": YAML document has two roots");
  }
  static tl::unexpected<Error> too_large(const std::string& file, const YamlNode& at) {
    return tl::unexpected(invalid_input_at(
        {file, at.line_, at.column_},
        fmt::format("the document grows past {} nodes (aliases expanding?)", kMaxNodes)));
  }
  static size_t count(const YamlNode& n) {
    size_t total = 1;
    for (const auto& child : n.children_) total += count(child);
    return total;
  }
  // YAML forbids repeated keys; silently keeping one of them would hide a
  // mistake, so it is an error naming both places.
  static std::optional<Error> duplicate_key(const YamlNode& mapping, const std::string& file) {
    auto duplicate = [&](const YamlNode& key, const YamlNode& first) {
      return invalid_input_at(
          {file, key.line_, key.column_},
          fmt::format("duplicate key '{}' (first at line {})", key.scalar_, first.line_));
    };
    // Mappings in configuration are small: comparing pairs beats building a
    // hash set for each of the hundreds of thousands in a large inventory.
    if (mapping.size() <= 32) {
      for (size_t i = 1; i < mapping.size(); ++i) {
        const YamlNode& key = mapping.key(i);
        if (!key.is_scalar()) continue;
        for (size_t j = 0; j < i; ++j) {
          if (mapping.key(j).is_scalar() && mapping.key(j).scalar_ == key.scalar_)
            return duplicate(key, mapping.key(j));
        }
      }
      return std::nullopt;
    }
    std::unordered_map<std::string_view, const YamlNode*> seen;
    for (size_t i = 0; i < mapping.size(); ++i) {
      const YamlNode& key = mapping.key(i);
      if (!key.is_scalar()) continue;
      auto [it, inserted] = seen.emplace(key.scalar_, &key);
      if (!inserted) return duplicate(key, *it->second);
    }
    return std::nullopt;
  }

  std::map<std::string, std::pair<YamlNode, size_t>> anchors_;  // anchor -> node, node count
  size_t nodes_ = 0;
};

Result<YamlNode> parse_yaml(std::string_view text, const std::string& file) {
  YamlBuilder builder;
  return builder.build(text, file);
}

}  // namespace ferry
