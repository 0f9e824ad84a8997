// Logging to stderr. Commands print their results on stdout; progress,
// warnings and errors go here so that stdout stays parseable.
#pragma once

#include <string_view>

namespace ferry {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

void init_logging(LogLevel level);
void log_debug(std::string_view message);
void log_info(std::string_view message);
void log_warn(std::string_view message);
void log_error(std::string_view message);

}  // namespace ferry
