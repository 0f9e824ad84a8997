#include "core/child_process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace ferry {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("ferry-child-" + std::to_string(getpid()) + "-" + name))
      .string();
}

TEST(ChildProcess, RunsWithItsEnvironmentAndOutputFilesAndReportsItsExit) {
  const std::string out = temp_path("out"), err = temp_path("err");
  auto child =
      ChildProcess::start({{"/bin/sh", "-c", "echo \"$FERRY_TEST_VALUE\"; echo oops >&2; exit 3"},
                           {{"FERRY_TEST_VALUE", "secret-free"}},
                           out,
                           err,
                           ChildLifetime::kDiesWithParent});
  ASSERT_TRUE(child) << child.error().to_string();
  EXPECT_EQ(child->wait(), 3);
  EXPECT_EQ(child->poll(), 3);
  EXPECT_EQ(read_all(out), "secret-free\n");
  EXPECT_EQ(read_all(err), "oops\n");
  std::filesystem::remove(out);
  std::filesystem::remove(err);
}

TEST(ChildProcess, PollIsEmptyWhileItRunsAndAKilledChildReportsTheSignal) {
  auto child = ChildProcess::start({{"/bin/sleep", "30"}, {}, "", "", ChildLifetime::kOwnSession});
  ASSERT_TRUE(child);
  EXPECT_FALSE(child->poll());
  EXPECT_TRUE(process_alive(child->pid()));
  child->send(SIGTERM);
  EXPECT_EQ(child->wait(), 128 + SIGTERM);
}

TEST(ChildProcess, AProgramThatCannotStartIsAnErrorNamingIt) {
  auto child =
      ChildProcess::start({{"/nonexistent/ferry"}, {}, "", "", ChildLifetime::kOwnSession});
  ASSERT_FALSE(child);
  EXPECT_NE(child.error().message.find("cannot run /nonexistent/ferry"), std::string::npos)
      << child.error().message;
}

TEST(ChildProcess, AResumableChildDiesWithItsOwner) {
  pid_t pid = 0;
  {
    auto child =
        ChildProcess::start({{"/bin/sleep", "30"}, {}, "", "", ChildLifetime::kDiesWithParent});
    ASSERT_TRUE(child);
    pid = child->pid();
  }
  EXPECT_FALSE(process_alive(pid));
}

TEST(ChildProcess, ADetachedChildOutlivesItsHandle) {
  const std::string out = temp_path("detached");
  {
    auto child = ChildProcess::start(
        {{"/bin/sh", "-c", "echo $$; sleep 30"}, {}, out, "", ChildLifetime::kDetached});
    ASSERT_TRUE(child);
    EXPECT_FALSE(child->poll());
  }
  std::string text;
  for (int i = 0; i < 200 && text.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = read_all(out);
  }
  const pid_t pid = static_cast<pid_t>(std::stol(text));
  EXPECT_TRUE(process_alive(pid));
  ::kill(pid, SIGKILL);
  std::filesystem::remove(out);
}

}  // namespace
}  // namespace ferry
