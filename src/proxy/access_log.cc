#include "proxy/access_log.h"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace ferry::proxy {

namespace {

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u >= 0x7f) {
      // Request targets and hosts are ASCII; anything else is escaped so a
      // line is always valid JSON, whatever a client sent.
      out += fmt::format("\\u{:04x}", u);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

Result<std::unique_ptr<AccessLog>> AccessLog::open(const std::string& path) {
  std::unique_ptr<AccessLog> log(new AccessLog());
  if (path == "-") {
    log->file_ = stdout;
    return log;
  }
  log->file_ = std::fopen(path.c_str(), "a");
  if (log->file_ == nullptr) {
    return fail(ErrorCode::kIo, fmt::format("access log {}: {}", path, std::strerror(errno)));
  }
  log->owned_ = true;
  return log;
}

AccessLog::~AccessLog() {
  flush();
  if (owned_) std::fclose(file_);
}

void AccessLog::write(const AccessLogEntry& e) {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::string line;
  line.reserve(256);
  auto text = [&line](const char* key, std::string_view value) {
    line += fmt::format(",\"{}\":", key);
    append_json_string(line, value);
  };
  line += fmt::format("{{\"time_ms\":{}", ms);
  text("client", e.client);
  text("method", e.method);
  text("target", e.target);
  text("host", e.host);
  line += fmt::format(",\"status\":{}", e.status);
  text("route", e.route);
  text("pool", e.pool);
  text("endpoint", e.endpoint);
  text("decision", e.decision);
  line += fmt::format(",\"attempts\":{},\"response_bytes\":{},\"duration_ms\":{:.3f}", e.attempts,
                      e.response_bytes, static_cast<double>(e.duration_us) / 1000.0);
  if (e.held_ms >= 0) line += fmt::format(",\"held_ms\":{}", e.held_ms);
  if (!e.error.empty()) text("error", e.error);
  line += "}\n";
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), file_);
}

void AccessLog::flush() {
  std::lock_guard lock(mutex_);
  std::fflush(file_);
}

}  // namespace ferry::proxy
