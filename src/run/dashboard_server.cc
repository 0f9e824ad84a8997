#include "run/dashboard_server.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "core/json_writer.h"
#include "core/log.h"
#include "core/text.h"
#include "core/yaml.h"
#include "proxy/admin_client.h"
#include "proxy/message_rewrite.h"
#include "run/dashboard_access.h"
#include "run/dashboard_proxy.h"
#include "run/dashboard_snapshot.h"
#include "run/run_journal.h"

// src/run/dashboard.html, built in (cmake/FerryEmbed.cmake).
extern const std::string_view ferry_dashboard_page;

namespace ferry::run {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr auto kIdle = std::chrono::seconds(30);       // a kept-alive connection between requests
constexpr auto kHeartbeat = std::chrono::seconds(15);  // keeps event streams through idle timeouts
constexpr size_t kMaxBody = 4096;
// Events waiting for a client that does not read; past this it is dropped
// (its EventSource reconnects and gets the latest snapshot).
constexpr size_t kMaxQueuedEvents = 32;

// The page may run only its own inline code and talk only to this server;
// no other site may frame it (its buttons abort migrations).
constexpr std::string_view kPageHeaders =
    "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; style-src "
    "'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n";

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

std::string response(int status, std::string_view type, std::string_view body, bool keep_alive,
                     std::string_view extra_headers = "") {
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n"
      "X-Content-Type-Options: nosniff\r\n{}Connection: {}\r\n\r\n{}",
      status, proxy::reason_phrase(status), type, body.size(), extra_headers,
      keep_alive ? "keep-alive" : "close", body);
}

std::string json_error(const std::string& message) {
  JsonWriter w;
  w.begin_object().field("error", message).end_object();
  return w.take();
}

// One server-sent event; each line of `data` in a data: field of its own
// (the client joins them with newlines).
std::string sse_event(std::string_view name, std::string_view data) {
  std::string out = fmt::format("event: {}\n", name);
  while (!data.empty()) {
    const size_t end = data.find('\n');
    out += fmt::format("data: {}\n", data.substr(0, end));
    data.remove_prefix(end == std::string_view::npos ? data.size() : end + 1);
  }
  return out + "\n";
}

std::optional<RunCommand> command_of(std::string_view path) {
  for (RunCommand c :
       {RunCommand::kApprove, RunCommand::kPause, RunCommand::kResume, RunCommand::kAbort}) {
    if (path == fmt::format("/api/{}", run_command_name(c))) return c;
  }
  return std::nullopt;
}

// Who gives a command: the body's {"who": NAME}, or "dashboard".
Result<std::string> who_of(std::string_view body) {
  if (trim(body).empty()) return std::string("dashboard");
  auto doc = parse_yaml(body, "request body");
  if (!doc || !doc->is_mapping()) {
    return fail(ErrorCode::kInvalidInput, "the body must be JSON like {\"who\": \"alice\"}");
  }
  const YamlNode* who = doc->find("who");
  if (!who) return std::string("dashboard");
  const std::string name(trim(who->is_scalar() ? who->scalar() : ""));
  const bool printable = std::all_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  });
  if (name.empty() || name.size() > 64 || !printable) {
    return fail(ErrorCode::kInvalidInput,
                "who: a name of 1 to 64 printable characters, for the journal");
  }
  return name;
}

class Session;

}  // namespace

struct DashboardServer::Impl {
  Impl(const Plan& p, DashboardOptions o, RunJournal j, std::optional<ProxyWatch> watch)
      : plan(p), options(std::move(o)), journal(std::move(j)), proxy(std::move(watch)) {}

  std::string gather();
  void poll_loop();
  void accept();
  void broadcast(const std::string& bytes);
  void beat();
  void stop();

  const Plan plan;
  const DashboardOptions options;
  std::string url;

  // The journal: read by the poll thread, written (queued commands) by the HTTP thread.
  std::mutex journal_mutex;
  RunJournal journal;
  std::optional<ProxyWatch> proxy;  // the poll thread's

  std::mutex mutex;  // guards what follows
  std::condition_variable wake;
  bool stopping = false;
  bool poll_soon = false;  // a command was queued: show it now
  std::string snapshot;

  // The HTTP thread's.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor{io};
  asio::steady_timer heartbeat{io};
  std::vector<std::weak_ptr<Session>> streams;

  std::thread io_thread, poll_thread;
};

namespace {

// One client connection: requests one after another (keep-alive), or, after
// GET /events, an event stream the server writes to until it closes.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, DashboardServer::Impl& server)
      : stream_(std::move(socket)), server_(server) {}

  void start() { read(); }

  void send(std::string bytes) {
    if (closed_) return;
    if (events_ && out_.size() >= kMaxQueuedEvents) return close();
    out_.push_back(std::move(bytes));
    if (out_.size() == 1) write_next();
  }

