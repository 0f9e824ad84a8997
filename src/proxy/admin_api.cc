#include "proxy/admin_api.h"

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <optional>

#include "core/json_writer.h"
#include "core/log.h"
#include "core/text.h"
#include "core/yaml.h"
#include "proxy/http_head.h"
#include "proxy/listen_socket.h"
#include "proxy/message_rewrite.h"

namespace ferry::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr size_t kMaxAdminRequest = 1024 * 1024;
constexpr auto kAdminTimeout = std::chrono::seconds(10);

AdminApi::Response json_error(int status, const std::string& message) {
  JsonWriter w;
  w.begin_object().field("error", message).end_object();
  return {status, "application/json", w.take()};
}

// {"legacy": 50, "modern": 50}: pool names to whole-number weights.
Result<std::vector<std::pair<std::string, int>>> parse_weights(std::string_view body) {
  auto doc = parse_yaml(body, "request body");
  if (!doc) return tl::unexpected(doc.error());
  if (!doc->is_mapping() || doc->size() == 0) {
    return fail(
        ErrorCode::kInvalidInput,
        "expected a JSON object of pool names to weights, like {\"legacy\":50,\"modern\":50}");
  }
  std::vector<std::pair<std::string, int>> weights;
  for (size_t i = 0; i < doc->size(); ++i) {
    const auto w = doc->value(i).as_integer();
    if (!w || *w < 0 || *w > 10'000) {
      return fail(
          ErrorCode::kInvalidInput,
          fmt::format("weight of '{}' must be a whole number 0..10000", doc->key(i).scalar()));
    }
    weights.emplace_back(doc->key(i).scalar(), static_cast<int>(*w));
  }
  return weights;
}

// /admin/routes/NAME/ACTION, split (the name may not be empty).
struct RouteCall {
  std::string route;
  std::string_view action;
};
std::optional<RouteCall> route_call(std::string_view path) {
  constexpr std::string_view kRoutes = "/admin/routes/";
  if (!path.starts_with(kRoutes)) return std::nullopt;
  const std::string_view rest = path.substr(kRoutes.size());
  const size_t slash = rest.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  return RouteCall{std::string(rest.substr(0, slash)), rest.substr(slash + 1)};
}

struct AdminSession : std::enable_shared_from_this<AdminSession> {
  AdminSession(tcp::socket s, AdminApi& a)
      : socket(std::move(s)), api(a), timer(socket.get_executor()) {}
  tcp::socket socket;
  AdminApi& api;
  asio::steady_timer timer;
  std::string in;
  std::string out;
  RequestHead head;

  void start() {
    timer.expires_after(kAdminTimeout);
    timer.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->socket.close();
    });
    read();
  }
  void read() {
    const size_t old = in.size();
    in.resize(old + 4096);
    socket.async_read_some(asio::buffer(in.data() + old, 4096),
                           [self = shared_from_this(), old](const error_code& ec, size_t n) {
                             self->in.resize(old + (ec ? 0 : n));
                             if (ec) return;
                             self->parse();
                           });
  }
  void parse() {
    const ParseResult r = parse_request_head(in, HeadLimits{}, head);
    if (r.state == ParseState::kIncomplete) {
      if (in.size() > kMaxAdminRequest) return respond({431, "application/json", "{}\n"});
      return read();
    }
    if (r.state == ParseState::kInvalid) {
      return respond(json_error(r.status, std::string(r.reason)));
    }
    const uint64_t length =
        head.framing.body == BodyFraming::kContentLength ? head.framing.content_length : 0;
    if (head.framing.body == BodyFraming::kChunked || length > kMaxAdminRequest) {
      return respond(json_error(413, "send the body with a Content-Length of at most 1 MiB"));
    }
    if (in.size() < head.head_bytes + length) return read();
    api.handle(
        head.method, head.path, head.header("authorization"),
        std::string_view(in).substr(head.head_bytes, length),
        [self = shared_from_this()](const AdminApi::Response& answer) { self->respond(answer); });
  }
  void respond(const AdminApi::Response& r) {
    out = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
        "Cache-Control: no-store\r\nConnection: close\r\n\r\n{}",
        r.status, reason_phrase(r.status), r.content_type, r.body.size(), r.body);
    asio::async_write(socket, asio::buffer(out),
                      [self = shared_from_this()](const error_code&, size_t) {
                        error_code ignored;
                        self->socket.shutdown(tcp::socket::shutdown_both, ignored);
                        self->socket.close(ignored);
                        self->timer.cancel();
                      });
  }
};

}  // namespace

