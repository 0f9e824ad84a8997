#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace ferry {

Result<std::string> read_text_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return fail(ErrorCode::kIo, "is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kIo, std::string("cannot open file: ") + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return fail(ErrorCode::kIo, "read failed");
  return buffer.str();
}

namespace {

// Closes the descriptor and removes the temporary file unless released.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!released_) std::remove(path_.c_str());
  }
  bool open() {
    fd_ = ::mkstemp(path_.data());
    return fd_ >= 0;
  }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  bool close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0;
  }
  void release() { released_ = true; }

 private:
  std::string path_;
  int fd_ = -1;
  bool released_ = false;
};

}  // namespace

namespace {

Result<void> write_all(int fd, std::string_view content, const std::string& path) {
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::kIo, path + ": write failed: " + std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
  return {};
}

mode_t default_mode() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

}  // namespace

Result<void> write_file_atomically(const std::string& requested, std::string_view content) {
  // Write through symlinks: the link stays, its target gets the new content.
  std::error_code ec;
  const std::string path = std::filesystem::is_symlink(requested, ec)
                               ? std::filesystem::weakly_canonical(requested, ec).string()
                               : requested;
  struct stat existing {};
  const bool exists = ::stat(path.c_str(), &existing) == 0;
  if (exists && !S_ISREG(existing.st_mode)) {
    // A device or pipe (/dev/stdout, a FIFO) cannot be replaced by rename.
    const int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
      return fail(ErrorCode::kIo, path + ": cannot open for writing: " + std::strerror(errno));
    auto written = write_all(fd, content, path);
    ::close(fd);
    return written;
  }
  TempFile temp(path + ".tmp.XXXXXX");
  auto io_error = [&](const char* what) {
    return fail(ErrorCode::kIo, path + ": " + what + ": " + std::strerror(errno));
  };
  if (!temp.open()) return io_error("cannot create file");
  if (auto written = write_all(temp.fd(), content, path); !written) return written;
  // mkstemp creates 0600: keep the mode of the file being replaced, or give a
  // new one the usual mode for a document.
  if (::fchmod(temp.fd(), exists ? existing.st_mode & 07777 : default_mode()) != 0) {
    return io_error("cannot set file mode");
  }
  if (!temp.close()) return io_error("close failed");
  if (std::rename(temp.path().c_str(), path.c_str()) != 0)
    return io_error("cannot rename into place");
  temp.release();
  return {};
}

}  // namespace ferry
