#include "db/clone/clone_progress.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "core/log.h"
#include "core/measure.h"

namespace ferry::db {

namespace {

std::string eta_text(double seconds) {
  if (seconds < 0 || seconds > 360000) return "--";
  if (seconds < 60) return fmt::format("{:.0f}s", seconds);
  if (seconds < 3600)
    return fmt::format("{:.0f}m{:02.0f}s", seconds / 60 - 0.5, std::fmod(seconds, 60));
  return fmt::format("{:.1f}h", seconds / 3600);
}

}  // namespace

CloneProgress::CloneProgress(int workers, int64_t total_estimated_bytes, bool live)
    : total_estimated_(total_estimated_bytes), live_(live) {
  for (int i = 0; i < workers; ++i) slots_.push_back(std::make_unique<Slot>());
  thread_ = std::thread([this] { run(); });
}

CloneProgress::~CloneProgress() { finish(); }

CopyCounters& CloneProgress::part_started(int worker, const std::string& label,
                                          int64_t estimated_bytes) {
  Slot& s = *slots_[static_cast<size_t>(worker)];
  std::lock_guard lock(s.mutex);
  s.label = label;
  s.estimated_bytes = estimated_bytes;
  s.started = std::chrono::steady_clock::now();
  s.counters.bytes = 0;
  s.counters.rows = 0;
  return s.counters;
}

void CloneProgress::part_finished(int worker, int64_t rows, int64_t bytes, double seconds,
                                  int64_t estimated_bytes) {
  Slot& s = *slots_[static_cast<size_t>(worker)];
  std::string label;
  {
    std::lock_guard lock(s.mutex);
    label = s.label;
    s.label.clear();
  }
  done_estimated_ += estimated_bytes;
  done_bytes_ += bytes;
  if (!live_)
    log_info(fmt::format("copied {}: {} rows, {:.1f} MB in {:.1f} s ({:.1f} MB/s)", label, rows,
                         static_cast<double>(bytes) / kMiB, seconds,
                         seconds > 0 ? static_cast<double>(bytes) / kMiB / seconds : 0.0));
}

std::string CloneProgress::render() {
  std::string out;
  int64_t in_flight_bytes = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = *slots_[i];
    std::lock_guard lock(s.mutex);
    if (s.label.empty()) {
      out += fmt::format("  [{}] idle\n", i + 1);
      continue;
    }
    const double elapsed = seconds_since(s.started);
    const double bytes = static_cast<double>(s.counters.bytes.load());
    in_flight_bytes += s.counters.bytes.load();
    const double rate = elapsed > 0 ? bytes / elapsed : 0;
    // Wire bytes and on-disk bytes differ; the estimate is only a guide.
    const double left = static_cast<double>(s.estimated_bytes) - bytes;
    out += fmt::format("  [{}] {:<40.40} {:>11} rows {:>9.1f} MB {:>7.1f} MB/s  ETA {}\n", i + 1,
                       s.label, s.counters.rows.load(), bytes / kMiB, rate / kMiB,
                       rate > 0 ? eta_text(left / rate) : "--");
  }
  const double elapsed = seconds_since(started_);
  const double done = static_cast<double>(done_estimated_.load() + in_flight_bytes);
  const double rate =
      elapsed > 0 ? static_cast<double>(done_bytes_.load() + in_flight_bytes) / elapsed : 0;
  const double total = static_cast<double>(total_estimated_);
  out += fmt::format("  total {:.0f} of {:.0f} MB ({:.0f}%), {:.1f} MB/s, ETA {}\n", done / kMiB,
                     total / kMiB, total > 0 ? 100.0 * std::min(1.0, done / total) : 100.0,
                     rate / kMiB, rate > 0 ? eta_text((total - done) / rate) : "--");
  return out;
}

void CloneProgress::run() {
  std::unique_lock lock(mutex_);
  const auto period = live_ ? std::chrono::milliseconds(250) : std::chrono::milliseconds(10000);
  while (!stopping_) {
    if (wake_.wait_for(lock, period, [this] { return stopping_; })) break;
    const std::string text = render();
    if (live_) {
      std::string frame;
      if (lines_drawn_ > 0) frame = fmt::format("\x1b[{}A", lines_drawn_);
      size_t lines = 0;
      size_t start = 0;
      for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1, ++lines)
        frame += "\x1b[2K" + text.substr(start, nl - start + 1);
      lines_drawn_ = lines;
      std::fputs(frame.c_str(), stderr);
      std::fflush(stderr);
    } else {
      // The total is the last line; workers' parts are logged as they finish.
      const auto last = text.rfind('\n', text.size() - 2);
      log_info("progress: " + text.substr(last + 1 + 2, text.size() - last - 4));
    }
  }
}

void CloneProgress::finish() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (live_ && lines_drawn_ > 0) {
    std::string clear = fmt::format("\x1b[{}A", lines_drawn_);
    for (size_t i = 0; i < lines_drawn_; ++i) clear += "\x1b[2K\n";
    clear += fmt::format("\x1b[{}A", lines_drawn_);
    std::fputs(clear.c_str(), stderr);
    std::fflush(stderr);
  }
}

}  // namespace ferry::db
