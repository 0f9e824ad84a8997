#include "run/proxy_admin.h"

#include <fmt/format.h>

#include "core/json_writer.h"
#include "core/text.h"
#include "core/yaml.h"
#include "proxy/admin_client.h"

namespace ferry::run {

namespace {

constexpr int64_t kCallTimeoutMs = 5'000;

RouteWeights weights_of(const YamlNode* object) {
  RouteWeights out;
  if (!object || !object->is_mapping()) return out;
  for (size_t i = 0; i < object->size(); ++i) {
    out.emplace_back(object->key(i).scalar(), object->value(i).as_integer().value_or(0));
  }
  return out;
}

std::string text_of(const YamlNode& node, std::string_view key) {
  const YamlNode* v = node.find(key);
  return v ? v->scalar() : std::string();
}

int64_t integer_of(const YamlNode& node, std::string_view key) {
  const YamlNode* v = node.find(key);
  return v ? v->as_integer().value_or(0) : 0;
}

Result<YamlNode> parse_reply(const std::string& body, const std::string& what) {
  auto doc = parse_yaml(body, what);
  if (!doc) {
    return fail(ErrorCode::kIo, fmt::format("{}: the proxy's answer is not JSON: {}", what,
                                            std::string(trim(body)).substr(0, 200)));
  }
  return doc;
}

}  // namespace

RolloutView rollout_view(const YamlNode& doc) {
  RolloutView r;
  r.state = text_of(doc, "state");
  r.reason = text_of(doc, "reason");
  r.to = text_of(doc, "to");
  r.from = text_of(doc, "from");
  r.step = integer_of(doc, "step");
  r.steps = integer_of(doc, "steps");
  r.weights = weights_of(doc.find("weights"));
  r.starting_weights = weights_of(doc.find("starting_weights"));
  if (const YamlNode* verdicts = doc.find("verdicts"); verdicts && verdicts->size() > 0) {
    const YamlNode& v = (*verdicts)[0];  // newest first
    r.verdict = text_of(v, "verdict");
    r.verdict_reason = text_of(v, "reason");
    r.last_verdict = fmt::format(
        "step={} verdict={} reason={} requests_new={} requests_old={} error_rate_new={} "
        "error_rate_old={} p99_ms_new={} p99_ms_old={}",
        text_of(v, "step"), text_of(v, "verdict"), text_of(v, "reason"), text_of(v, "requests_new"),
        text_of(v, "requests_old"), text_of(v, "error_rate_new"), text_of(v, "error_rate_old"),
        text_of(v, "p99_ms_new"), text_of(v, "p99_ms_old"));
  }
  return r;
}

std::string weights_text(const RouteWeights& weights) {
  std::vector<std::string> parts;
  for (const auto& [pool, weight] : weights) parts.push_back(fmt::format("{}={}", pool, weight));
  return join(parts, " ");
}

std::string weights_json(const RouteWeights& weights) {
  JsonWriter w;
  w.begin_object();
  for (const auto& [pool, weight] : weights) w.field(pool, weight);
  w.end_object();
  return w.take();
}

Result<RouteWeights> parse_weights_json(std::string_view json) {
  auto doc = parse_yaml(json, "weights");
  if (!doc || !doc->is_mapping()) {
    return fail(ErrorCode::kInvalidInput, "weights: not a JSON object: " + std::string(json));
  }
  return weights_of(&*doc);
}

std::string HoldSummary::text() const {
  return fmt::format(
      "held={} released={} timed_out={} client_gone={} p50_ms={} p99_ms={} max_ms={} "
      "held_for_ms={}",
      held, released, timed_out, client_gone, p50_ms, p99_ms, max_ms, held_for_ms);
}

Result<ProxyAdmin> ProxyAdmin::open(const PlanProxy& proxy, std::string_view env_token) {
  auto address = proxy::parse_host_port(proxy.admin);
  if (!address || address->port == 0) {
    return fail(ErrorCode::kInvalidInput, "proxy.admin: '" + proxy.admin + "' is not HOST:PORT");
  }
  auto token = proxy::admin_token(proxy.token_file, env_token, "proxy.token_file");
  if (!token) return tl::unexpected(token.error());
  return ProxyAdmin(address->host.empty() ? "127.0.0.1" : address->host, address->port, proxy.admin,
                    *token);
}

Result<std::string> ProxyAdmin::call(const std::string& method, const std::string& target,
                                     const std::string& body, int expected_status,
                                     int* status) const {
  proxy::HostPort address;
  address.host = host_;
  address.port = port_;
  address.text = address_text_;
  auto reply = proxy::call_admin_api(address, {method, target, token_, body}, kCallTimeoutMs);
  if (!reply) {
    return fail(ErrorCode::kIo, fmt::format("{} {} on the proxy {}: {}", method, target,
                                            address_text_, reply.error().message));
  }
  if (status) *status = reply->status;
  if (reply->status != expected_status && !status) {
    return fail(ErrorCode::kIo, fmt::format("{} {} on the proxy {} answered {}: {}", method, target,
                                            address_text_, reply->status, trim(reply->body)));
  }
  return reply->body;
}

Result<RouteWeights> ProxyAdmin::weights(const std::string& route) const {
  auto body = call("GET", "/admin/state", "", 200);
  if (!body) return tl::unexpected(body.error());
  auto doc = parse_reply(*body, "/admin/state");
  if (!doc) return tl::unexpected(doc.error());
  if (const YamlNode* routes = doc->find("routes")) {
    for (size_t i = 0; i < routes->size(); ++i) {
      const YamlNode& r = (*routes)[i];
      if (text_of(r, "name") != route) continue;
      RouteWeights out;
      if (const YamlNode* pools = r.find("pools")) {
        for (size_t p = 0; p < pools->size(); ++p) {
          out.emplace_back(text_of((*pools)[p], "pool"), integer_of((*pools)[p], "weight"));
        }
      }
      return out;
    }
  }
  return fail(ErrorCode::kInvalidInput,
              fmt::format("the proxy {} has no route '{}'", address_text_, route));
}

Result<int64_t> ProxyAdmin::active_requests(const std::string& route) const {
  auto weights_now = weights(route);
  if (!weights_now) return tl::unexpected(weights_now.error());
  auto body = call("GET", "/admin/state", "", 200);
  if (!body) return tl::unexpected(body.error());
  auto doc = parse_reply(*body, "/admin/state");
  if (!doc) return tl::unexpected(doc.error());
  int64_t active = 0;
  if (const YamlNode* pools = doc->find("pools")) {
    for (size_t i = 0; i < pools->size(); ++i) {
      const YamlNode& pool = (*pools)[i];
      const std::string name = text_of(pool, "name");
      bool ours = false;
      for (const auto& [p, w] : *weights_now) ours = ours || p == name;
      const YamlNode* endpoints = pool.find("endpoints");
      if (!ours || !endpoints) continue;
      for (size_t e = 0; e < endpoints->size(); ++e) {
        active += integer_of((*endpoints)[e], "active_requests");
      }
    }
  }
  return active;
}

Result<void> ProxyAdmin::set_weights(const std::string& route, const RouteWeights& weights) const {
  auto body = call("PUT", "/admin/routes/" + route + "/weights", weights_json(weights), 200);
  if (!body) return tl::unexpected(body.error());
  return {};
}

Result<bool> ProxyAdmin::hold(const std::string& route, int64_t timeout_ms,
                              int64_t max_hold_ms) const {
  int status = 0;
  auto body =
      call("POST", "/admin/routes/" + route + "/hold",
           fmt::format(R"({{"timeout":"{}ms","max_hold":"{}ms"}})", timeout_ms, max_hold_ms), 200,
           &status);
  if (!body) return tl::unexpected(body.error());
  if (status == 409) return false;
  if (status != 200) {
    return fail(ErrorCode::kIo, fmt::format("POST /admin/routes/{}/hold on the proxy {} answered "
                                            "{}: {}",
                                            route, address_text_, status, trim(*body)));
  }
  return true;
}

Result<HoldSummary> ProxyAdmin::release(const std::string& route, bool* was_held) const {
  int status = 0;
  auto body = call("POST", "/admin/routes/" + route + "/release", "", 200, &status);
  if (!body) return tl::unexpected(body.error());
  if (was_held) *was_held = status == 200;
  if (status == 409) return HoldSummary{};  // not held: a release after a restart
  if (status != 200) {
    return fail(ErrorCode::kIo, fmt::format("POST /admin/routes/{}/release on the proxy {} "
                                            "answered {}: {}",
                                            route, address_text_, status, trim(*body)));
  }
  auto doc = parse_reply(*body, "release");
  if (!doc) return tl::unexpected(doc.error());
  HoldSummary s;
  s.held = integer_of(*doc, "held");
  s.released = integer_of(*doc, "released");
  s.timed_out = integer_of(*doc, "timed_out");
  s.client_gone = integer_of(*doc, "client_gone");
  s.p50_ms = integer_of(*doc, "p50");
  s.p99_ms = integer_of(*doc, "p99");
  s.max_ms = integer_of(*doc, "max");
  s.held_for_ms = integer_of(*doc, "held_for_ms");
  return s;
}

Result<RolloutView> ProxyAdmin::rollout(const std::string& route) const {
  auto body = call("GET", "/admin/rollouts/" + route, "", 200);
  if (!body) return tl::unexpected(body.error());
  auto doc = parse_reply(*body, "/admin/rollouts/" + route);
  if (!doc) return tl::unexpected(doc.error());
  return rollout_view(*doc);
}

Result<RolloutView> ProxyAdmin::rollout_action(const std::string& route,
                                               const std::string& action) const {
  auto body = call("POST", "/admin/rollouts/" + route + "/" + action, "", 200);
  if (!body) return tl::unexpected(body.error());
  auto doc = parse_reply(*body, action);
  if (!doc) return tl::unexpected(doc.error());
  return rollout_view(*doc);
}

Result<std::string> ProxyAdmin::metrics() const { return call("GET", "/metrics", "", 200); }

}  // namespace ferry::run
