// The data path's event loop: one per worker thread, edge-triggered epoll.
//
// Why not Asio's reactor, which the control thread uses: the proxy's cost is
// system calls (bench/proxy_vs_haproxy.sh; perf shows 80 % of the time in the
// kernel), and Asio 1.74 spends one epoll_ctl per wait and one extra read that
// ends in EAGAIN, and it cannot report a peer's FIN (EPOLLRDHUP) to the code
// waiting on the socket. Here a socket is registered once, for everything,
// and its readiness is remembered (stream_socket.h), so a wait costs no
// system call at all when the answer is already known.
//
// Completions never run inside the call that started the operation: they are
// queued and run by run() after the current callback returns, as with Asio,
// so callers never see re-entrance and stacks do not grow.
#pragma once

#include <sys/types.h>

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "proxy/unique_fd.h"

namespace ferry::proxy {

// What the loop calls when a registered descriptor has events.
class EventHandler {
 public:
  virtual void on_events(uint32_t events) = 0;

 protected:
  ~EventHandler() = default;
};

using IoHandler = std::function<void(const boost::system::error_code&, size_t)>;

class EventLoop {
 public:
  using Task = std::function<void()>;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the epoll and wake-up descriptors.
  Result<void> open();
  // Runs callbacks until stop(); once.
  void run();
  // From the loop's thread: run() returns after the current callback;
  // completions and timers not yet run are dropped with discard_pending().
  void stop() { stopped_ = true; }
  // Destroys queued completions and timers without running them. Their
  // handlers may own connections: call it while what those connections use
  // (the worker) still exists.
  void discard_pending();
  // The monotonic clock as of the last return from the kernel: one reading per
  // batch of events instead of several per request (it showed in perf).
  int64_t now_us() const { return now_us_; }
  int64_t now_ms() const { return now_us_ / 1000; }

  // From the loop's thread: run `handler(ec, n)` after the current callback.
  void complete(IoHandler handler, const boost::system::error_code& ec, size_t n);
  // From any thread: run `task` on the loop's thread.
  void post(Task task);
  // From the loop's thread: run `task` once, `delay_ms` from now.
  void run_after(int64_t delay_ms, Task task);

  // Registers `fd` for reads, writes and peer shutdown, edge-triggered, and
  // sets `registration` to pass to remove(); events for it stop at once,
  // even those already fetched from the kernel in the current batch.
  boost::system::error_code add(int fd, EventHandler* handler, uint64_t& registration);
  void remove(uint64_t registration);

 private:
  struct Completion {
    IoHandler handler;
    boost::system::error_code ec;
    size_t n;
  };
  struct Timer {
    int64_t due_ms;
    uint64_t sequence;
    Task task;
  };
  struct Slot {
    EventHandler* handler = nullptr;
    uint32_t generation = 0;
  };
  class Wakeup;

  void run_completions();
  void run_due_timers();
  int wait_timeout_ms() const;
  void take_posted();

  UniqueFd epoll_fd_;
  bool stopped_ = false;
  int64_t now_us_ = 0;
  std::vector<Completion> completions_;
  std::vector<Completion> running_;
  std::vector<Timer> timers_;  // a min-heap on due_ms, then sequence
  uint64_t timer_sequence_ = 0;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::mutex posted_mutex_;
  std::vector<Task> posted_;
  UniqueFd wakeup_fd_;
  std::unique_ptr<Wakeup> wakeup_;
};

}  // namespace ferry::proxy
