// A route's request counts as the proxy's Prometheus metrics give them
// (ferry_proxy_requests_total and ferry_proxy_request_duration_seconds,
// summed over the route's pools), in the shape the rollout analysis judges
// (proxy/rollout_analysis.h): a watch takes two readings and judges the
// difference, a window, against the route's baseline. Pure text in, counts
// out; the journal keeps readings as one line each.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "proxy/rollout_analysis.h"

namespace ferry::run {

// Each pool of `route` that has served something (the proxy writes no
// line for a pool before its first answer).
using PoolCounts = std::map<std::string, proxy::SideCounts>;
PoolCounts pool_counts(std::string_view metrics, std::string_view route);
// The pools added up.
proxy::SideCounts total(const PoolCounts& pools);
// Every pool of `route` added up; zero counts when the route has served
// nothing yet.
proxy::SideCounts route_counts(std::string_view metrics, std::string_view route);

// "requests errors b0 b1 ... bN", and back (nullopt for anything else).
std::string counts_line(const proxy::SideCounts& counts);
std::optional<proxy::SideCounts> parse_counts_line(std::string_view line);

// "legacy=LINE;modern=LINE", and back.
std::string pool_counts_line(const PoolCounts& pools);
std::optional<PoolCounts> parse_pool_counts_line(std::string_view line);

// Whether `later` can follow `earlier` (a proxy restart resets its counters,
// and a window across one would be negative).
bool counts_follow(const proxy::SideCounts& earlier, const proxy::SideCounts& later);

}  // namespace ferry::run
