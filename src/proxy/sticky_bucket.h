// Consistent user bucketing for sticky splits (seed 002, progressive rollout).
// A key (user id, cookie, client address) hashes to one of 10,000 buckets;
// a split lays its pools over the bucket range from the *last* pool down, so
// with the usual two pools [old, new] the new pool owns buckets [0, share).
// Raising the new pool's share therefore only moves users old -> new, and a
// user on the new side stays there: the property Envoy #8167, Istio #9764,
// ingress-nginx #3717 and Flagger #1339 ask for.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace ferry::proxy {

constexpr uint32_t kStickyBuckets = 10'000;

// Stable across processes, machines and releases: xxHash3-64 of salt, a NUL
// and the key, modulo 10,000.
uint32_t sticky_bucket(std::string_view salt, std::string_view key);

// The index of the pool that owns `bucket` for these weights (summing to more
// than 0): pools are laid out from the last index down.
size_t pool_for_bucket(uint32_t bucket, std::span<const int> weights);

// A weighted draw for requests without a key: `draw` is any 64-bit random value.
size_t pool_for_draw(uint64_t draw, std::span<const int> weights);

}  // namespace ferry::proxy
