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
  {
    std::lock_guard lock(mu_);
    if (stopping_ || jobs_.size() >= max_waiting_) return false;
    jobs_.push_back(std::move(job));
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  wake_.notify_one();
  return true;
}

void ComparisonQueue::run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (stopping_) return;
    std::function<void()> job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    job = nullptr;  // what it holds goes here, not under the lock
    lock.lock();
  }
}

}  // namespace ferry::proxy
