#include "core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ferry {

Result<std::string> read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::kIo, path + ": cannot open file: " + std::strerror(errno));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return fail(ErrorCode::kIo, path + ": read failed");
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

Result<void> write_file_atomically(const std::string& path, std::string_view content) {
  TempFile temp(path + ".tmp.XXXXXX");
  auto io_error = [&](const char* what) {
    return fail(ErrorCode::kIo, path + ": " + what + ": " + std::strerror(errno));
  };
  if (!temp.open()) return io_error("cannot create file");
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(temp.fd(), content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write failed");
    }
    written += static_cast<size_t>(n);
  }
  // mkstemp creates 0600; outputs are ordinary documents.
  ::fchmod(temp.fd(), 0644);
  if (!temp.close()) return io_error("close failed");
  if (std::rename(temp.path().c_str(), path.c_str()) != 0) return io_error("cannot rename into place");
  temp.release();
  return {};
}

}  // namespace ferry
