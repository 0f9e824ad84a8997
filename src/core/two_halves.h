// Splitting independent work over a list between two threads: assessing
// 10,000 workloads, or writing their part of a plan, is most of a large
// plan's time, and CI machines have two cores.
#pragma once

#include <cstddef>
#include <thread>

namespace ferry {

// Calls work(begin, end, part) for [0, n/2) as part 0 on this thread and
// [n/2, n) as part 1 on a second one, when n reaches `worth_a_thread` and the
// machine has two cores; otherwise calls work(0, n, 0) once. Returns whether
// it split. `work` must not touch state the other part uses.
template <typename Work>
bool in_two_halves(size_t n, size_t worth_a_thread, Work&& work) {
  if (n < worth_a_thread || std::thread::hardware_concurrency() < 2) {
    work(size_t{0}, n, 0);
    return false;
  }
  const size_t half = n / 2;
  std::thread second([&] { work(half, n, 1); });
  work(size_t{0}, half, 0);
  second.join();
  return true;
}

}  // namespace ferry
