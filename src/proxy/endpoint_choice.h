// Which endpoint of a pool an attempt goes to, decided from the endpoints'
// state alone so that it is tested without sockets (endpoint_choice_test.cc).
// An endpoint may take the attempt when it is available (healthy by active
// checks and not ejected) and this request has not tried it yet; among those,
// round robin takes the first from `start` on, and least requests the one
// with the fewest requests in flight, ties going to the first from `start`
// on. The caller advances `start` on every choice (one counter per pool and
// worker), which is what rotates round robin and spreads ties.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "proxy/proxy_config.h"
#include "proxy/proxy_state.h"

namespace ferry::proxy {

// An index into `endpoints`, or -1 when none may take the attempt.
int choose_endpoint(std::span<const std::shared_ptr<EndpointState>> endpoints,
                    std::span<EndpointState* const> tried, Balance balance, uint32_t start,
                    int64_t now_ms);

}  // namespace ferry::proxy
