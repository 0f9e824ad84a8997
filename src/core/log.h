// Logging to stderr. Commands print their results on stdout; progress,
// warnings and errors go here so that stdout stays parseable.
//
// Every line starts with its level: a message of several lines (an error
// that lists several problems) is written as one line each, each with the
// level in front, so grep or a log shipper never sees a line without one.
// Messages that record a decision or a state change
// read `event=NAME key=value ...` (log_value() quotes a value that needs it);
// with `--log-format json` each line is one JSON object whose keys are those
// fields plus time, level and msg (the whole message).
#pragma once

#include <string>
#include <string_view>

namespace ferry {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

void init_logging(LogLevel level, LogFormat format = LogFormat::kText);
LogFormat log_format();
void log_debug(std::string_view message);
void log_info(std::string_view message);
void log_warn(std::string_view message);
void log_error(std::string_view message);

// A value for a key=value field: as it is when it is one plain word, else in
// double quotes with \" \\ and line breaks escaped, so it reads back exactly.
std::string log_value(std::string_view value);

// The line `format` writes for one message (without the final newline).
// Text: the message's lines without indentation, joined by "\n" (each gets
// the level as its prefix when written). JSON, always one line: {"time", "level", "msg"} plus, from
// the first "event=" on, every key=value field of the message; a field named like one of the three
// is left to msg, whose lines are joined by "; ".
std::string format_log_line(LogFormat format, LogLevel level, std::string_view message,
                            std::string_view time_iso);

}  // namespace ferry
