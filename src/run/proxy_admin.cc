#include "run/proxy_admin.h"

#include <fmt/format.h>

#include <algorithm>

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
  r.state = doc.text_at("state");
  r.reason = doc.text_at("reason");
  r.to = doc.text_at("to");
  r.from = doc.text_at("from");
  r.step = doc.integer_at("step");
  r.steps = doc.integer_at("steps");
  r.weights = weights_of(doc.find("weights"));
  r.starting_weights = weights_of(doc.find("starting_weights"));
  if (const YamlNode* verdicts = doc.find("verdicts"); verdicts && verdicts->size() > 0) {
    const YamlNode& v = (*verdicts)[0];  // newest first
    r.verdict = v.text_at("verdict");
    r.verdict_reason = v.text_at("reason");
    r.last_verdict = fmt::format(
        "step={} verdict={} reason={} requests_new={} requests_old={} error_rate_new={} "
        "error_rate_old={} p99_ms_new={} p99_ms_old={}",
        v.text_at("step"), v.text_at("verdict"), v.text_at("reason"), v.text_at("requests_new"),
        v.text_at("requests_old"), v.text_at("error_rate_new"), v.text_at("error_rate_old"),
        v.text_at("p99_ms_new"), v.text_at("p99_ms_old"));
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

Result<YamlNode> ProxyAdmin::state() const {
  auto body = call("GET", "/admin/state", "", 200);
  if (!body) return tl::unexpected(body.error());
  return parse_reply(*body, "/admin/state");
}

Result<RouteWeights> ProxyAdmin::weights_in(const YamlNode& state, const std::string& route) const {
  if (const YamlNode* routes = state.find("routes")) {
    for (size_t i = 0; i < routes->size(); ++i) {
      const YamlNode& r = (*routes)[i];
      if (r.text_at("name") != route) continue;
      RouteWeights out;
      if (const YamlNode* pools = r.find("pools")) {
        for (size_t p = 0; p < pools->size(); ++p) {
          out.emplace_back((*pools)[p].text_at("pool"), (*pools)[p].integer_at("weight"));
        }
      }
      return out;
    }
  }
  return fail(ErrorCode::kInvalidInput,
              fmt::format("the proxy {} has no route '{}'", address_text_, route));
}

Result<RouteWeights> ProxyAdmin::weights(const std::string& route) const {
  auto doc = state();
  if (!doc) return tl::unexpected(doc.error());
  return weights_in(*doc, route);
}

Result<int64_t> ProxyAdmin::active_requests(const std::string& route) const {
  auto doc = state();
  if (!doc) return tl::unexpected(doc.error());
  auto route_pools = weights_in(*doc, route);
  if (!route_pools) return tl::unexpected(route_pools.error());
  int64_t active = 0;
  if (const YamlNode* pools = doc->find("pools")) {
    for (size_t i = 0; i < pools->size(); ++i) {
      const YamlNode& pool = (*pools)[i];
      const std::string name = pool.text_at("name");
      const bool ours = std::any_of(route_pools->begin(), route_pools->end(),
                                    [&](const auto& pw) { return pw.first == name; });
      const YamlNode* endpoints = pool.find("endpoints");
      if (!ours || !endpoints) continue;
      for (size_t e = 0; e < endpoints->size(); ++e) {
        active += (*endpoints)[e].integer_at("active_requests");
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
  s.held = doc->integer_at("held");
  s.released = doc->integer_at("released");
  s.timed_out = doc->integer_at("timed_out");
  s.client_gone = doc->integer_at("client_gone");
  s.p50_ms = doc->integer_at("p50");
  s.p99_ms = doc->integer_at("p99");
  s.max_ms = doc->integer_at("max");
  s.held_for_ms = doc->integer_at("held_for_ms");
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
