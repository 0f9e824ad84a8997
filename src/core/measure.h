// Units for what ferry reports about its own work: elapsed seconds and MiB.
#pragma once

#include <chrono>

namespace ferry {

constexpr double kMiB = 1024.0 * 1024.0;

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace ferry
