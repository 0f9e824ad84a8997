#include "core/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ferry {

namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// In the child, between fork and exec: only async-signal-safe calls.
void redirect(int target_fd, const char* path, int flags) {
  const int fd = ::open(path, flags, 0644);
  if (fd < 0) return;
  ::dup2(fd, target_fd);
  ::close(fd);
}

}  // namespace

Result<ChildProcess> ChildProcess::start(const ChildSpec& spec) {
  if (spec.argv.empty()) return fail(ErrorCode::kInternal, "ChildProcess: empty argv");
  // Everything the child needs is prepared before the fork: it must not
  // allocate between fork and exec.
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [n, v] : spec.env) replaced = replaced || n == name;
    if (!replaced) env_strings.push_back(entry);
  }
  for (const auto& [n, v] : spec.env) env_strings.push_back(n + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const char* out_path = spec.stdout_file.empty() ? "/dev/null" : spec.stdout_file.c_str();
  const char* err_path = spec.stderr_file.empty() ? "/dev/null" : spec.stderr_file.c_str();
  const ChildLifetime lifetime = spec.lifetime;

  // Closed by a successful exec, or carrying exec's errno.
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0)
    return fail(ErrorCode::kIo, std::string("creating a pipe: ") + std::strerror(errno));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    ::close(exec_pipe[0]);
    ::close(exec_pipe[1]);
    return fail(ErrorCode::kIo, std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    ::close(exec_pipe[0]);
    if (lifetime == ChildLifetime::kDiesWithParent) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
    } else {
      setsid();
      // The intermediate exits at once: the real child is init's to reap.
      if (lifetime == ChildLifetime::kDetached && fork() != 0) _exit(0);
    }
    redirect(STDIN_FILENO, "/dev/null", O_RDONLY);
    redirect(STDOUT_FILENO, out_path, O_WRONLY | O_CREAT | O_TRUNC);
    redirect(STDERR_FILENO, err_path, O_WRONLY | O_CREAT | O_APPEND);
    execve(argv[0], argv.data(), envp.data());
    const int err = errno;
    (void)!::write(exec_pipe[1], &err, sizeof err);
    _exit(127);
  }
  ::close(exec_pipe[1]);
  int exec_errno = 0;
  ssize_t n;
  while ((n = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  ::close(exec_pipe[0]);
  ChildProcess child(pid, lifetime);
  if (lifetime == ChildLifetime::kDetached) {
    // The intermediate; the pid of the real child is not ours to know (its
    // status file names it).
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    child.exit_status_ = 0;
  }
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    if (lifetime != ChildLifetime::kDetached) child.wait();
    return fail(ErrorCode::kIo, "cannot run " + spec.argv[0] + ": " + std::strerror(exec_errno));
  }
  return child;
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0 || exit_status_) return;
  if (lifetime_ == ChildLifetime::kDiesWithParent) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      lifetime_(other.lifetime_),
      exit_status_(other.exit_status_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    this->~ChildProcess();
    pid_ = std::exchange(other.pid_, -1);
    lifetime_ = other.lifetime_;
    exit_status_ = other.exit_status_;
  }
  return *this;
}

std::optional<int> ChildProcess::poll() {
  if (exit_status_ || pid_ <= 0 || lifetime_ == ChildLifetime::kDetached) {
    return lifetime_ == ChildLifetime::kDetached ? std::nullopt : exit_status_;
  }
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) exit_status_ = decode_status(status);
  return exit_status_;
}

int ChildProcess::wait() {
  if (exit_status_) return *exit_status_;
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  exit_status_ = decode_status(status);
  return *exit_status_;
}

void ChildProcess::send(int signal) const {
  if (pid_ > 0 && !exit_status_) ::kill(pid_, signal);
}

bool process_alive(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

std::string own_executable() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).string();
}

}  // namespace ferry
