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

void Diagnostics::add_errors(const Error& failed) {
  if (failed.problems.empty()) {
    error({}, failed.message);
    return;
  }
  for (const auto& p : failed.problems) {
    error({p.file, p.line, p.column}, p.field.empty() ? p.message : p.field + ": " + p.message);
  }
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

namespace {

// Messages say which field they are about first: "workloads[3].kind: unknown
// value 'x'". A first word without spaces before ": " is such a path; "cannot
// open file: ..." and "duplicate workload name 'a' ..." name none.
Problem problem_of(const Diagnostic& d) {
  Problem p{d.where.file, d.where.line, d.where.column, {}, d.message};
  const size_t colon = d.message.find(": ");
  if (!d.where.file.empty() && colon != 0 && colon != std::string::npos &&
      d.message.find_first_of(" '\"", 0) > colon) {
    p.field = d.message.substr(0, colon);
    p.message = d.message.substr(colon + 2);
  }
  return p;
}

}  // namespace

Error Diagnostics::to_error(const std::string& what) const {
  std::string message = fmt::format("{} has {} error{}:\n{}", what, error_count_,
                                    error_count_ == 1 ? "" : "s", to_string());
  if (!message.empty() && message.back() == '\n') message.pop_back();
  Error error{ErrorCode::kInvalidInput, std::move(message), {}, {}};
  for (const auto& d : items_) {
    if (d.severity == Severity::kError) error.problems.push_back(problem_of(d));
  }
  return error;
}

Error invalid_input_at(SourceLocation where, std::string message) {
  Diagnostic d{Severity::kError, std::move(where), std::move(message)};
  Error error{ErrorCode::kInvalidInput, d.to_string(), {}, {}};
  error.problems.push_back(Problem{d.where.file, d.where.line, d.where.column, {}, d.message});
  return error;
}

}  // namespace ferry
