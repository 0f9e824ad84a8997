#include "run/route_metrics.h"

#include <fmt/format.h>

#include <map>

#include "core/text.h"

namespace ferry::run {

namespace {

// The value of label `name` in `{a="x",b="y"}`; "" when absent.
std::string label(std::string_view labels, std::string_view name) {
  const std::string key = std::string(name) + "=\"";
  size_t at = 0;
  while ((at = labels.find(key, at)) != std::string_view::npos) {
    if (at == 0 || labels[at - 1] == '{' || labels[at - 1] == ',') break;
    at += key.size();
  }
  if (at == std::string_view::npos) return "";
  const size_t begin = at + key.size();
  const size_t end = labels.find('"', begin);
  return end == std::string_view::npos ? "" : std::string(labels.substr(begin, end - begin));
}

// The bucket a histogram line's `le` names: kLatencyBuckets' index, or the
// last slot for +Inf.
std::optional<size_t> bucket_index(const std::string& le) {
  if (le == "+Inf") return proxy::kLatencyBuckets.size();
  const auto value = parse_double(le);
  if (!value) return std::nullopt;
  for (size_t b = 0; b < proxy::kLatencyBuckets.size(); ++b) {
    if (std::abs(proxy::kLatencyBuckets[b] - *value) < 1e-9) return b;
  }
  return std::nullopt;
}

}  // namespace

PoolCounts pool_counts(std::string_view metrics, std::string_view route) {
  PoolCounts out;
  // Cumulative bucket counts per pool, turned into per-bucket counts below;
  // -1: no line for that bucket (as much as the bucket below it).
  std::map<std::string, std::array<int64_t, proxy::kLatencyBuckets.size() + 1>> cumulative;
  for (const std::string& raw : split_trimmed(metrics, "\n")) {
    const std::string_view line(raw);
    if (line.empty() || line[0] == '#') continue;
    const size_t open = line.find('{');
    const size_t close = line.find('}');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) continue;
    const std::string_view name = line.substr(0, open);
    const std::string_view labels = line.substr(open, close - open + 1);
    if (label(labels, "route") != route) continue;
    const auto value = parse_double(trim(line.substr(close + 1)));
    if (!value) continue;
    const auto count = static_cast<int64_t>(*value);
    if (name == "ferry_proxy_requests_total") {
      proxy::SideCounts& pool = out[label(labels, "pool")];
      pool.requests += count;
      if (label(labels, "class") == "5xx") pool.errors += count;
    } else if (name == "ferry_proxy_request_duration_seconds_bucket") {
      if (auto b = bucket_index(label(labels, "le"))) {
        auto [it, fresh] = cumulative.try_emplace(label(labels, "pool"));
        if (fresh) it->second.fill(-1);
        it->second[*b] = count;
      }
    }
  }
  for (const auto& [pool, buckets] : cumulative) {
    int64_t below = 0;
    proxy::SideCounts& counts = out[pool];
    for (size_t b = 0; b < buckets.size(); ++b) {
      const int64_t upto = buckets[b] < 0 ? below : buckets[b];
      counts.latency[b] += upto - below;
      below = upto;
    }
  }
  return out;
}

proxy::SideCounts total(const PoolCounts& pools) {
  proxy::SideCounts out;
  for (const auto& [pool, counts] : pools) out += counts;
  return out;
}

proxy::SideCounts route_counts(std::string_view metrics, std::string_view route) {
  return total(pool_counts(metrics, route));
}

std::string pool_counts_line(const PoolCounts& pools) {
  std::vector<std::string> parts;
  for (const auto& [pool, counts] : pools) parts.push_back(pool + "=" + counts_line(counts));
  return join(parts, ";");
}

std::optional<PoolCounts> parse_pool_counts_line(std::string_view line) {
  PoolCounts out;
  for (const std::string& part : split_trimmed(line, ";")) {
    const size_t eq = part.find('=');
    if (eq == std::string::npos) return std::nullopt;
    auto counts = parse_counts_line(std::string_view(part).substr(eq + 1));
    if (!counts) return std::nullopt;
    out[part.substr(0, eq)] = *counts;
  }
  return out;
}

std::string counts_line(const proxy::SideCounts& counts) {
  std::string out = fmt::format("{} {}", counts.requests, counts.errors);
  for (int64_t n : counts.latency) out += fmt::format(" {}", n);
  return out;
}

std::optional<proxy::SideCounts> parse_counts_line(std::string_view line) {
  const auto parts = split_trimmed(line, " ");
  proxy::SideCounts out;
  if (parts.size() != 2 + out.latency.size()) return std::nullopt;
  std::vector<int64_t> numbers;
  for (const auto& p : parts) {
    const auto v = parse_double(p);
    if (!v || *v < 0) return std::nullopt;
    numbers.push_back(static_cast<int64_t>(*v));
  }
  out.requests = numbers[0];
  out.errors = numbers[1];
  for (size_t b = 0; b < out.latency.size(); ++b) out.latency[b] = numbers[2 + b];
  return out;
}

bool counts_follow(const proxy::SideCounts& earlier, const proxy::SideCounts& later) {
  if (later.requests < earlier.requests || later.errors < earlier.errors) return false;
  for (size_t b = 0; b < earlier.latency.size(); ++b) {
    if (later.latency[b] < earlier.latency[b]) return false;
  }
  return true;
}

}  // namespace ferry::run
