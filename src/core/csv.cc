#include "core/csv.h"

#include "core/diagnostics.h"
#include "core/text.h"

namespace ferry {

std::string CsvRow::cell(std::optional<size_t> i) const {
  return i && *i < cells.size() ? std::string(trim(cells[*i])) : std::string();
}

std::optional<size_t> CsvTable::column(std::string_view name) const {
  const std::string wanted = normalize_name(name);
  for (size_t i = 0; i < header.size(); ++i) {
    if (normalize_name(header[i]) == wanted) return i;
  }
  return std::nullopt;
}

Result<CsvTable> parse_csv(std::string_view text, const std::string& file) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<CsvRow> records;
  CsvRow current;
  std::string cell;
  int line = 1;
  bool in_quotes = false;
  int quote_line = 0;
  bool row_has_content = false;
  current.line = 1;

  auto end_cell = [&] {
    current.cells.push_back(std::move(cell));
    cell.clear();
  };
  auto end_row = [&] {
    end_cell();
    if (row_has_content) records.push_back(std::move(current));
    current = CsvRow{};
    row_has_content = false;
  };

  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        cell.push_back(c);
      }
      continue;
    }
    switch (c) {
      case '"':
        in_quotes = true;
        quote_line = line;
        row_has_content = true;
        break;
      case ',':
        end_cell();
        row_has_content = true;
        break;
      case '\r':
        break;
      case '\n':
        end_row();
        ++line;
        current.line = line;
        break;
      default:
        cell.push_back(c);
        if (c != ' ' && c != '\t') row_has_content = true;
    }
  }
  if (in_quotes) {
    return tl::unexpected(invalid_input_at({file, quote_line, 0}, "quoted cell is never closed"));
  }
  end_row();

  CsvTable table;
  if (records.empty()) return table;
  table.header = std::move(records.front().cells);
  for (auto& h : table.header) h = std::string(trim(h));
  table.rows.assign(std::make_move_iterator(records.begin() + 1),
                    std::make_move_iterator(records.end()));
  return table;
}

std::string csv_line(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += ',';
    const std::string& c = cells[i];
    const bool quote = c.find_first_of(",\"\r\n") != std::string::npos ||
                       (!c.empty() && (c.front() == ' ' || c.back() == ' '));
    if (!quote) {
      out += c;
      continue;
    }
    out += '"';
    for (char ch : c) {
      if (ch == '"') out += '"';
      out += ch;
    }
    out += '"';
  }
  out += '\n';
  return out;
}

}  // namespace ferry
