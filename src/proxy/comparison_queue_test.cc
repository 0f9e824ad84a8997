#include "proxy/comparison_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace ferry::proxy {
namespace {

using namespace std::chrono_literals;

template <typename F>
bool within(std::chrono::milliseconds limit, F done) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(ComparisonQueue, RunsEveryJobInOrderOnItsThread) {
  std::vector<int> seen;  // touched by the queue's thread only, until `count` says so
  std::atomic<int> count{0};
  std::atomic<bool> elsewhere{true};
  const auto caller = std::this_thread::get_id();
  ComparisonQueue q(2000);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(q.push([&, i] {
      seen.push_back(i);
      if (std::this_thread::get_id() == caller) elsewhere = false;
      count.fetch_add(1);
    }));
    if (i % 100 == 0) std::this_thread::sleep_for(15ms);  // asleep and woken again
  }
  ASSERT_TRUE(within(5s, [&] { return count.load() == 1000; }));
  EXPECT_TRUE(elsewhere.load());
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)], i);
}

TEST(ComparisonQueue, AFullQueueRefusesAndTheDestructorDropsWhatWaits) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> started{false};
  std::atomic<int> ran{0};
  std::thread opener;
  {
    ComparisonQueue q(2);
    ASSERT_TRUE(q.push([&] {
      started = true;
      released.wait();
    }));
    ASSERT_TRUE(within(5s, [&] { return started.load(); }));
    EXPECT_TRUE(q.push([&] { ++ran; }));
    EXPECT_TRUE(q.push([&] { ++ran; }));
    EXPECT_FALSE(q.push([&] { ++ran; }));  // two already wait
    // The running job finishes; the destructor does not wait for the others.
    opener = std::thread([&] {
      std::this_thread::sleep_for(20ms);
      release.set_value();
    });
  }
  opener.join();
  EXPECT_LE(ran.load(), 2);
}

}  // namespace
}  // namespace ferry::proxy
