#include "core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <vector>

#include "core/json_writer.h"
#include "core/text.h"

namespace ferry {

namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

spdlog::logger& logger() {
  static auto instance = [] {
    auto l = spdlog::stderr_color_mt("ferry");
    l->set_pattern("%^%l%$: %v");
    return l;
  }();
  return *instance;
}

// Indexed by LogLevel.
constexpr spdlog::level::level_enum kLevels[] = {spdlog::level::debug, spdlog::level::info,
                                                 spdlog::level::warn, spdlog::level::err};
constexpr const char* kLevelNames[] = {"debug", "info", "warning", "error"};

// The message's lines without their indentation or empty ones.
std::vector<std::string_view> lines_of(std::string_view message) {
  std::vector<std::string_view> out;
  while (!message.empty()) {
    const size_t end = std::min(message.find('\n'), message.size());
    std::string_view line = message.substr(0, end);
    message.remove_prefix(std::min(end + 1, message.size()));
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The lines joined by `between`, with "list:" followed by a space only.
std::string join_lines(std::string_view message, std::string_view between) {
  std::string out;
  for (std::string_view line : lines_of(message)) {
    if (!out.empty()) out += out.back() == ':' && between != "\n" ? " " : std::string(between);
    out += line;
  }
  return out;
}

bool is_key_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

// The key=value fields of `message` from its first "event=" on. A value is
// a quoted string (escapes undone) or runs to the next space; a trailing
// ':' or ',' of a bare value is punctuation of the prose, not the value.
std::vector<std::pair<std::string, std::string>> fields_of(std::string_view message) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t i = message.find("event=");
  if (i == std::string_view::npos || (i > 0 && is_key_char(message[i - 1]))) return out;
  while (i < message.size()) {
    size_t k = i;
    while (k < message.size() && is_key_char(message[k])) ++k;
    if (k == i || k >= message.size() || message[k] != '=') {
      // Prose between fields: skip to the next word.
      while (i < message.size() && message[i] != ' ') ++i;
      while (i < message.size() && message[i] == ' ') ++i;
      continue;
    }
    std::string key(message.substr(i, k - i)), value;
    i = k + 1;
    if (i < message.size() && message[i] == '"') {
      for (++i; i < message.size() && message[i] != '"'; ++i) {
        if (message[i] == '\\' && i + 1 < message.size()) {
          ++i;
          value += message[i] == 'n' ? '\n' : message[i];
        } else {
          value += message[i];
        }
      }
      ++i;
    } else {
      while (i < message.size() && message[i] != ' ') value += message[i++];
      while (!value.empty() && (value.back() == ':' || value.back() == ',' || value.back() == ';'))
        value.pop_back();
    }
    out.emplace_back(std::move(key), std::move(value));
    while (i < message.size() && message[i] == ' ') ++i;
  }
  return out;
}

void write(LogLevel level, std::string_view message) {
  auto& l = logger();
  const auto spd = kLevels[static_cast<int>(level)];
  if (!l.should_log(spd)) return;
  const LogFormat format = g_format.load();
  if (format == LogFormat::kJson) {
    l.log(spd, format_log_line(format, level, message, iso_time(unix_now(), true)));
    return;
  }
  // Each line on its own with the level in front, so a reader that splits
  // on lines (grep, a log shipper) never gets a line without it.
  for (std::string_view line : lines_of(message)) l.log(spd, line);
}

}  // namespace

void init_logging(LogLevel level, LogFormat format) {
  g_format = format;
  logger().set_level(kLevels[static_cast<int>(level)]);
  // JSON lines carry their own level; no prefix, no colour codes.
  if (format == LogFormat::kJson) logger().set_pattern("%v");
}

LogFormat log_format() { return g_format.load(); }

void log_debug(std::string_view message) { write(LogLevel::kDebug, message); }
void log_info(std::string_view message) { write(LogLevel::kInfo, message); }
void log_warn(std::string_view message) { write(LogLevel::kWarn, message); }
void log_error(std::string_view message) { write(LogLevel::kError, message); }

std::string log_value(std::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" \"\\\n\t=") == std::string_view::npos;
  if (plain) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string format_log_line(LogFormat format, LogLevel level, std::string_view message,
                            std::string_view time_iso) {
  if (format == LogFormat::kText) return join_lines(message, "\n");
  JsonWriter w(0);
  w.begin_object()
      .field("time", time_iso)
      .field("level", kLevelNames[static_cast<int>(level)])
      .field("msg", join_lines(message, "; "));
  std::set<std::string> seen{"time", "level", "msg"};
  for (const auto& [key, value] : fields_of(message))
    if (seen.insert(key).second) w.field(key, value);
  w.end_object();
  std::string line = w.take();
  while (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

}  // namespace ferry
