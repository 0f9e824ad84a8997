#include "proxy/sticky_bucket.h"

#include <xxhash.h>

#include <cstring>
#include <string>

namespace ferry::proxy {

uint32_t sticky_bucket(std::string_view salt, std::string_view key) {
  // One contiguous input: salt, NUL, key. Keys are short; the rare long one
  // takes the heap.
  char stack[256];
  std::string heap;
  const size_t size = salt.size() + 1 + key.size();
  char* buffer = stack;
  if (size > sizeof(stack)) {
    heap.resize(size);
    buffer = heap.data();
  }
  std::memcpy(buffer, salt.data(), salt.size());
  buffer[salt.size()] = '\0';
  std::memcpy(buffer + salt.size() + 1, key.data(), key.size());
  return static_cast<uint32_t>(XXH3_64bits(buffer, size) % kStickyBuckets);
}

size_t pool_for_bucket(uint32_t bucket, std::span<const int> weights) {
  int64_t total = 0;
  for (int w : weights) total += w;
  // Pool i owns the buckets b with before*10000 <= b*total < (before+w_i)*10000,
  // where `before` sums the weights of the pools after i. Integer arithmetic
  // keeps the edges exact.
  const int64_t scaled = static_cast<int64_t>(bucket) * total;
  int64_t upper = 0;
  for (size_t i = weights.size(); i-- > 0;) {
    upper += weights[i];
    if (weights[i] > 0 && scaled < upper * kStickyBuckets) return i;
  }
  for (size_t i = weights.size(); i-- > 0;) {
    if (weights[i] > 0) return i;
  }
  return 0;
}

size_t pool_for_draw(uint64_t draw, std::span<const int> weights) {
  int64_t total = 0;
  for (int w : weights) total += w;
  if (total <= 0) return 0;
  int64_t point = static_cast<int64_t>(draw % static_cast<uint64_t>(total));
  for (size_t i = 0; i < weights.size(); ++i) {
    if (point < weights[i]) return i;
    point -= weights[i];
  }
  return weights.size() - 1;
}

}  // namespace ferry::proxy
