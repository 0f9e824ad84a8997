// Harness for end-to-end tests of `ferry proxy`: real backends
// (tests/http_backend.py, or nginx for load), the real ferry binary with a
// config written per test, and real clients (curl, wrk, raw sockets).
// Compile definitions: FERRY_BINARY, FERRY_SOURCE_DIR.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include "child_process.h"

namespace proxytest {

using namespace ferry_test;
using namespace std::chrono_literals;

// A port nobody listens on right now (the kernel's pick, then released).
inline sockaddr_in loopback_address(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback_address(0);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A connected socket to 127.0.0.1:port, or -1.
inline int connect_to(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in a = loopback_address(port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Polls `done` every `step` until it holds or `limit` passes; true when it held.
template <typename F>
bool eventually(F done, std::chrono::milliseconds limit,
                std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(step);
  }
  return done();
}

inline bool wait_for_port(int port, std::chrono::milliseconds limit = 10s) {
  return eventually(
      [&] {
        const int fd = connect_to(port);
        if (fd < 0) return false;
        close(fd);
        return true;
      },
      limit);
}

// How many times `needle` (not empty) occurs in `text`.
inline size_t occurrences(const std::string& text, const std::string& needle) {
  size_t found = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++found;
  return found;
}

// A raw client connection: sends exactly the bytes given, reads what comes.
class RawClient {
 public:
  explicit RawClient(int port) : fd_(connect_to(port)) {}
  ~RawClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  void send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }
  // Reads until the peer closes, `stop` appears `count` times, or `limit` passes.
  std::string read(std::chrono::milliseconds limit = 5s, const std::string& stop = "",
                   int count = 1) {
    std::string out;
    const auto until = std::chrono::steady_clock::now() + limit;
    while (true) {
      if (!stop.empty()) {
        if (occurrences(out, stop) >= static_cast<size_t>(count)) break;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  bool closed() const { return closed_; }

 private:
  int fd_;
  bool closed_ = false;
};

// One request on its own connection (Connection: close is the caller's choice).
inline std::string round_trip(int port, const std::string& request,
                              std::chrono::milliseconds limit = 5s) {
  RawClient c(port);
  if (!c.ok()) return "";
  c.send(request);
  return c.read(limit);
}

inline int status_of(const std::string& response) {
  if (response.size() < 12 || response.rfind("HTTP/1.", 0) != 0) return 0;
  return std::stoi(response.substr(9, 3));
}

inline std::string body_of(const std::string& response) {
  const size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

// A header's value in a response head ("" when absent).
inline std::string header_of(const std::string& response, const std::string& name) {
  const std::regex re("\r\n" + name + ": ([^\r]*)\r\n", std::regex::icase);
  std::smatch m;
  const std::string head = response.substr(0, response.find("\r\n\r\n") + 2);
  return std::regex_search(head, m, re) ? m[1].str() : "";
}

// tests/http_backend.py on a free port.
class Backend {
 public:
  explicit Backend(const std::string& name, const Env& env = {}, int port = 0)
      : name_(name), port_(port != 0 ? port : free_port()) {
    child_ = std::make_unique<Child>(
        std::vector<std::string>{"python3",
                                 std::string(FERRY_SOURCE_DIR) + "/tests/http_backend.py",
                                 std::to_string(port_), name},
        output_prefix(), env);
    EXPECT_TRUE(wait_for_port(port_)) << "backend " << name << " did not start";
  }
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void stop() { child_.reset(); }

 private:
  std::string name_;
  int port_;
  std::unique_ptr<Child> child_;
};

// A backend (Backend, with env()) answers as this file says while it exists:
// a status ("500") or "slow MS" (tests/http_backend.py, $BACKEND_FAIL_FILE).
class FailSwitch {
 public:
  FailSwitch() : path_(scratch_dir() / ("fail_" + std::to_string(free_port()))) {}
  ~FailSwitch() { heal(); }
  Env env() const { return {{"BACKEND_FAIL_FILE", path_.string()}}; }
  void fail(const std::string& how = "500") { std::ofstream(path_) << how; }
  void heal() { fs::remove(path_); }

 private:
  fs::path path_;
};

// `ferry proxy` with a config made from `body` (pools and routes) plus a
// listen and an admin address on free ports; `env` is added to its environment.
class Proxy {
 public:
  explicit Proxy(const std::string& body, const std::string& top = "", Env env = {})
      : env_(std::move(env)) {
    port_ = free_port();
    admin_port_ = free_port();
    config_ = scratch_dir() / ("proxy_" + std::to_string(port_) + ".yaml");
    write_config(body, top);
    start();
  }
  ~Proxy() {
    if (child_ && !child_->exited()) stop();
  }
  // SIGTERM and wait; returns how it ended (stderr has the log).
  Outcome stop() {
    child_->signal(SIGTERM);
    return child_->wait();
  }
  void signal(int sig) { child_->signal(sig); }
  // SIGKILL (no draining, no goodbye), then the same config on the same
  // ports again; returns how the killed one ended.
  Outcome kill_and_restart() {
    child_->kill_now();
    Outcome killed = child_->wait();
    start();
    return killed;
  }
  void write_config(const std::string& body, const std::string& top = "") {
    std::ofstream(config_.string() + ".tmp")
        << "listen: 127.0.0.1:" << port_ << "\nadmin: { listen: 127.0.0.1:" << admin_port_ << " }\n"
        << top << body;
    fs::rename(config_.string() + ".tmp", config_);  // one step, as editors save
  }
  int port() const { return port_; }
  int admin_port() const { return admin_port_; }
  const fs::path& config() const { return config_; }
  pid_t pid() const { return child_->pid(); }

  std::string get(const std::string& target, const std::string& headers = "") const {
    return round_trip(port_, "GET " + target + " HTTP/1.1\r\nHost: shop.example\r\n" + headers +
                                 "Connection: close\r\n\r\n");
  }
  std::string admin(const std::string& method, const std::string& path,
                    const std::string& body = "", const std::string& headers = "") const {
    return round_trip(admin_port_, method + " " + path + " HTTP/1.1\r\nHost: admin\r\n" + headers +
                                       "Content-Length: " + std::to_string(body.size()) +
                                       "\r\nConnection: close\r\n\r\n" + body);
  }

 private:
  void start() {
    child_ = std::make_unique<Child>(
        std::vector<std::string>{FERRY_BINARY, "proxy", "--config", config_.string()},
        output_prefix(), env_);
    const bool up = wait_for_port(port_) && wait_for_port(admin_port_);
    if (!up) ADD_FAILURE() << "ferry proxy did not start:\n" << child_->wait().err;
  }

  Env env_;
  int port_ = 0;
  int admin_port_ = 0;
  fs::path config_;
  std::unique_ptr<Child> child_;
};

// A top-level field of an http_backend.py echo, as its JSON text without
// quotes ("" when absent).
inline std::string json_field(const std::string& body, const std::string& name) {
  const std::regex re("\"" + name + "\": (\"([^\"]*)\"|[-0-9.]+)");
  std::smatch m;
  if (!std::regex_search(body, m, re)) return "";
  return m[2].matched ? m[2].str() : m[1].str();
}

// The "backend" field of an http_backend.py echo.
inline std::string backend_of(const std::string& response) {
  return json_field(body_of(response), "backend");
}

// The value of one series (name with its labels, as printed) in Prometheus
// text, or -1 when it is absent.
inline int64_t metric_value(const std::string& metrics, const std::string& series) {
  const std::string key = "\n" + series + " ";
  const size_t at = metrics.find(key);
  return at == std::string::npos ? -1 : std::stoll(metrics.substr(at + key.size()));
}

// The process's peak resident memory (VmHWM), in KiB.
inline long peak_rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

inline size_t open_fds(pid_t pid) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e :
       fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

// One pool `app` holding `b` (plus `pool_extra` settings) and one route to it.
inline std::string one_pool(const Backend& b, const std::string& pool_extra = "") {
  return "pools:\n  app: { endpoints: [" + b.address() + "]" + pool_extra +
         " }\nroutes: [ { name: all, to: app } ]\n";
}

}  // namespace proxytest
