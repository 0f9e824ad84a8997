// Small string helpers shared by the loaders and reports.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

std::string to_lower(std::string_view s);
std::string_view trim(std::string_view s);
// Splits on any of `delims`, trims each piece and drops empty ones.
std::vector<std::string> split_trimmed(std::string_view s, std::string_view delims);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// For text inside HTML elements and attribute values: & < > " escaped.
std::string html_escape(std::string_view s);
// Text on one line, safe in a markdown table cell: pipes escaped, HTML that
// renderers would interpret neutralised, line breaks flattened.
std::string markdown_text(std::string_view s);
// Seconds since the Unix epoch, now (wall clock).
double unix_now();
// ISO 8601 UTC of a Unix time: "2026-12-07T12:00:03Z", or with milliseconds
// "2026-12-07T12:00:03.512Z".
std::string iso_time(double unix_seconds, bool milliseconds = false);

// "a, b, c and 4 more": the first `shown` names, so long lists stay readable.
std::string some_of(const std::vector<std::string>& names, size_t shown = 8);
// Lowercase letters and digits only: "RDS PostgreSQL" and "rds-postgresql" both
// become "rdspostgresql". Used to match names users spell differently.
std::string normalize_name(std::string_view s);
// The whole of `s` as a finite number ("12", "-3.5", "1e3"); nullopt otherwise.
std::optional<double> parse_double(std::string_view s);
// "512MB", "64KiB", "8k", "1048576" -> bytes (binary units; B, K/KB/KiB, M.., G.., T..).
std::optional<int64_t> parse_byte_size(std::string_view s);
// "250ms", "2s", "1.5s", "5m", "1h" -> milliseconds; a bare number is seconds.
std::optional<int64_t> parse_duration_ms(std::string_view s);
// A duration as ferry shows it back: "15s", "10m", "250ms", "0".
std::string duration_text(int64_t ms);
// A name ferry puts in URLs, metrics, journals and slot names: 1 to 64
// letters, digits, '-', '_' or '.'.
bool is_config_name(std::string_view s);
// Levenshtein distance, for "did you mean" hints.
size_t edit_distance(std::string_view a, std::string_view b);
// The closest candidate when it is close enough to be a plausible typo.
std::optional<std::string> did_you_mean(std::string_view word,
                                        std::span<const std::string> candidates);
// Shell-style match where * stands for any run of characters (dots too):
// glob_match("sales.order_items", "sales.order*").
bool glob_match(std::string_view text, std::string_view pattern);
// Whether a given token is the expected one, compared in time that depends
// on the lengths only, so that the time to refuse a guess does not tell how
// much of the token it got right.
bool same_secret(std::string_view given, std::string_view expected);
// " (did you mean 'x'?)" or "".
std::string did_you_mean_hint(std::string_view word, std::span<const std::string> candidates);

}  // namespace ferry