  bool closed() const { return closed_; }

  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kMaxBody);
    stream_.expires_after(kIdle);
    http::async_read(
        stream_, buffer_, *parser_, [self = shared_from_this()](const error_code& ec, size_t) {
          if (ec == http::error::body_limit) {
            self->close_after_ = true;
            return self->send(response(413, "application/json",
                                       json_error("a command's body is at most 4 KiB"), false));
          }
          if (ec) return self->close();
          self->answer();
        });
  }

  void write_next() {
    if (!events_) stream_.expires_after(kIdle);
    asio::async_write(stream_, asio::buffer(out_.front()),
                      [self = shared_from_this()](const error_code& ec, size_t) {
                        if (ec) return self->close();
                        self->out_.pop_front();
                        if (!self->out_.empty()) return self->write_next();
                        if (self->close_after_) return self->close();
                        if (!self->events_) self->read();
                      });
  }

  // An event stream reads nothing more, but keeps a read pending: it holds
  // the session while the client is there and ends it when the client goes.
  void watch_for_close() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](const error_code& ec, size_t) {
                              if (ec) return self->close();
                              self->watch_for_close();
                            });
  }

  void answer();
  void answer_command(RunCommand command, std::string_view body);

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  DashboardServer::Impl& server_;
  std::deque<std::string> out_;
  std::array<char, 512> discard_{};
  bool events_ = false;       // an event stream: written to, never read again
  bool close_after_ = false;  // once what is queued is written
  bool closed_ = false;
};

void Session::answer() {
  const auto& req = parser_->get();
  const std::string_view target = view(req.target());
  const size_t q = target.find('?');
  const DashboardRequest r{view(req.method_string()),
                           target.substr(0, q),
                           q == std::string_view::npos ? "" : target.substr(q + 1),
                           view(req[http::field::authorization]),
                           view(req[http::field::host]),
                           view(req[http::field::origin]),
                           view(req["X-Ferry"])};
  const bool keep_alive = req.keep_alive();
  close_after_ = !keep_alive && r.path != "/events";  // an event stream stays open regardless
  const auto reply = [&](int status, std::string_view type, std::string_view body,
                         std::string_view headers = "") {
    send(response(status, type, body, keep_alive, headers));
  };
  const AccessDecision access = decide_access(r, server_.options.token);
  if (!access.allowed())
    return reply(access.status, "application/json", json_error(access.message));
  const bool get = r.method == "GET";
  if (r.path == "/" && get) {
    return reply(200, "text/html; charset=utf-8", ferry_dashboard_page, kPageHeaders);
  }
  if (r.path == "/api/status" && get) {
    std::lock_guard lock(server_.mutex);
    return reply(200, "application/json", server_.snapshot);
  }
  if (r.path == "/events" && get) {
    events_ = true;
    stream_.expires_never();
    std::string first =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\nretry: 2000\n\n";
    {
      std::lock_guard lock(server_.mutex);
      first += sse_event("snapshot", server_.snapshot);
    }
    server_.streams.push_back(weak_from_this());
    send(std::move(first));
    return watch_for_close();
  }
  if (const auto command = command_of(r.path)) {
    if (r.method != "POST") return reply(405, "application/json", json_error("use POST"));
    return answer_command(*command, req.body());
  }
  if (r.path == "/" || r.path == "/api/status" || r.path == "/events") {
    return reply(405, "application/json", json_error("use GET"));
  }
  reply(404, "application/json",
        json_error("unknown path; the dashboard serves GET /, GET /events, GET /api/status and "
                   "POST /api/approve, /api/pause, /api/resume, /api/abort"));
}

void Session::answer_command(RunCommand command, std::string_view body) {
  const bool keep_alive = !close_after_;
  auto who = who_of(body);
  if (!who) {
    return send(response(400, "application/json", json_error(who.error().message), keep_alive));
  }
  Result<void> queued;
  {
    std::lock_guard lock(server_.journal_mutex);
    queued = server_.journal.queue_command(command, *who);
  }
  if (!queued) {
    log_error(fmt::format("run: dashboard could not queue {}: {}", run_command_name(command),
                          queued.error().to_string()));
    return send(
        response(500, "application/json", json_error(queued.error().to_string()), keep_alive));
  }
  log_info(fmt::format("run: event=dashboard_command plan={} command={} who={}", server_.plan.name,
                       run_command_name(command), log_value(*who)));
  {
    std::lock_guard lock(server_.mutex);
    server_.poll_soon = true;
  }
  server_.wake.notify_all();
  JsonWriter w;
  w.begin_object().field("queued", run_command_name(command)).field("who", *who);
  w.field("plan", server_.plan.name).end_object();
  send(response(200, "application/json", w.take(), keep_alive));
}

}  // namespace

