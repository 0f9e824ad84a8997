// The parallel run's side of an exchange: whether the route's mirror samples
// the request, the copy of the request it gets, and the calls that send it.
// The client's exchange never waits for any of it.
#include <fmt/format.h>

#include "proxy/client_connection.h"
#include "proxy/mirror_call.h"
#include "proxy/sticky_bucket.h"

namespace ferry::proxy {

void ClientConnection::sample_for_mirror(const RequestHead& head, const RouteDecision& decision) {
  Exchange& x = *x_;
  const RoutingSnapshot& snap = snapshot();
  const RoutingSnapshot::Mirror& plan = snap.mirrors[static_cast<size_t>(x.route)];
  // A request the split (or a breaker) already sends to the mirror pool has
  // nothing to be compared with there; with a noise pool, only requests to
  // that pool have a second primary to tell noise by.
  if (plan.pool < 0 || x.pool == plan.pool || head.upgrade) return;
  if (plan.noise_pool >= 0 && x.pool != plan.noise_pool) return;
  const MirrorConfig& mc = *snap.config.routes[static_cast<size_t>(x.route)].mirror;
  if (!mc.mirrors_method(head.method)) return;
  // By the sticky key's bucket when there is one: the same users are
  // mirrored on every request, so a user's whole session can be compared.
  // The bucket is spread first (7919 is prime to 10,000, so this permutes
  // the buckets): a split gives its last pool the lowest buckets, and
  // without it the users a rollout moves first would be the mirrored ones.
  const uint64_t at = decision.bucket >= 0
                          ? static_cast<uint64_t>(decision.bucket) * 7919 % kStickyBuckets
                          : worker_.random() % kStickyBuckets;
  if (static_cast<double>(at) >= mc.percent * (kStickyBuckets / 100.0)) return;
  MirrorSide& m = x.mirror;
  m.sample = ParallelRunSample::start(std::shared_ptr<const MirrorConfig>(x.snapshot, &mc),
                                      snap.router.route_name(static_cast<size_t>(x.route)),
                                      plan.diffs, *snap.comparisons, std::string(head.method),
                                      std::string(head.target), plan.noise_pool >= 0);
  if (!m.sample) return;  // too many under way: counted as skipped_busy
  m.sampled_pool = x.pool;
  if (head.framing.body == BodyFraming::kContentLength &&
      head.framing.content_length > static_cast<uint64_t>(mc.max_body_bytes)) {
    m.sample->skip_large_request();
    m.sample.reset();
    return;
  }
  // The head as the primary gets it: the same request, word for word.
  m.head = std::make_shared<std::string>(x.request.upstream_head);
  m.body = std::make_shared<std::string>();
  mirror_request_body({in_.data() + head.head_bytes, x.request.initial_body_bytes}, x.request.done);
}

void ClientConnection::mirror_request_body(std::string_view bytes, bool done) {
  MirrorSide& m = x_->mirror;
  if (!m.sample || m.sent) return;
  if (static_cast<int64_t>(m.body->size() + bytes.size()) > m.sample->config().max_body_bytes) {
    m.sample->skip_large_request();
    m.sample.reset();
    return;
  }
  m.body->append(bytes);
  if (done && x_->upstream.attempts > 0) send_mirror();
}

// The mirror gets the request once two things hold: the request is whole
// (the noise instance must get the same bytes), and the primary's first
// attempt has picked its endpoint (the noise instance avoids it). A request
// whole with its head has both right after start_exchange's attempt(),
// which calls this; a streamed one, when mirror_request_body sees its end.
void ClientConnection::send_mirror() {
  Exchange& x = *x_;
  MirrorSide& m = x.mirror;
  if (!m.sample || m.sent) return;
  m.sent = true;
  // The primary answered before the request was whole: its head went by
  // uncaptured, so there is nothing whole to compare.
  if (x.response.head_parsed) {
    m.sample.reset();
    return;
  }
  m.primary.emplace(m.sample->config().max_body_bytes);
  const RoutingSnapshot::Mirror& plan = snapshot().mirrors[static_cast<size_t>(x.route)];
  launch_mirror_call(plan.pool, ParallelRunSample::Part::kCandidate);
  if (plan.noise_pool >= 0) launch_mirror_call(plan.noise_pool, ParallelRunSample::Part::kNoise);
}

void ClientConnection::launch_mirror_call(int pool, ParallelRunSample::Part part) {
  Exchange& x = *x_;
  const RoutingSnapshot& snap = snapshot();
  const int64_t now = worker_.now_ms();
  // The noise instance is a second primary: another endpoint than the one
  // that answers the client, when the pool has one.
  std::vector<EndpointState*> avoid;
  if (part == ParallelRunSample::Part::kNoise && x.upstream.endpoint) {
    avoid.push_back(x.upstream.endpoint);
  }
  int index = worker_.pick_endpoint(snap, pool, avoid, now);
  if (index < 0 && !avoid.empty()) index = worker_.pick_endpoint(snap, pool, {}, now);
  const PoolConfig& pc = snap.config.pools[static_cast<size_t>(pool)];
  if (index < 0) {
    CapturedAnswer none;
    none.error = fmt::format("no available endpoint in pool '{}'", pc.name);
    x.mirror.sample->complete(part, std::move(none));
    return;
  }
  MirrorRequest r;
  r.sample = x.mirror.sample;
  r.part = part;
  r.endpoint = snap.endpoints[static_cast<size_t>(pool)][static_cast<size_t>(index)];
  r.head = x.mirror.head;
  r.body = x.mirror.body;
  r.head_method = x.request.head_method;
  r.limits = snap.config.limits;
  r.max_idle = pc.max_idle_connections;
  r.deadline_ms = now + x.mirror.sample->config().timeout_ms;
  worker_.start_mirror(std::make_shared<MirrorCall>(worker_, std::move(r)));
}

}  // namespace ferry::proxy
