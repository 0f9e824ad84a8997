// Collect-then-fail validation. Loaders record every problem they find with
// the file, line and column it came from, keep going, and the caller fails
// once with the full list, formatted like a compiler's messages.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace ferry {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem concerns the whole file
  int column = 0;  // 1-based; 0 when unknown

  // "file:line:column", "file:line" or "file".
  std::string to_string() const;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLocation where;
  std::string message;

  // "estate.yaml:12:5: error: workloads[3].kind: unknown value 'servise' (did you mean
  // 'service'?)"; with no file, the message as it is (a parser's message that names its own place).
  std::string to_string() const;
};

class Diagnostics {
 public:
  void error(SourceLocation where, std::string message);
  void warning(SourceLocation where, std::string message);
  // Every problem of a failed parse (see invalid_input_at), each at its own
  // place; an error without problems as its message, which names its place.
  void add_errors(const Error& failed);

  bool has_errors() const { return error_count_ > 0; }
  size_t error_count() const { return error_count_; }
  const std::vector<Diagnostic>& all() const { return items_; }

  // One line per diagnostic, in the order found.
  std::string to_string() const;
  // An kInvalidInput error whose message lists every diagnostic and whose
  // problems are the errors among them. A message that starts with a field's
  // path ("workloads[3].kind: unknown value ...") names that field.
  Error to_error(const std::string& what) const;

 private:
  std::vector<Diagnostic> items_;
  size_t error_count_ = 0;
};

// A kInvalidInput error about one place, as parsers report them: worded like
// a diagnostic ("f.yaml:3:5: error: ...") and carrying it as its one problem.
Error invalid_input_at(SourceLocation where, std::string message);

}  // namespace ferry
