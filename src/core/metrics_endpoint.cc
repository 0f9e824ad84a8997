#include "core/metrics_endpoint.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "core/text.h"

namespace ferry {

std::string prometheus_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

struct MetricsEndpoint::State {
  int listen_fd = -1;
  std::atomic<bool> stop{false};
  std::function<std::string()> render;
  std::function<MetricsEndpoint::Readiness()> ready;
  std::thread thread;
};

namespace {

bool is_get(const std::string& request, std::string_view path) {
  const std::string line = "GET " + std::string(path);
  return request.starts_with(line + " ") || request.starts_with(line + "?");
}

void answer(int fd, const MetricsEndpoint::State& state) {
  // The request line is all that matters; read until the headers end.
  std::string request;
  char buf[1024];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 8192) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0) return;
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return;
    request.append(buf, static_cast<size_t>(n));
  }
  std::string status = "200 OK", type = "text/plain", body;
  if (is_get(request, "/metrics")) {
    type = "text/plain; version=0.0.4";
    body = state.render();
  } else if (is_get(request, "/healthz")) {
    body = "ok\n";
  } else if (is_get(request, "/readyz")) {
    const auto r =
        state.ready ? state.ready() : MetricsEndpoint::Readiness{true, "{\"ready\": true}"};
    if (!r.ready) status = "503 Service Unavailable";
    type = "application/json";
    body = r.json + "\n";
  } else {
    status = "404 Not Found";
    body = "not found: ferry serves /metrics, /healthz and /readyz\n";
  }
  const std::string response = fmt::format(
      "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      status, type, body.size(), body);
  size_t sent = 0;
  while (sent < response.size()) {
    const ssize_t n = write(fd, response.data() + sent, response.size() - sent);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

}  // namespace

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::start(const std::string& address,
                                                                std::function<std::string()> render,
                                                                std::function<Readiness()> ready) {
  const auto colon = address.rfind(':');
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  const std::string port_text = colon == std::string::npos ? address : address.substr(colon + 1);
  if (host.empty()) host = "127.0.0.1";
  const auto port = parse_double(port_text);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (!port || *port < 0 || *port > 65535 || *port != static_cast<int>(*port) ||
      inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1)
    return fail(ErrorCode::kInvalidInput,
                fmt::format("--metrics-addr: '{}' is not an IPv4 host:port (example: "
                            "127.0.0.1:9187)",
                            address));
  sa.sin_port = htons(static_cast<uint16_t>(*port));
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  e->state_ = std::make_unique<State>();
  e->state_->render = std::move(render);
  e->state_->ready = std::move(ready);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  e->state_->listen_fd = fd;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 16) != 0)
    return fail(ErrorCode::kIo,
                fmt::format("--metrics-addr {}: cannot listen: {}", address, std::strerror(errno)));
  socklen_t len = sizeof sa;
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  e->bound_ = fmt::format("{}:{}", host, ntohs(sa.sin_port));
  MetricsEndpoint* raw = e.get();
  e->state_->thread = std::thread([raw] { raw->serve(); });
  return e;
}

void MetricsEndpoint::serve() {
  while (!state_->stop) {
    pollfd p{state_->listen_fd, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    const int client = accept4(state_->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    answer(client, *state_);
    close(client);
  }
}

MetricsEndpoint::~MetricsEndpoint() {
  if (!state_) return;
  state_->stop = true;
  if (state_->thread.joinable()) state_->thread.join();
  if (state_->listen_fd >= 0) close(state_->listen_fd);
}

}  // namespace ferry