std::string DashboardServer::Impl::gather() {
  const auto databases = read_replication(plan);
  std::optional<ProxyReading> reading;
  if (proxy) reading = proxy->read();
  std::lock_guard lock(journal_mutex);
  return render_dashboard_snapshot(plan, journal, databases, reading);
}

void DashboardServer::Impl::poll_loop() {
  std::unique_lock lock(mutex);
  while (!stopping) {
    wake.wait_for(lock, std::chrono::milliseconds(options.poll_ms),
                  [this] { return stopping || poll_soon; });
    if (stopping) break;
    poll_soon = false;
    lock.unlock();
    std::string next = gather();
    lock.lock();
    if (next == snapshot) continue;
    snapshot = next;
    asio::post(io, [this, event = sse_event("snapshot", next)] { broadcast(event); });
  }
}

void DashboardServer::Impl::accept() {
  acceptor.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) std::make_shared<Session>(std::move(socket), *this)->start();
    accept();
  });
}

void DashboardServer::Impl::broadcast(const std::string& bytes) {
  std::erase_if(streams, [&](const std::weak_ptr<Session>& weak) {
    const auto session = weak.lock();
    if (!session || session->closed()) return true;
    session->send(bytes);
    return false;
  });
}

void DashboardServer::Impl::beat() {
  heartbeat.expires_after(kHeartbeat);
  heartbeat.async_wait([this](const error_code& ec) {
    if (ec) return;
    broadcast(": keep-alive\n\n");
    beat();
  });
}

void DashboardServer::Impl::stop() {
  {
    std::lock_guard lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  if (poll_thread.joinable()) poll_thread.join();
  // Pending handlers (and the sessions they hold) go with the io_context.
  io.stop();
  if (io_thread.joinable()) io_thread.join();
}

DashboardServer::DashboardServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DashboardServer::~DashboardServer() { impl_->stop(); }

const std::string& DashboardServer::url() const { return impl_->url; }

Result<std::unique_ptr<DashboardServer>> DashboardServer::start(const Plan& plan,
                                                                DashboardOptions options) {
  const auto address = proxy::parse_host_port(options.listen);
  if (!address) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("dashboard address '{}' is not HOST:PORT (example: 127.0.0.1:8088)",
                            options.listen));
  }
  // An empty host is every interface, as elsewhere in ferry.
  const std::string host = address->host.empty() ? "0.0.0.0" : address->host;
  asio::io_context resolving;
  tcp::resolver resolver(resolving);
  error_code ec;
  const auto found = resolver.resolve(host, std::to_string(address->port), ec);
  if (ec || found.empty()) {
    return fail(ErrorCode::kInvalidInput,
                fmt::format("dashboard address {}: cannot resolve '{}': {}", options.listen, host,
                            ec ? ec.message() : "no address"));
  }
  const bool loopback = std::all_of(found.begin(), found.end(), [](const auto& entry) {
    return entry.endpoint().address().is_loopback();
  });
  if (auto ok = check_listen_access(options.listen, loopback, options.token); !ok) {
    return tl::unexpected(ok.error());
  }
  auto journal = RunJournal::open_existing(plan);
  if (!journal) return tl::unexpected(journal.error());
  std::optional<ProxyWatch> watch;
  if (plan.proxy) {
    auto token =
        proxy::admin_token(plan.proxy->token_file, options.env_admin_token, "proxy.token_file");
    if (!token) return tl::unexpected(token.error());
    watch.emplace(*plan.proxy, *token, plan_routes(plan));
  }
  // Polling faster than this only costs: nothing a person reads changes quicker.
  options.poll_ms = std::max<int64_t>(options.poll_ms, 100);
  auto impl =
      std::make_unique<Impl>(plan, std::move(options), std::move(*journal), std::move(watch));
  const tcp::endpoint endpoint = found.begin()->endpoint();
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return fail(ErrorCode::kIo, fmt::format("dashboard address {}: cannot listen: {}",
                                            impl->options.listen, ec.message()));
  }
  const tcp::endpoint bound = impl->acceptor.local_endpoint(ec);
  const std::string shown = bound.address().to_string();
  impl->url = bound.address().is_v6() ? fmt::format("http://[{}]:{}/", shown, bound.port())
                                      : fmt::format("http://{}:{}/", shown, bound.port());
  // The first snapshot before the first request: /api/status never answers empty.
  impl->snapshot = impl->gather();
  Impl* raw = impl.get();
  raw->accept();
  raw->beat();
  raw->io_thread = std::thread([raw] { raw->io.run(); });
  raw->poll_thread = std::thread([raw] { raw->poll_loop(); });
  return std::unique_ptr<DashboardServer>(new DashboardServer(std::move(impl)));
}

}  // namespace ferry::run
