#include "core/generated_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/files.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

class GeneratedFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ferry_generated_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result<void> write(const std::vector<GeneratedFile>& files) {
    return write_generated_files(dir_.string(), files, "ferry test");
  }
  std::string read(const std::string& name) {
    return read_text_file((dir_ / name).string()).value_or("(missing)");
  }

  fs::path dir_;
};

TEST_F(GeneratedFiles, CreatesTheDirectoryAndReplacesItsOwnFiles) {
  ASSERT_TRUE(write({{"a.yaml", "one"}, {"README.md", "index"}}));
  EXPECT_EQ(read("a.yaml"), "one");
  EXPECT_TRUE(fs::exists(dir_ / kGeneratedManifest));
  // Again, with a file fewer and one changed: the one it no longer makes goes.
  ASSERT_TRUE(write({{"a.yaml", "two"}}));
  EXPECT_EQ(read("a.yaml"), "two");
  EXPECT_FALSE(fs::exists(dir_ / "README.md"));
}

TEST_F(GeneratedFiles, RefusesADirectoryWithAnythingItDidNotWriteAndChangesNothing) {
  fs::create_directories(dir_ / "state");
  std::ofstream(dir_ / "notes.txt") << "mine";
  auto refused = write({{"a.yaml", "one"}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kIo);
  EXPECT_NE(refused.error().message.find("refusing to write there: it holds what ferry did not "
                                         "write: "),
            std::string::npos)
      << refused.error().message;
  EXPECT_NE(refused.error().message.find("notes.txt"), std::string::npos);
  EXPECT_NE(refused.error().message.find("state/"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "a.yaml"));
  EXPECT_FALSE(fs::exists(dir_ / kGeneratedManifest));
}

TEST_F(GeneratedFiles, NeverOverwritesAFileSomeoneEdited) {
  ASSERT_TRUE(write({{"a.yaml", "one"}, {"b.yaml", "two"}}));
  std::ofstream(dir_ / "a.yaml") << "one, filled in by a person";
  auto refused = write({{"a.yaml", "three"}, {"b.yaml", "four"}});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("files changed since ferry wrote them: a.yaml"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(read("a.yaml"), "one, filled in by a person");
  EXPECT_EQ(read("b.yaml"), "two");
}

TEST_F(GeneratedFiles, AWriteCutShortIsStillItsOwn) {
  // While a write is under way its manifest vouches for each file's old and
  // new content; whichever one a crash left, the next write goes ahead.
  ASSERT_TRUE(write({{"a.yaml", "one"}}));
  const std::string old_manifest = read(kGeneratedManifest);
  ASSERT_TRUE(write({{"a.yaml", "two"}}));
  const std::string during = old_manifest + read(kGeneratedManifest);
  for (const char* left : {"one", "two"}) {
    std::ofstream(dir_ / "a.yaml") << left;
    std::ofstream(dir_ / kGeneratedManifest) << during;
    EXPECT_TRUE(write({{"a.yaml", "three"}})) << left;
    EXPECT_EQ(read("a.yaml"), "three");
  }
}

TEST_F(GeneratedFiles, APathThatIsNotADirectoryIsAnError) {
  std::ofstream(dir_.string()) << "a file";
  auto refused = write({{"a.yaml", "one"}});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, dir_.string() + ": is not a directory");
  fs::remove(dir_);
}

}  // namespace
}  // namespace ferry
