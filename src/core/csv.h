// RFC 4180 CSV with line numbers: quoted cells may hold commas, doubled quotes
// and newlines; CRLF and a UTF-8 byte-order mark are accepted.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace ferry {

struct CsvRow {
  int line = 0;  // line on which the record starts, 1-based
  std::vector<std::string> cells;

  // The trimmed cell in column `i`; "" when the column is absent or the row short.
  std::string cell(std::optional<size_t> i) const;
};

struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;  // blank lines are skipped

  // Index of a header column, compared case-insensitively and ignoring spaces.
  std::optional<size_t> column(std::string_view name) const;
};

// Fails on an unterminated quoted cell, naming the line where it began.
Result<CsvTable> parse_csv(std::string_view text, const std::string& file);

// One record, cells quoted where they need it (comma, quote, newline, or a
// space at either end), ending with "\n".
std::string csv_line(const std::vector<std::string>& cells);

}  // namespace ferry
