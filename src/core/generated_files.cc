#include "core/generated_files.h"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "core/files.h"
#include "core/text.h"

namespace ferry {

namespace {

namespace fs = std::filesystem;

// Which contents of each file the manifest vouches for. A name may have two:
// while a write is under way the manifest lists the old and the new content.
using Vouched = std::map<std::string, std::set<std::string>>;

// FNV-1a, 64 bits: stable across builds and machines, and enough to notice
// an edit (this guards against accidents, not against an adversary).
std::string content_hash(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;
  for (char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return fmt::format("{:016x}", hash);
}

// "HASH NAME" lines; '#' starts a comment.
Result<Vouched> read_manifest(const fs::path& path) {
  Vouched out;
  std::error_code ec;
  if (!fs::exists(path, ec)) return out;
  auto text = with_context(read_text_file(path.string()), path.string());
  if (!text) return tl::unexpected(text.error());
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    if (space != 16 || space + 1 >= line.size()) {
      return fail(ErrorCode::kIo,
                  fmt::format("{}: damaged (the line '{}' is not HASH NAME); move the directory "
                              "aside and write it again",
                              path.string(), line));
    }
    out[line.substr(space + 1)].insert(line.substr(0, space));
  }
  return out;
}

Result<void> write_manifest(const fs::path& path, const Vouched& vouched, const std::string& by) {
  std::string text = fmt::format(
      "# Files written by `{}`, each with a hash of its content. It replaces\n"
      "# them only while they are unchanged, and writes nowhere else in this directory.\n",
      by);
  for (const auto& [name, hashes] : vouched) {
    for (const auto& hash : hashes) text += hash + " " + name + "\n";
  }
  return with_context(write_file_atomically(path.string(), text), path.string());
}

// What in `dir` the manifest does not vouch for: entries it does not list
// (directories are never listed), and listed files whose content changed.
Result<void> check_owned(const fs::path& dir, const Vouched& vouched) {
  std::vector<std::string> foreign, changed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == kGeneratedManifest) continue;
    const auto listed = vouched.find(name);
    if (listed == vouched.end() || !entry.is_regular_file() || entry.is_symlink()) {
      foreign.push_back(name + (entry.is_directory() ? "/" : ""));
      continue;
    }
    auto text = read_text_file(entry.path().string());
    if (!text || !listed->second.count(content_hash(*text))) changed.push_back(name);
  }
  if (ec)
    return fail(ErrorCode::kIo, fmt::format("{}: cannot list: {}", dir.string(), ec.message()));
  if (foreign.empty() && changed.empty()) return {};
  std::vector<std::string> what;
  if (!foreign.empty()) what.push_back("what ferry did not write: " + some_of(foreign));
  if (!changed.empty()) what.push_back("files changed since ferry wrote them: " + some_of(changed));
  return fail(ErrorCode::kIo,
              fmt::format("{}: refusing to write there: it holds {}; move them aside, or give a "
                          "new or empty directory",
                          dir.string(), join(what, ", and ")));
}

}  // namespace

Result<void> write_generated_files(const std::string& dir, const std::vector<GeneratedFile>& files,
                                   const std::string& by) {
  const fs::path root(dir);
  for (const auto& f : files) {
    if (f.name.empty() || f.name.find('/') != std::string::npos || f.name == kGeneratedManifest ||
        f.name == "." || f.name == "..") {
      return fail(ErrorCode::kInternal,
                  "a generated file needs a plain name, not '" + f.name + "'");
    }
  }
  std::error_code ec;
  Vouched before;
  if (fs::exists(root, ec)) {
    if (!fs::is_directory(root, ec)) return fail(ErrorCode::kIo, dir + ": is not a directory");
    auto manifest = read_manifest(root / kGeneratedManifest);
    if (!manifest) return tl::unexpected(manifest.error());
    before = std::move(*manifest);
    if (auto owned = check_owned(root, before); !owned) return owned;
  } else if (!fs::create_directories(root, ec)) {
    return fail(ErrorCode::kIo, fmt::format("{}: cannot create: {}", dir, ec.message()));
  }
  // Only what is there now: a name listed but gone stays gone.
  Vouched now;
  for (const auto& [name, hashes] : before) {
    if (fs::exists(root / name, ec)) now[name] = hashes;
  }
  Vouched after;
  for (const auto& f : files) after[f.name].insert(content_hash(f.text));
  // First the old and the new content together, so that a write cut short
  // at any file leaves a directory the next write accepts.
  Vouched during = now;
  for (const auto& [name, hashes] : after) during[name].insert(hashes.begin(), hashes.end());
  const fs::path manifest = root / kGeneratedManifest;
  if (auto w = write_manifest(manifest, during, by); !w) return w;
  for (const auto& f : files) {
    auto w = with_context(write_file_atomically((root / f.name).string(), f.text),
                          "writing " + (root / f.name).string());
    if (!w) return w;
  }
  // An earlier write's files that this one no longer makes (a workload that
  // left the plan) would otherwise be read as current.
  for (const auto& [name, hashes] : now) {
    if (after.count(name)) continue;
    if (!fs::remove(root / name, ec) && ec) {
      return fail(ErrorCode::kIo,
                  fmt::format("{}: cannot remove: {}", (root / name).string(), ec.message()));
    }
  }
  return write_manifest(manifest, after, by);
}

}  // namespace ferry
