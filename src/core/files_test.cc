#include "core/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace ferry {
namespace {

TEST(Files, AtomicWriteReplacesContentAndLeavesNoTemporaryFile) {
  auto dir =
      std::filesystem::temp_directory_path() / ("ferry_files_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "out.txt").string();
  ASSERT_TRUE(write_file_atomically(path, "first"));
  ASSERT_TRUE(write_file_atomically(path, "second"));
  auto content = read_text_file(path);
  ASSERT_TRUE(content);
  EXPECT_EQ(*content, "second");
  size_t files = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u);
  std::filesystem::remove_all(dir);
}

TEST(Files, ErrorsNameThePath) {
  auto missing = read_text_file("/nonexistent/dir/x.yaml");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kIo);
  EXPECT_EQ(missing.error().message, "cannot open file: No such file or directory");
  auto unwritable = write_file_atomically("/nonexistent/dir/out.md", "x");
  ASSERT_FALSE(unwritable);
  EXPECT_NE(unwritable.error().message.find("/nonexistent/dir/out.md: cannot create file"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry

namespace ferry {
namespace {

TEST(Files, WritesThroughSymlinksAndKeepsTheMode) {
  auto dir =
      std::filesystem::temp_directory_path() / ("ferry_files_link_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const auto real = dir / "real.txt", link = dir / "link.txt";
  ASSERT_TRUE(write_file_atomically(real.string(), "old"));
  ::chmod(real.c_str(), 0640);
  std::filesystem::create_symlink(real, link);
  ASSERT_TRUE(write_file_atomically(link.string(), "new"));
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(*read_text_file(real.string()), "new");
  struct stat st {};
  ASSERT_EQ(::stat(real.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  std::filesystem::remove_all(dir);
}

TEST(Files, WritesToDevicesDirectly) {
  EXPECT_TRUE(write_file_atomically("/dev/null", "discarded"));
}

}  // namespace
}  // namespace ferry
