// Reading and writing whole files. Writes are atomic (temporary file, then
// rename) so a failed command never leaves a half-written output behind.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace ferry {

// The error names what went wrong, not the path: callers add it as context.
Result<std::string> read_text_file(const std::string& path);
Result<void> write_file_atomically(const std::string& path, std::string_view content);

}  // namespace ferry