AdminApi::AdminApi(asio::io_context& io, ProxyState& state, std::string token, ReloadFn reload,
                   RolloutController* rollouts, HoldController* holds)
    : acceptor_(io),
      state_(state),
      token_(std::move(token)),
      reload_(std::move(reload)),
      rollouts_(rollouts),
      holds_(holds) {}

Result<void> AdminApi::listen(const HostPort& address) {
  auto listener = open_listener(address, "127.0.0.1", "admin.listen", false);
  if (!listener) return tl::unexpected(listener.error());
  error_code ec;
  acceptor_.assign(listener->ipv6 ? tcp::v6() : tcp::v4(), listener->fd.get(), ec);
  if (ec) {
    return fail(ErrorCode::kIo, fmt::format("admin.listen on {}: {}", address.text, ec.message()));
  }
  listener->fd.release();
  accept();
  return {};
}

uint16_t AdminApi::bound_port() const {
  error_code ec;
  return acceptor_.local_endpoint(ec).port();
}

void AdminApi::close() {
  error_code ignored;
  acceptor_.close(ignored);
}

void AdminApi::accept() {
  acceptor_.async_accept([this](const error_code& ec, tcp::socket socket) {
    if (!acceptor_.is_open()) return;
    if (!ec) std::make_shared<AdminSession>(std::move(socket), *this)->start();
    accept();
  });
}

bool AdminApi::authorized(std::string_view authorization) const {
  constexpr std::string_view kBearer = "Bearer ";
  return token_.empty() || (authorization.starts_with(kBearer) &&
                            same_secret(authorization.substr(kBearer.size()), token_));
}

void AdminApi::handle(std::string_view method, std::string_view path,
                      std::string_view authorization, std::string_view body,
                      const Respond& respond) {
  const auto call = route_call(path);
  if (holds_ && call && call->action == "release" && method == "POST" &&
      authorized(authorization)) {
    holds_->release(call->route, [respond](tl::expected<std::string, HoldController::HoldError> r) {
      respond(r ? Response{200, "application/json", *r}
                : json_error(r.error().status, r.error().message));
    });
    return;
  }
  respond(answer(method, path, authorization, body));
}

