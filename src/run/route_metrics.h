// A route's request counts as the proxy's Prometheus metrics give them
// (ferry_proxy_requests_total and ferry_proxy_request_duration_seconds,
// summed over the route's pools), in the shape the rollout analysis judges
// (proxy/rollout_analysis.h): a watch takes two readings and judges the
// difference, a window, against the route's baseline. Pure text in, counts
// out; the journal keeps readings as one line each.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "proxy/rollout_analysis.h"

namespace ferry::run {

// Every pool of `route` added up; zero counts when the route has served
// nothing yet (the proxy writes no line for it then).
proxy::SideCounts route_counts(std::string_view metrics, std::string_view route);

// "requests errors b0 b1 ... bN", and back (nullopt for anything else).
std::string counts_line(const proxy::SideCounts& counts);
std::optional<proxy::SideCounts> parse_counts_line(std::string_view line);

// Whether `later` can follow `earlier` (a proxy restart resets its counters,
// and a window across one would be negative).
bool counts_follow(const proxy::SideCounts& earlier, const proxy::SideCounts& later);

}  // namespace ferry::run
