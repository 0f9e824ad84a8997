#include "cli/parse_errors.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <vector>

#include "core/text.h"

namespace ferry::cli {

namespace {

// The subcommand the mistake was made in: the last one the parser entered.
const CLI::App* innermost(const CLI::App* app) {
  auto chosen = app->get_subcommands();
  return chosen.empty() ? app : innermost(chosen.back());
}

std::string command_path(const CLI::App* app) {
  std::string path = app->get_name();
  for (const CLI::App* p = app->get_parent(); p; p = p->get_parent())
    path = p->get_name() + " " + path;
  return path;
}

// The flags of `app` and of the apps above it (flags fall through).
std::vector<std::string> flags_of(const CLI::App* app) {
  std::vector<std::string> out;
  for (; app; app = app->get_parent())
    for (const CLI::Option* o : app->get_options()) {
      for (const auto& l : o->get_lnames()) out.push_back("--" + l);
      for (const auto& s : o->get_snames()) out.push_back("-" + s);
    }
  return out;
}

std::vector<std::string> subcommands_of(const CLI::App* app) {
  std::vector<std::string> out;
  for (const CLI::App* s : app->get_subcommands([](const CLI::App*) { return true; }))
    out.push_back(s->get_name());
  return out;
}

// "The following arguments were not expected: 5 --gracee" -> the words in
// command-line order (CLI11 lists them last first).
std::vector<std::string> unexpected_words(const std::string& what) {
  const auto colon = what.find(": ");
  auto words = split_trimmed(colon == std::string::npos ? what : what.substr(colon + 2), " ");
  std::reverse(words.begin(), words.end());
  return words;
}

std::string unknown_option(const CLI::App* app, const std::string& word) {
  const std::string flag = word.substr(0, word.find('='));
  return fmt::format("unknown option {}{}", flag, did_you_mean_hint(flag, flags_of(app)));
}

std::string message_for(const CLI::App* app, const CLI::Error& e) {
  const std::string what = e.what();
  // CLI11 checks required options before it complains about unknown ones;
  // a mistyped flag is the likelier cause and the more useful message.
  // (Unknown flags fall through to the apps above, which hold them.)
  if (dynamic_cast<const CLI::RequiredError*>(&e))
    for (const CLI::App* a = app; a; a = a->get_parent())
      for (const std::string& word : a->remaining())
        if (word.starts_with("--") || (word.size() == 2 && word[0] == '-'))
          return unknown_option(app, word);
  // By type: CLI11 names some errors after the app that raised them.
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    const auto words = unexpected_words(what);
    if (words.empty()) return what;
    const std::string& first = words.front();
    if (first.starts_with("-")) return unknown_option(app, first);
    const auto commands = subcommands_of(app);
    if (!commands.empty())
      return fmt::format("unknown command '{}'{}", first, did_you_mean_hint(first, commands));
    return fmt::format("unexpected argument '{}'", first);
  }
  if (dynamic_cast<const CLI::ConversionError*>(&e)) {
    // "Could not convert: --grace = 5s"
    const auto colon = what.find(": "), equals = what.find(" = ");
    if (colon != std::string::npos && equals != std::string::npos && equals > colon)
      return fmt::format("{}: '{}' is not a valid value",
                         what.substr(colon + 2, equals - colon - 2), what.substr(equals + 3));
  }
  if (dynamic_cast<const CLI::ExcludesError*>(&e)) {
    // "rollout excludes --config"
    const auto at = what.find(" excludes ");
    if (at != std::string::npos)
      return fmt::format("{} cannot be given with {}", what.substr(at + 10), what.substr(0, at));
  }
  if (dynamic_cast<const CLI::RequiredError*>(&e) && what.find("subcommand") != std::string::npos)
    return "a command is needed: one of " + join(subcommands_of(app), ", ");
  return what;
}

}  // namespace

// " INVENTORY..." for a command's positional arguments, and " COMMAND" when it
// has subcommands (both for `ferry assess`, which takes files or `diff`).
std::string arguments_of(const CLI::App* app) {
  std::vector<std::string> words;
  for (const CLI::Option* o :
       app->get_options([](const CLI::Option* opt) { return opt->get_positional(); })) {
    std::string name = o->get_name();
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    words.push_back(name + (o->get_items_expected_max() > 1 ? "..." : ""));
  }
  std::string out = words.empty() ? "" : " " + join(words, " ");
  if (!subcommands_of(app).empty()) out += words.empty() ? " COMMAND" : " | COMMAND";
  return out;
}

std::string describe_parse_error(const CLI::App* root, const CLI::Error& e) {
  const CLI::App* app = innermost(root);
  const std::string path = command_path(app);
  return fmt::format("error: {}: {}\nusage: {} [OPTIONS]{}; '{} --help' lists them\n", path,
                     message_for(app, e), path, arguments_of(app), path);
}

}  // namespace ferry::cli
