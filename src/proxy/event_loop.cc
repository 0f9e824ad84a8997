#include "proxy/event_loop.h"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "proxy/proxy_state.h"

namespace ferry::proxy {

namespace {

bool timer_later(const auto& a, const auto& b) {
  return a.due_ms != b.due_ms ? a.due_ms > b.due_ms : a.sequence > b.sequence;
}

uint64_t registration_of(uint32_t slot, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | slot;
}

}  // namespace

// Turns a post() from another thread into a run on the loop's thread.
class EventLoop::Wakeup final : public EventHandler {
 public:
  explicit Wakeup(EventLoop& loop) : loop_(loop) {}
  void on_events(uint32_t) override {
    uint64_t count;
    while (::read(loop_.wakeup_fd_.get(), &count, sizeof(count)) > 0) {
    }
    loop_.take_posted();
  }

 private:
  EventLoop& loop_;
};

EventLoop::EventLoop() = default;

EventLoop::~EventLoop() { discard_pending(); }

void EventLoop::discard_pending() {
  // Destroying a handler may close a socket, which queues more: swap until
  // nothing is left.
  while (!completions_.empty() || !timers_.empty()) {
    std::vector<Completion> completions;
    completions.swap(completions_);
    std::vector<Timer> timers;
    timers.swap(timers_);
  }
}

Result<void> EventLoop::open() {
  now_us_ = monotonic_us();
  epoll_fd_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (epoll_fd_.get() < 0)
    return fail(ErrorCode::kIo, fmt::format("epoll_create1: {}", std::strerror(errno)));
  wakeup_fd_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (wakeup_fd_.get() < 0)
    return fail(ErrorCode::kIo, fmt::format("eventfd: {}", std::strerror(errno)));
  wakeup_ = std::make_unique<Wakeup>(*this);
  uint64_t registration;
  if (const auto ec = add(wakeup_fd_.get(), wakeup_.get(), registration)) {
    return fail(ErrorCode::kIo, "epoll_ctl: " + ec.message());
  }
  return {};
}

boost::system::error_code EventLoop::add(int fd, EventHandler* handler, uint64_t& registration) {
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
  }
  slots_[slot].handler = handler;
  registration = registration_of(slot, slots_[slot].generation);
  epoll_event event{};
  event.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  event.data.u64 = registration;
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0) {
    const boost::system::error_code ec(errno, boost::system::system_category());
    remove(registration);
    return ec;
  }
  return {};
}

void EventLoop::remove(uint64_t registration) {
  // The descriptor leaves the epoll set when it is closed; bumping the
  // generation makes events of this batch that were fetched for it stale.
  Slot& slot = slots_[static_cast<uint32_t>(registration)];
  slot.handler = nullptr;
  ++slot.generation;
  free_slots_.push_back(static_cast<uint32_t>(registration));
}

void EventLoop::complete(IoHandler handler, const boost::system::error_code& ec, size_t n) {
  completions_.push_back({std::move(handler), ec, n});
}

void EventLoop::post(Task task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  const uint64_t one = 1;
  // A full counter already means "wake up"; nothing else can fail here.
  [[maybe_unused]] const ssize_t n = ::write(wakeup_fd_.get(), &one, sizeof(one));
}

void EventLoop::take_posted() {
  std::vector<Task> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (Task& task : tasks) task();
}

void EventLoop::run_after(int64_t delay_ms, Task task) {
  timers_.push_back({now_ms() + delay_ms, timer_sequence_++, std::move(task)});
  std::push_heap(timers_.begin(), timers_.end(), timer_later<Timer, Timer>);
}

void EventLoop::run_due_timers() {
  while (!timers_.empty() && timers_.front().due_ms <= now_ms() && !stopped_) {
    std::pop_heap(timers_.begin(), timers_.end(), timer_later<Timer, Timer>);
    Task task = std::move(timers_.back().task);
    timers_.pop_back();
    task();
  }
}

void EventLoop::run_completions() {
  // Completions queued while these run wait for the next round, after the
  // kernel has been asked for events again: a busy connection cannot starve
  // the others.
  running_.swap(completions_);
  for (Completion& c : running_) {
    if (stopped_) break;
    c.handler(c.ec, c.n);
  }
  running_.clear();
}

int EventLoop::wait_timeout_ms() const {
  if (!completions_.empty()) return 0;
  if (timers_.empty()) return -1;
  // Rounded up: waking a little early would find the timer not yet due.
  return static_cast<int>(
      std::max<int64_t>(0, (timers_.front().due_ms * 1000 - now_us_ + 999) / 1000));
}

void EventLoop::run() {
  std::array<epoll_event, 256> events;
  while (!stopped_) {
    const int n = ::epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()),
                               wait_timeout_ms());
    now_us_ = monotonic_us();
    for (int i = 0; i < n && !stopped_; ++i) {
      const uint64_t registration = events[static_cast<size_t>(i)].data.u64;
      const Slot& slot = slots_[static_cast<uint32_t>(registration)];
      if (slot.handler == nullptr || slot.generation != registration >> 32) continue;
      slot.handler->on_events(events[static_cast<size_t>(i)].events);
    }
    run_completions();
    run_due_timers();
  }
}

}  // namespace ferry::proxy
