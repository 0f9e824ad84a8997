// Error values for expected failures. Every fallible function returns
// Result<T>; callers add context as the error travels up and the CLI prints it
// once and maps its code to an exit status (see exit_codes.h).
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

namespace ferry {

enum class ErrorCode {
  kInvalidInput,  // the user's files or arguments are wrong
  kIo,            // a file could not be read or written
  kDatabase,      // a database server was unreachable or refused an operation
  kInternal,      // a bug in ferry
};

// One problem validation found in an input, as data: where it is and what is
// wrong. Errors carry every problem so that a caller can hand them to a script
// (ferry assess --format json), not only print the message that lists them.
struct Problem {
  std::string file;
  int line = 0;         // 1-based; 0 when the problem concerns the whole file
  int column = 0;       // 1-based; 0 when unknown
  std::string field;    // "workloads[3].kind"; empty when the message names none
  std::string message;  // what is wrong, without the place and the field
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // The five-character SQLSTATE when the error came from PostgreSQL ("42P01").
  std::string sqlstate;
  // Outermost context first once printed; stored innermost first as added.
  std::vector<std::string> context;
  // Invalid input found by validation: every problem, each also a line of
  // `message`. Empty for other errors.
  std::vector<Problem> problems = {};

  Error&& with_context(std::string what) && {
    context.push_back(std::move(what));
    return std::move(*this);
  }
  // "reading rules: data/rules.yaml: cannot open file"
  std::string to_string() const;
};

template <typename T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message), {}, {}});
}

// Adds context to the error of a failed Result as it travels up:
//   return with_context(step(), "copying public.orders");
template <typename T>
Result<T> with_context(Result<T> r, std::string what) {
  if (!r) return tl::unexpected<Error>(std::move(r.error()).with_context(std::move(what)));
  return r;
}

}  // namespace ferry
