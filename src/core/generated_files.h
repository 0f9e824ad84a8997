// A directory of files a command generates for people to edit afterwards
// (`ferry assess --emit-runs DIR`). Writing it again must never destroy
// what a person put there, so the directory keeps a manifest
// (DIR/.ferry-generated) of every file the command wrote with a hash of its
// content, and a later write replaces only those files, and only while they
// are unchanged. Anything else in the directory (a file it did not write, a
// file edited since, a subdirectory such as a run's state) stops the write
// before anything is touched.
#pragma once

#include <string>
#include <vector>

#include "core/error.h"

namespace ferry {

struct GeneratedFile {
  std::string name;  // a plain file name inside the directory, no '/'
  std::string text;
};

// The manifest's name inside the directory.
inline constexpr const char* kGeneratedManifest = ".ferry-generated";

// Writes `files` into `dir` (created when missing), each atomically, and
// removes the files an earlier write made that `files` no longer has.
// `by` names the command in the manifest's comment ("ferry assess
// --emit-runs"). Fails with kIo, having changed nothing, when `dir` holds
// anything the manifest does not vouch for; the message names every such
// entry. A write cut short leaves a directory the next write still accepts.
Result<void> write_generated_files(const std::string& dir, const std::vector<GeneratedFile>& files,
                                   const std::string& by);

}  // namespace ferry