AdminApi::Response AdminApi::answer(std::string_view method, std::string_view path,
                                    std::string_view authorization, std::string_view body) {
  // Probes carry no token (a kubelet cannot be given one); they say nothing
  // the token protects.
  if (path == "/healthz") {
    if (method != "GET" && method != "HEAD") return json_error(405, "use GET");
    return {200, "text/plain", "ok\n"};
  }
  if (path == "/readyz") {
    if (method != "GET" && method != "HEAD") return json_error(405, "use GET");
    const auto without = state_.pools_without_available_endpoint();
    JsonWriter w;
    w.begin_object()
        .field("ready", without.empty())
        .field("pools_without_an_available_endpoint", without);
    w.end_object();
    return {without.empty() ? 200 : 503, "application/json", w.take()};
  }
  if (!authorized(authorization)) {
    return json_error(401, "missing or wrong token (send Authorization: Bearer TOKEN)");
  }
  if (path == "/admin/state") {
    if (method != "GET") return json_error(405, "use GET");
    return {200, "application/json", state_.render_state_json()};
  }
  if (path == "/metrics") {
    if (method != "GET") return json_error(405, "use GET");
    return {200, "text/plain; version=0.0.4",
            state_.render_metrics() + (rollouts_ ? rollouts_->render_metrics() : "") +
                (holds_ ? holds_->render_metrics() : "")};
  }
  if (path == "/admin/reload") {
    if (method != "POST") return json_error(405, "use POST");
    auto summary = reload_();
    if (!summary) return json_error(400, summary.error().to_string());
    JsonWriter w;
    w.begin_object().field("reloaded", true).field("summary", *summary).end_object();
    return {200, "application/json", w.take()};
  }
  constexpr std::string_view kRollouts = "/admin/rollouts";
  if (rollouts_ && path == kRollouts) {
    if (method != "GET") return json_error(405, "use GET");
    return {200, "application/json", rollouts_->render_json()};
  }
  if (rollouts_ && path.starts_with(std::string(kRollouts) + "/")) {
    // /admin/rollouts/NAME or /admin/rollouts/NAME/ACTION
    const std::string_view rest = path.substr(kRollouts.size() + 1);
    const size_t slash = rest.find('/');
    if (slash == std::string_view::npos && !rest.empty()) {
      if (method != "GET") return json_error(405, "use GET");
      auto one = rollouts_->render_json(std::string(rest));
      if (!one) return json_error(one.error().status, one.error().message);
      return {200, "application/json", *one};
    }
    if (slash == std::string_view::npos || slash == 0) {
      return json_error(404,
                        "use GET /admin/rollouts/NAME or POST /admin/rollouts/NAME/ACTION "
                        "(start, pause, resume, promote, abort)");
    }
    if (method != "POST") return json_error(405, "use POST");
    const std::string route(rest.substr(0, slash));
    auto done = rollouts_->act(route, rest.substr(slash + 1));
    if (!done) return json_error(done.error().status, done.error().message);
    return {200, "application/json", *done};
  }
  constexpr std::string_view kDiff = "/admin/diff";
  if (path == kDiff) {
    if (method != "GET") return json_error(405, "use GET (DELETE /admin/diff/ROUTE resets one)");
    return {200, "application/json", state_.render_diff_json()};
  }
  if (path.starts_with(std::string(kDiff) + "/")) {
    if (method != "DELETE") return json_error(405, "use DELETE");
    const std::string route(path.substr(kDiff.size() + 1));
    if (!state_.reset_diff(route)) {
      return json_error(404, fmt::format("route '{}' has no mirror", route));
    }
    log_info(fmt::format("proxy: event=diff_reset route={}", route));
    JsonWriter w;
    w.begin_object().field("route", route).field("reset", true).end_object();
    return {200, "application/json", w.take()};
  }
  const auto call = route_call(path);
  if (holds_ && call && call->action == "hold") {
    if (method != "POST") return json_error(405, "use POST");
    auto held = holds_->hold(call->route, body);
    if (!held) return json_error(held.error().status, held.error().message);
    return {200, "application/json", *held};
  }
  if (holds_ && call && call->action == "release") {
    return json_error(405, "use POST");  // a POST is answered by handle()
  }
  if (call && call->action == "weights") {
    if (method != "PUT") return json_error(405, "use PUT");
    const std::string& route = call->route;
    auto weights = parse_weights(body);
    if (!weights) return json_error(400, weights.error().to_string());
    if (auto ok = state_.set_weights(route, *weights); !ok) {
      const bool unknown = ok.error().message.rfind("no route named", 0) == 0;
      return json_error(unknown ? 404 : 400, ok.error().message);
    }
    std::string text;
    for (const auto& [pool, weight] : *weights) text += fmt::format(" {}={}", pool, weight);
    log_info(fmt::format("proxy: event=weights_changed route={}{}", route, text));
    JsonWriter w;
    w.begin_object().field("route", route).key("weights").begin_object();
    for (const auto& [pool, weight] : *weights) w.field(pool, weight);
    w.end_object().end_object();
    return {200, "application/json", w.take()};
  }
  return json_error(404,
                    "unknown path; try GET /admin/state, PUT /admin/routes/NAME/weights, "
                    "POST /admin/routes/NAME/hold, POST /admin/routes/NAME/release, "
                    "GET /admin/rollouts, POST /admin/rollouts/NAME/ACTION, GET /admin/diff, "
                    "POST /admin/reload, GET /metrics, GET /healthz or GET /readyz");
}

}  // namespace ferry::proxy
