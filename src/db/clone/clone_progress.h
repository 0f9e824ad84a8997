// What a clone shows while it copies. On a terminal: one live line per worker
// (table, rows, MB, MB/s, ETA) and a total line, redrawn four times a second.
// Otherwise (a log file, CI): a plain line per finished part and a total every
// ten seconds, so logs stay readable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "db/clone/part_copy.h"

namespace ferry::db {

class CloneProgress {
 public:
  CloneProgress(int workers, int64_t total_estimated_bytes, bool live);
  ~CloneProgress();
  CloneProgress(const CloneProgress&) = delete;
  CloneProgress& operator=(const CloneProgress&) = delete;

  // The counters the worker's copy updates; reset for the new part.
  CopyCounters& part_started(int worker, const std::string& label, int64_t estimated_bytes);
  void part_finished(int worker, int64_t rows, int64_t bytes, double seconds,
                     int64_t estimated_bytes);
  // Stops the display and clears the live lines.
  void finish();

 private:
  struct Slot {
    std::mutex mutex;
    std::string label;  // empty: idle
    int64_t estimated_bytes = 0;
    std::chrono::steady_clock::time_point started;
    CopyCounters counters;
  };
  void run();
  std::string render();

  std::vector<std::unique_ptr<Slot>> slots_;
  const int64_t total_estimated_;
  std::atomic<int64_t> done_estimated_{0};
  std::atomic<int64_t> done_bytes_{0};
  const bool live_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  size_t lines_drawn_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ferry::db
