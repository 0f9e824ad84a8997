// ferry's exit statuses, in one place. Scripts may rely on them; docs/exit-codes.md
// lists the same table for users.
#pragma once

#include "core/error.h"

namespace ferry {

enum class ExitCode : int {
  kOk = 0,            // the command did what was asked
  kFindings = 1,      // the command ran, and what it checked did not pass (e.g. verify mismatches)
  kUsage = 2,         // wrong command line: unknown option, missing argument
  kInvalidInput = 3,  // input files are invalid; every problem is listed on stderr
  kIo = 4,            // a file could not be read or written, or a proxy's admin API reached
  kDatabase = 5,      // a database server was unreachable or refused an operation
  kInternal = 70,     // a bug in ferry (EX_SOFTWARE); please report it
};

inline int exit_status(ExitCode code) { return static_cast<int>(code); }

inline ExitCode exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidInput:
      return ExitCode::kInvalidInput;
    case ErrorCode::kIo:
      return ExitCode::kIo;
    case ErrorCode::kDatabase:
      return ExitCode::kDatabase;
    case ErrorCode::kInternal:
      break;
  }
  return ExitCode::kInternal;
}

}  // namespace ferry
