// Child processes for end-to-end tests: a program run in the background
// with its output in files (ferry, a backend, wrk), killed when the test ends
// or its process dies.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace ferry_test {

namespace fs = std::filesystem;

// How a command ended: its exit status (128 + signal when killed, as a shell
// reports it: 137 after SIGKILL) and what it printed.
struct Outcome {
  int status = -1;
  std::string out, err;
};

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The seed of a test's random choices: FERRY_TEST_SEED when set (to repeat a
// run), a fresh one otherwise. Printed, so a failure can be replayed.
inline unsigned random_seed() {
  const char* given = std::getenv("FERRY_TEST_SEED");
  const unsigned seed =
      given ? static_cast<unsigned>(std::strtoul(given, nullptr, 10)) : std::random_device{}();
  std::cout << "random seed " << seed << " (FERRY_TEST_SEED=" << seed << " repeats it)\n";
  return seed;
}

inline std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  return s;
}

// A child process with stdout and stderr in files; Env entries are added to
// the inherited environment.
using Env = std::vector<std::pair<std::string, std::string>>;

class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& output_prefix, const Env& env = {})
      : out_(output_prefix.string() + ".out"), err_(output_prefix.string() + ".err") {
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      // Killed with the test process too, when ctest kills it on a timeout
      // and the destructor below never runs.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(125);
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      const int o = open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (o < 0 || e < 0) _exit(126);
      dup2(o, 1);
      dup2(e, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  Child(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !exited()) {
      kill(pid_, SIGKILL);
      wait();
    }
  }
  pid_t pid() const { return pid_; }
  void kill_now() { kill(pid_, SIGKILL); }
  void signal(int sig) { kill(pid_, sig); }
  // True once the child has ended (then wait() returns at once).
  bool exited() {
    if (!waited_ && waitpid(pid_, &raw_, WNOHANG) == pid_) waited_ = true;
    return waited_;
  }
  Outcome wait() {
    if (!waited_) waitpid(pid_, &raw_, 0);
    waited_ = true;
    const int raw = raw_;
    Outcome r;
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : WIFSIGNALED(raw) ? 128 + WTERMSIG(raw) : -1;
    r.out = slurp(out_);
    r.err = slurp(err_);
    fs::remove(out_);
    fs::remove(err_);
    return r;
  }

 private:
  pid_t pid_ = -1;
  int raw_ = 0;
  bool waited_ = false;
  fs::path out_, err_;
};

// Where children's output goes: one file pair per child.
inline fs::path scratch_dir() {
  const auto dir = fs::temp_directory_path() / ("ferry_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  return dir;
}

inline fs::path output_prefix() {
  static int counter = 0;
  return scratch_dir() / std::to_string(++counter);
}

inline Outcome run(const std::vector<std::string>& argv, const Env& env = {}) {
  return Child(argv, output_prefix(), env).wait();
}

inline Outcome sh(const std::string& command) { return run({"/bin/sh", "-c", command}); }

}  // namespace ferry_test
