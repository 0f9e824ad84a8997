// Command-line mistakes reported like every other ferry error: an `error:`
// line naming the command and the flag, a "did you mean" for a mistyped
// flag or subcommand, and the command's usage line, instead of CLI11's own
// wording. Installed on the root app, inherited by every subcommand.
#pragma once

#include <string>

namespace CLI {
class App;
class Error;
}  // namespace CLI

namespace ferry::cli {

std::string describe_parse_error(const CLI::App* root, const CLI::Error& e);

}  // namespace ferry::cli
