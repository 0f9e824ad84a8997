#include "proxy/endpoint_choice.h"

#include <algorithm>

namespace ferry::proxy {

int choose_endpoint(std::span<const std::shared_ptr<EndpointState>> endpoints,
                    std::span<EndpointState* const> tried, Balance balance, uint32_t start,
                    int64_t now_ms) {
  const size_t n = endpoints.size();
  if (n == 0) return -1;
  int best = -1;
  int64_t best_load = 0;
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    EndpointState* e = endpoints[i].get();
    if (!e->available(now_ms)) continue;
    if (std::find(tried.begin(), tried.end(), e) != tried.end()) continue;
    if (balance == Balance::kRoundRobin) return static_cast<int>(i);
    const int64_t load = e->active_requests.load(std::memory_order_relaxed);
    if (best < 0 || load < best_load) {
      best = static_cast<int>(i);
      best_load = load;
    }
  }
  return best;
}

}  // namespace ferry::proxy
