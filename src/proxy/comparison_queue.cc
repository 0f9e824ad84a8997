#include "proxy/comparison_queue.h"

namespace ferry::proxy {

ComparisonQueue::~ComparisonQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool ComparisonQueue::push(std::function<void()> job) {
  if (mode_ == Mode::kInline) {
    job();
    return true;
  }
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || jobs_.size() >= max_waiting_) return false;
    jobs_.push_back(std::move(job));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    wake = idle_;
  }
  if (wake) wake_.notify_one();
  return true;
}

void ComparisonQueue::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (jobs_.empty()) {
      idle_ = true;
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      idle_ = false;
      continue;
    }
    std::deque<std::function<void()>> batch;
    batch.swap(jobs_);
    lock.unlock();
    for (auto& job : batch) job();
    batch.clear();  // what the jobs hold goes here, not under the lock
    lock.lock();
    // Whatever arrives in the next window is taken together.
    wake_.wait_for(lock, kBatchWindow, [this] { return stopping_; });
  }
}

}  // namespace ferry::proxy
