// The access log: one JSON object per line per request, off by default.
// Workers format their lines and append them under one lock; the file is
// flushed by the control thread every 200 ms and on shutdown, so a busy proxy
// does not pay a write per request.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/error.h"

namespace ferry::proxy {

struct AccessLogEntry {
  std::string_view client;
  std::string_view method;
  std::string_view target;
  std::string_view host;
  int status = 0;
  std::string_view route;  // "" when none matched
  std::string_view pool;
  std::string_view endpoint;  // "" when none was reached
  std::string_view decision;  // single, override, sticky, fallback, random, breaker_fallback, held
  int attempts = 0;
  uint64_t response_bytes = 0;
  int64_t duration_us = 0;  // from the request head, a wait in a route's hold included
  int64_t held_ms = -1;     // the wait in a route's hold; -1 when not held
  std::string_view error;   // what went wrong, "" when nothing did
};

class AccessLog {
 public:
  // `path` "-" is stdout; otherwise the file is appended to.
  static Result<std::unique_ptr<AccessLog>> open(const std::string& path);
  ~AccessLog();

  void write(const AccessLogEntry& entry);
  void flush();

 private:
  AccessLog() = default;
  std::mutex mutex_;
  FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace ferry::proxy
