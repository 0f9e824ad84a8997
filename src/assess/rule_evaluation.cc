// Evaluating rules against one workload's facts: conditions, votes,
// placeholders. Loading and validating them is rules.cc.
#include <algorithm>

#include "assess/rules.h"
#include "core/text.h"

namespace ferry::assess {

namespace {

bool same(const FactValue& a, const FactValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* s = std::get_if<std::string>(&a)) return to_lower(*s) == std::get<std::string>(b);
  return a == b;
}

bool holds(const Condition& c, const Fact* fact) {
  if (c.op == Op::kPresent) {
    bool present = fact != nullptr;
    if (fact) {
      if (const auto* s = std::get_if<std::string>(&fact->value)) present = !s->empty();
    }
    return present == std::get<bool>(c.operands.front());
  }
  if (!fact) return false;
  const FactValue& v = fact->value;
  auto any_equal = [&] {
    return std::any_of(c.operands.begin(), c.operands.end(),
                       [&](const FactValue& o) { return same(v, o); });
  };
  switch (c.op) {
    case Op::kEquals:
      return same(v, c.operands.front());
    case Op::kNotEquals:
      return !same(v, c.operands.front());
    case Op::kIn:
      return any_equal();
    case Op::kNotIn:
      return !any_equal();
    default:
      break;
  }
  const double* x = std::get_if<double>(&v);
  const double y = std::get<double>(c.operands.front());
  if (!x) return false;
  switch (c.op) {
    case Op::kLess:
      return *x < y;
    case Op::kLessEq:
      return *x <= y;
    case Op::kGreater:
      return *x > y;
    case Op::kGreaterEq:
      return *x >= y;
    default:
      return false;
  }
}

}  // namespace

bool evaluate(const Conditions& when, const Facts& facts, std::vector<FactRead>* reads) {
  for (const auto& c : when.all) {
    const Fact* fact = facts.get(c.fact_index);
    const bool ok = holds(c, fact);
    if (reads) {
      const std::string_view name = fact_registry()[c.fact_index].name;
      bool listed = std::any_of(reads->begin(), reads->end(),
                                [&](const FactRead& r) { return r.fact == name; });
      if (!listed) {
        reads->push_back(
            {name, fact ? format_fact_value(fact->value) : "unknown", fact && fact->assumed});
      }
    }
    if (!ok) return false;
  }
  return true;
}

DecisionResult decide(const Decision& decision, const Facts& facts) {
  DecisionResult result;
  for (const auto& rule : decision.rules) {
    // Most rules do not fire: test first, record the inputs only for those that do.
    if (!evaluate(rule.when, facts, nullptr)) continue;
    std::vector<FactRead> reads;
    evaluate(rule.when, facts, &reads);
    for (const auto& [option, weight] : rule.votes) result.scores[option] += weight;
    result.fired.push_back({&rule, fill_placeholders(rule.because, facts), std::move(reads)});
  }
  double best = 0;
  for (const auto& option : decision.options) {
    auto it = result.scores.find(option);
    if (it != result.scores.end() && it->second > best) {
      best = it->second;
      result.choice = option;
    }
  }
  if (result.choice.empty()) {
    result.choice = decision.fallback;
    result.fell_back = true;
  }
  return result;
}

std::string fill_placeholders(const std::string& text, const Facts& facts) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find('{', pos);
    size_t close = open == std::string::npos ? open : text.find('}', open);
    if (close == std::string::npos) {
      out += text.substr(pos);
      break;
    }
    out += text.substr(pos, open - pos);
    const Fact* f = facts.get(text.substr(open + 1, close - open - 1));
    out += f ? format_fact_value(f->value) : "unknown";
    pos = close + 1;
  }
  return out;
}

}  // namespace ferry::assess
