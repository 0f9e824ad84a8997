// Where the parallel run's comparisons run: off the workers' event loops, so
// that parsing and comparing two answers of up to mirror.max_body never
// holds up a client (not even the one whose answer it was, waiting to send
// its next request). One thread, started with the first comparison, takes
// jobs in order; a full queue refuses more, and the caller counts the sample
// as skipped rather than letting memory grow.
//
// Waking a thread for every job costs more than a small comparison (on a
// busy CPU, two context switches each: bench/proxy_mirror.sh measured a
// third more CPU per request at 10 % mirroring). So a push wakes the thread
// only when it sleeps for want of work; once awake, it takes what arrived
// in batches kBatchWindow apart, and goes back to sleep when a window
// brought nothing. Findings appear at most that much later.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace ferry::proxy {

class ComparisonQueue {
 public:
  static constexpr std::chrono::milliseconds kBatchWindow{10};

  enum class Mode {
    kThread,  // jobs run on the queue's own thread
    kInline,  // jobs run inside push() (unit tests: no thread, same order)
  };

  explicit ComparisonQueue(size_t max_waiting, Mode mode = Mode::kThread)
      : max_waiting_(max_waiting), mode_(mode) {}
  // Jobs still waiting are dropped; the one running finishes.
  ~ComparisonQueue();
  ComparisonQueue(const ComparisonQueue&) = delete;
  ComparisonQueue& operator=(const ComparisonQueue&) = delete;

  // From any thread. False (and `job` dropped) when max_waiting jobs wait.
  bool push(std::function<void()> job);

 private:
  void run();

  const size_t max_waiting_;
  const Mode mode_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  bool idle_ = false;   // the thread waits for a push to wake it
  std::thread thread_;  // started by the first push
};

}  // namespace ferry::proxy
