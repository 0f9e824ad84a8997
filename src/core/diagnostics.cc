#include "core/diagnostics.h"

#include <fmt/format.h>

namespace ferry {

std::string SourceLocation::to_string() const {
  if (line <= 0) return file;
  if (column <= 0) return fmt::format("{}:{}", file, line);
  return fmt::format("{}:{}:{}", file, line, column);
}

std::string Diagnostic::to_string() const {
  // A parser's message already names its place ("f.yaml:3:1: error: ...").
  if (where.file.empty()) return message;
  return fmt::format("{}: {}: {}", where.to_string(),
                     severity == Severity::kError ? "error" : "warning", message);
}

void Diagnostics::error(SourceLocation where, std::string message) {
  items_.push_back({Severity::kError, std::move(where), std::move(message)});
  ++error_count_;
}

void Diagnostics::warning(SourceLocation where, std::string message) {
  items_.push_back({Severity::kWarning, std::move(where), std::move(message)});
}

std::string Diagnostics::to_string() const {
  std::string out;
  for (const auto& d : items_) {
    out += d.to_string();
    out += '\n';
  }
  return out;
}

Error Diagnostics::to_error(const std::string& what) const {
  std::string message = fmt::format("{} has {} error{}:\n{}", what, error_count_,
                                    error_count_ == 1 ? "" : "s", to_string());
  if (!message.empty() && message.back() == '\n') message.pop_back();
  return Error{ErrorCode::kInvalidInput, std::move(message), {}, {}};
}

}  // namespace ferry
