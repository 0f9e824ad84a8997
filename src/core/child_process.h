// A program ferry starts and keeps an eye on while it runs: the steps of
// `ferry run` (a clone, a cutover, a follow) are `ferry db` commands run as
// children, so a step can be watched, stopped, and outlive the engine where
// it must. Unlike run_process (process.h) nothing waits here: the caller
// polls. Output goes to files, never pipes, so a child whose parent died
// does not block on a full pipe nobody reads.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace ferry {

// How a child relates to the process that starts it.
enum class ChildLifetime {
  // Killed (SIGKILL) when the parent dies: work that can be resumed from
  // its own journal (a clone) is never left running behind the next attempt.
  kDiesWithParent,
  // Its own session, so neither the parent's death nor a Ctrl-C in the
  // parent's terminal stops it: work that must reach its own end once
  // started (a cutover restores the old side only if it lives to do so).
  kOwnSession,
  // As kOwnSession, and not the parent's child at all (started through an
  // intermediate that exits at once): a service that outlives every `ferry
  // run` (a follow). Its end is seen through what it writes, not its exit.
  kDetached,
};

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] is a path
  // Added to the inherited environment: connection strings travel here,
  // never on a command line where `ps` shows them.
  std::vector<std::pair<std::string, std::string>> env;
  std::string stdout_file;  // truncated; "" : /dev/null
  std::string stderr_file;  // appended to; "" : /dev/null
  ChildLifetime lifetime = ChildLifetime::kDiesWithParent;
};

class ChildProcess {
 public:
  // Fails when the program could not be started (exec's error, with the path).
  static Result<ChildProcess> start(const ChildSpec& spec);
  // A kDiesWithParent child still running is killed and waited for (its
  // work resumes from its journal); the others are left to their end.
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // The exit status once it has ended (128 + signal when killed by one);
  // nullopt while it runs. Always nullopt for a kDetached child.
  std::optional<int> poll();
  // Waits for the end (not for kDetached).
  int wait();
  void send(int signal) const;

 private:
  ChildProcess(pid_t pid, ChildLifetime lifetime) : pid_(pid), lifetime_(lifetime) {}
  pid_t pid_ = -1;
  ChildLifetime lifetime_ = ChildLifetime::kDiesWithParent;
  std::optional<int> exit_status_;
};

// Whether a process with this pid runs (any user's).
bool process_alive(pid_t pid);
// This program's own path, for starting more of itself.
std::string own_executable();

}  // namespace ferry
