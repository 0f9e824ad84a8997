#include "proxy/proxy_config.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <set>

#include "core/files.h"
#include "core/text.h"
#include "core/yaml_reader.h"

namespace ferry::proxy {

namespace {

const std::vector<std::string> kBalances{"round_robin", "least_requests"};

// A listen address without a host binds the admin API to 127.0.0.1.
bool is_loopback(const std::string& host) {
  return host.empty() || host == "::1" || host.rfind("127.", 0) == 0;
}

bool is_ip_literal(const std::string& host) {
  in6_addr scratch{};
  return inet_pton(AF_INET, host.c_str(), &scratch) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &scratch) == 1;
}

// Reads everything of one config file into `config`, recording problems in `d`.
class ConfigReader {
 public:
  ConfigReader(const std::string& file, const ProxySecrets& secrets, Diagnostics& d)
      : file_(file), secrets_(secrets), d_(d) {}

  void read(const YamlNode& root, ProxyConfig& c) {
    MappingReader r(root, file_, "", d_);
    if (!r.valid()) return;
    r.require("listen");
    if (auto listen = r.text("listen")) c.listen = listen_address(r, "listen", *listen);
    if (auto threads = r.integer("threads", 1, 64)) c.threads = static_cast<int>(*threads);
    if (const YamlNode* admin = r.node("admin"); admin && !admin->is_null())
      read_admin(*admin, c.admin);
    if (const YamlNode* limits = r.node("limits"); limits && !limits->is_null())
      read_limits(*limits, c);
    if (const YamlNode* t = r.node("timeouts"); t && !t->is_null()) read_timeouts(*t, c.timeouts);
    if (auto log = r.text("access_log")) c.access_log = *log;
    if (auto dir = r.text("state_dir")) {
      c.state_dir = *dir;
      if (c.state_dir.empty()) {
        d_.error(r.where("state_dir"),
                 "state_dir: names the directory for rollout state; "
                 "leave it out to keep that state in memory only");
      }
    }
    r.require("pools");
    if (const YamlNode* pools = r.node("pools"); pools && !pools->is_null()) {
      read_pools(*pools, r.where("pools"), c.pools);
    }
    r.require("routes");
    if (const YamlNode* routes = r.node("routes"); routes && !routes->is_null()) {
      read_routes(*routes, r.where("routes"), c);
    }
    r.finish();
    check_breaker_fallbacks(c);
    check_unreachable_routes(c);
    check_rollout_state(c);
  }

 private:
  // Where to bind: an IP, not a name (binding does not resolve, and --check
  // must refuse what the start would).
  HostPort listen_address(MappingReader& r, std::string_view key, const std::string& text) {
    auto hp = parse_host_port(text);
    if (!hp || (!hp->host.empty() && !is_ip_literal(hp->host))) {
      d_.error(r.where(key),
               fmt::format("{}: '{}' is not IP:port, [IPv6]:port or :port", r.field(key), text));
      return {};
    }
    return *hp;
  }

  std::optional<int64_t> duration(MappingReader& r, std::string_view key, int64_t min_ms) {
    return at_least(r, key, min_ms, parse_duration_ms, "a duration", "ms", "250ms, 2s, 1m");
  }

  std::optional<int64_t> byte_size(MappingReader& r, std::string_view key, int64_t min) {
    return at_least(r, key, min, parse_byte_size, "a size", "bytes", "8KiB, 64KiB, 100MiB");
  }

  // A value in the units `parse` reads, no smaller than `min`.
  std::optional<int64_t> at_least(MappingReader& r, std::string_view key, int64_t min,
                                  std::optional<int64_t> (*parse)(std::string_view),
                                  std::string_view kind, std::string_view unit,
                                  std::string_view examples) {
    auto text = r.text(key);
    if (!text) return std::nullopt;
    auto value = parse(*text);
    if (!value || *value < min) {
      d_.error(r.where(key), fmt::format("{}: '{}' is not {} of at least {} {} (examples: {})",
                                         r.field(key), *text, kind, min, unit, examples));
      return std::nullopt;
    }
    return value;
  }

  void read_admin(const YamlNode& node, AdminConfig& a) {
    MappingReader r(node, file_, "admin", d_);
    if (auto listen = r.text("listen")) {
      HostPort hp = listen_address(r, "listen", *listen);
      if (hp.port != 0 || !hp.text.empty()) a.listen = hp;
    }
    if (auto token = r.text("token")) {
      a.token = *token;
      if (!secrets_.admin_token.empty())
        d_.error(
            r.where("token"),
            "admin.token: the environment gives one too (FERRY_ADMIN_TOKEN); keep one of them");
    } else {
      a.token = secrets_.admin_token;
    }
    if (a.listen && !is_loopback(a.listen->host) && a.token.empty()) {
      d_.error(r.where("listen"), fmt::format("admin.listen: '{}' is not a loopback address, so "
                                              "admin.token (or FERRY_ADMIN_TOKEN) is required "
                                              "(anyone who can reach it could move traffic)",
                                              a.listen->text));
    }
    r.finish();
  }

  void read_limits(const YamlNode& node, ProxyConfig& c) {
    MappingReader r(node, file_, "limits", d_);
    if (auto v = byte_size(r, "head_bytes", 1024))
      c.limits.max_head_bytes = static_cast<size_t>(*v);
    if (auto v = r.integer("headers", 1, 10'000)) c.limits.max_headers = static_cast<size_t>(*v);
    if (auto v = byte_size(r, "uri_bytes", 64)) c.limits.max_target_bytes = static_cast<size_t>(*v);
    if (auto v = byte_size(r, "body_bytes", 0)) c.max_body_bytes = *v;
    r.finish();
  }

  void read_timeouts(const YamlNode& node, TimeoutConfig& t) {
    MappingReader r(node, file_, "timeouts", d_);
    if (auto v = duration(r, "client_head", 1)) t.client_head_ms = *v;
    if (auto v = duration(r, "client_idle", 1)) t.client_idle_ms = *v;
    if (auto v = duration(r, "client_body", 1)) t.client_body_ms = *v;
    if (auto v = duration(r, "client_send", 1)) t.client_send_ms = *v;
    r.finish();
  }

  void read_pools(const YamlNode& node, SourceLocation where, std::vector<PoolConfig>& pools) {
    if (!node.is_mapping()) {
      d_.error(where, "pools: expected a mapping of pool names to pools");
      return;
    }
    for (size_t i = 0; i < node.size(); ++i) {
      const YamlNode& key = node.key(i);
      PoolConfig p;
      p.name = key.scalar();
      p.where = location_of(key, file_);
      if (!is_config_name(p.name)) {
        d_.error(p.where, fmt::format("pools: '{}' is not a pool name (letters, digits, '_', '-', "
                                      "'.'; at most 64)",
                                      p.name));
      }
      read_pool(node.value(i), p);
      pools.push_back(std::move(p));
    }
  }

  void read_pool(const YamlNode& node, PoolConfig& p) {
    const std::string path = "pools." + p.name;
    MappingReader r(node, file_, path, d_);
    if (!r.valid()) return;
    r.require("endpoints");
    if (auto endpoints = r.text_list("endpoints")) {
      if (endpoints->empty())
        d_.error(r.where("endpoints"), path + ".endpoints: needs at least one host:port");
      std::set<std::string> seen;
      for (size_t i = 0; i < endpoints->size(); ++i) {
        const std::string& text = (*endpoints)[i];
        auto hp = parse_host_port(text);
        if (!hp || hp->host.empty() || hp->port == 0) {
          d_.error(r.element_location("endpoints", i),
                   fmt::format("{}.endpoints[{}]: '{}' is not host:port", path, i, text));
        } else if (!seen.insert(hp->text).second) {
          d_.error(r.element_location("endpoints", i),
                   fmt::format("{}.endpoints[{}]: '{}' is listed twice", path, i, text));
        } else {
          p.endpoints.push_back(*hp);
        }
      }
    }
    if (auto balance = r.choice("balance", kBalances)) {
      p.balance = *balance == "least_requests" ? Balance::kLeastRequests : Balance::kRoundRobin;
    }
    if (auto v = duration(r, "connect_timeout", 1)) p.connect_timeout_ms = *v;
    if (auto v = duration(r, "response_timeout", 1)) p.response_timeout_ms = *v;
    if (auto v = r.integer("max_idle", 0, 100'000)) p.max_idle_connections = static_cast<int>(*v);
    if (auto v = r.integer("retries", 0, 10)) p.retries = static_cast<int>(*v);
    if (const YamlNode* h = r.node("health"); h && !h->is_null()) {
      MappingReader hr(*h, file_, path + ".health", d_);
      HealthCheckConfig hc;
      if (auto v = hr.text("path")) {
        hc.path = *v;
        if (hc.path.empty() || hc.path.front() != '/') {
          d_.error(hr.where("path"), path + ".health.path: must start with '/'");
        }
      }
      if (auto v = duration(hr, "interval", 10)) hc.interval_ms = *v;
      if (auto v = duration(hr, "timeout", 1)) hc.timeout_ms = *v;
      if (auto v = hr.integer("healthy_threshold", 1, 100))
        hc.healthy_threshold = static_cast<int>(*v);
      if (auto v = hr.integer("unhealthy_threshold", 1, 100))
        hc.unhealthy_threshold = static_cast<int>(*v);
      hr.finish();
      p.health = hc;
    }
    if (const YamlNode* e = r.node("eject"); e && !e->is_null()) {
      MappingReader er(*e, file_, path + ".eject", d_);
      if (auto v = er.integer("consecutive_failures", 0, 1000)) {
        p.ejection.consecutive_failures = static_cast<int>(*v);
      }
      if (auto v = duration(er, "duration", 1)) p.ejection.duration_ms = *v;
      er.finish();
    }
    if (const YamlNode* b = r.node("breaker"); b && !b->is_null()) {
      p.breaker = read_breaker(*b, path + ".breaker");
    }
    r.finish();
  }

  // "50%" or 0.5: above 0, at most 1.
  std::optional<double> rate(MappingReader& r, std::string_view key) {
    auto text = r.text(key);
    if (!text) return std::nullopt;
    std::string_view t = *text;
    const bool percent = !t.empty() && t.back() == '%';
    if (percent) t.remove_suffix(1);
    auto value = parse_double(t);
    if (value && percent) *value /= 100;
    if (!value || *value <= 0 || *value > 1) {
      d_.error(r.where(key), fmt::format("{}: '{}' is not a rate above 0 and at most 1 "
                                         "(examples: 50%, 0.5, 12.5%)",
                                         r.field(key), *text));
      return std::nullopt;
    }
    return value;
  }

  BreakerConfig read_breaker(const YamlNode& node, const std::string& path) {
    BreakerConfig b;
    MappingReader r(node, file_, path, d_);
    if (!r.valid()) return b;
    // Per-second buckets: a shorter window would be one partial bucket.
    if (auto v = duration(r, "window", 1000)) b.window_ms = *v;
    if (auto v = r.integer("min_requests", 1, 1'000'000)) b.min_requests = static_cast<int>(*v);
    if (auto v = rate(r, "failure_rate")) b.failure_rate = *v;
    if (const YamlNode* s = r.node("slow"); s && !s->is_null()) {
      MappingReader sr(*s, file_, path + ".slow", d_);
      BreakerSlowConfig slow;
      sr.require("over");
      sr.require("rate");
      if (auto v = duration(sr, "over", 1)) slow.over_ms = *v;
      if (auto v = rate(sr, "rate")) slow.rate = *v;
      sr.finish();
      b.slow = slow;
    }
    if (auto v = duration(r, "open_for", 1)) b.open_for_ms = *v;
    if (auto v = r.integer("half_open_requests", 1, 10'000))
      b.half_open_requests = static_cast<int>(*v);
    if (auto v = r.text("fallback")) {
      b.fallback = *v;
      b.fallback_where = r.where("fallback");
    }
    r.finish();
    return b;
  }

  // Once every pool is known: a fallback names another pool, and following
  // fallbacks from any pool ends (a -> b -> a would send traffic in a circle
  // while both are open).
  void check_breaker_fallbacks(const ProxyConfig& c) {
    std::set<std::string> in_reported_cycle;
    for (const auto& p : c.pools) {
      if (!p.breaker || p.breaker->fallback.empty()) continue;
      const std::string field = "pools." + p.name + ".breaker.fallback";
      const std::string& to = p.breaker->fallback;
      if (to == p.name) {
        d_.error(p.breaker->fallback_where,
                 fmt::format("{}: '{}' is this pool itself; name another pool, or leave "
                             "fallback out to answer 503 while open",
                             field, to));
        continue;
      }
      if (!c.find_pool(to)) {
        check_pool(c, field, to, p.breaker->fallback_where);
        continue;
      }
      std::vector<std::string> chain{p.name};
      const PoolConfig* at = &p;
      while (at && at->breaker && !at->breaker->fallback.empty()) {
        const std::string& next = at->breaker->fallback;
        if (std::find(chain.begin(), chain.end(), next) != chain.end()) {
          chain.push_back(next);
          break;
        }
        chain.push_back(next);
        at = c.find_pool(next);
      }
      if (chain.back() != p.name || in_reported_cycle.count(p.name)) continue;
      for (const auto& name : chain) in_reported_cycle.insert(name);
      std::string path;
      for (const auto& name : chain) path += (path.empty() ? "" : " -> ") + name;
      d_.error(p.breaker->fallback_where,
               fmt::format("{}: the fallbacks form a cycle ({}); a fallback chain must end "
                           "at a pool without a fallback",
                           field, path));
    }
  }

  void read_routes(const YamlNode& node, SourceLocation where, ProxyConfig& c) {
    if (!node.is_sequence()) {
      d_.error(where, "routes: expected a list of routes (first match wins)");
      return;
    }
    std::set<std::string> names;
    for (size_t i = 0; i < node.size(); ++i) {
      RouteConfig route;
      route.where = location_of(node[i], file_);
      read_route(node[i], fmt::format("routes[{}]", i), c, route);
      if (!route.name.empty() && !names.insert(route.name).second) {
        d_.error(route.where,
                 fmt::format("routes[{}]: the name '{}' is used twice", i, route.name));
      }
      c.routes.push_back(std::move(route));
    }
  }

  // A pool reference: must name a configured pool.
  void check_pool(const ProxyConfig& c, const std::string& field, const std::string& name,
                  SourceLocation where) {
    if (c.find_pool(name)) return;
    std::vector<std::string> names;
    for (const auto& p : c.pools) names.push_back(p.name);
    d_.error(where,
             fmt::format("{}: no pool named '{}'{}", field, name, did_you_mean_hint(name, names)));
  }

  void read_route(const YamlNode& node, const std::string& path, const ProxyConfig& c,
                  RouteConfig& route) {
    MappingReader r(node, file_, path, d_);
    if (!r.valid()) return;
    r.require("name");
    if (auto name = r.text("name")) {
      route.name = *name;
      if (!is_config_name(route.name)) {
        d_.error(r.where("name"), fmt::format("{}.name: '{}' must be letters, digits, '_', '-' or "
                                              "'.' (it appears in admin URLs and metrics)",
                                              path, route.name));
      }
    }
    if (const YamlNode* m = r.node("match"); m && !m->is_null())
      read_match(*m, path + ".match", route.match);
    const bool has_to = r.has("to");
    const bool has_split = r.has("split");
    if (has_to == has_split) {
      d_.error(r.where(),
               fmt::format("{}: give exactly one of 'to' (one pool) or 'split' (weighted "
                           "pools)",
                           path));
    }
    if (auto to = r.text("to")) {
      route.single_target = true;
      route.split.push_back({*to, 100});
      check_pool(c, path + ".to", *to, r.where("to"));
    }
    if (const YamlNode* s = r.node("split"); s && !s->is_null())
      read_split(*s, path + ".split", c, route);
    if (const YamlNode* o = r.node("override"); o && !o->is_null()) {
      read_override(*o, path + ".override", c, route);
    }
    if (const YamlNode* s = r.node("sticky"); s && !s->is_null())
      read_sticky(*s, path + ".sticky", route);
    if (const YamlNode* ro = r.node("rollout"); ro && !ro->is_null())
      read_rollout(*ro, path + ".rollout", route);
    if (const YamlNode* m = r.node("mirror"); m && !m->is_null())
      read_mirror(*m, path + ".mirror", c, route);
    if (route.sticky && route.single_target && !route.mirror) {
      d_.warning(r.where("sticky"), path +
                                        ".sticky: a route with a single 'to' pool and no mirror "
                                        "has nothing to keep users on");
    }
    r.finish();
  }

  // `mirror:` (the parallel run): a pool other than the route's own, a
  // sample size, which requests, and what to compare.
  void read_mirror(const YamlNode& node, const std::string& path, const ProxyConfig& c,
                   RouteConfig& route) {
    MappingReader r(node, file_, path, d_);
    if (!r.valid()) return;
    MirrorConfig m;
    m.where = r.where();
    r.require("pool");
    if (auto pool = r.text("pool")) {
      m.pool = *pool;
      check_pool(c, path + ".pool", m.pool, r.where("pool"));
      if (route.single_target && !route.split.empty() && route.split[0].pool == m.pool) {
        d_.error(r.where("pool"),
                 fmt::format("{}.pool: '{}' is the pool the route sends to; a parallel run "
                             "compares it with another pool",
                             path, m.pool));
      }
    }
    if (auto text = r.text("percent")) {
      std::string_view t = *text;
      if (!t.empty() && t.back() == '%') t.remove_suffix(1);
      auto v = parse_double(t);
      if (!v || *v <= 0 || *v > 100) {
        d_.error(r.where("percent"),
                 fmt::format("{}.percent: '{}' is not a share above 0 and at most 100 "
                             "(examples: 100, 10%, 0.5)",
                             path, *text));
      } else {
        m.percent = *v;
      }
    }
    if (auto methods = r.text_list("methods")) {
      m.methods.clear();
      for (size_t i = 0; i < methods->size(); ++i) {
        const std::string& method = (*methods)[i];
        const bool upper = std::none_of(method.begin(), method.end(),
                                        [](char ch) { return ch >= 'a' && ch <= 'z'; });
        if (!is_token(method) || !upper) {
          d_.error(r.element_location("methods", i),
                   fmt::format("{}.methods[{}]: '{}' is not an HTTP method in upper case", path, i,
                               method));
        } else if (method != "GET" && method != "HEAD" && method != "OPTIONS") {
          d_.warning(r.element_location("methods", i),
                     fmt::format("{}.methods[{}]: {} requests change data; mirrored, they change "
                                 "it on pool '{}' as well (give it a store of its own)",
                                 path, i, method, m.pool));
        }
        m.methods.push_back(method);
      }
    }
    if (auto v = byte_size(r, "max_body", 0)) m.max_body_bytes = *v;
    if (auto v = duration(r, "timeout", 1)) m.timeout_ms = *v;
    if (auto v = r.integer("max_in_flight", 1, 1'000'000)) m.max_in_flight = *v;
    if (const YamlNode* cmp = r.node("compare"); cmp && !cmp->is_null())
      read_compare(*cmp, path + ".compare", c, m);
    if (auto redact = r.text_list("redact")) {
      for (auto& h : *redact) m.redact.push_back(to_lower(h));
    }
    check_noise_pool(path, route, m);
    r.finish();
    route.mirror = std::move(m);
  }

  // The noise instance is a second primary: a pool the route sends to, not
  // the mirror, and only ever asked what is safe to ask twice.
  void check_noise_pool(const std::string& path, const RouteConfig& route, const MirrorConfig& m) {
    if (m.noise_pool.empty()) return;
    const std::string field = path + ".compare.noise.pool";
    const bool routed = std::any_of(route.split.begin(), route.split.end(),
                                    [&](const WeightedPool& w) { return w.pool == m.noise_pool; });
    if (!routed || m.noise_pool == m.pool) {
      d_.error(
          m.noise_where,
          fmt::format("{}: '{}' is {}; the noise instance is a second primary, a pool the "
                      "route sends to",
                      field, m.noise_pool,
                      m.noise_pool == m.pool ? "the mirror pool" : "not a pool of this route"));
    }
    for (const auto& method : m.methods) {
      if (method != "GET" && method != "HEAD" && method != "OPTIONS") {
        d_.error(m.noise_where,
                 fmt::format("{}: with {} in methods, every sampled write would also reach pool "
                             "'{}' a second time; a noise pool goes with GET, HEAD and OPTIONS "
                             "only",
                             field, method, m.noise_pool));
        break;
      }
    }
  }

  void read_compare(const YamlNode& node, const std::string& path, const ProxyConfig& c,
                    MirrorConfig& m) {
    MappingReader r(node, file_, path, d_);
    if (!r.valid()) return;
    if (auto headers = r.text_list("headers")) {
      for (auto& h : *headers) m.compare.headers.push_back(to_lower(h));
    }
    if (auto ignore = r.text_list("ignore_json")) {
      for (size_t i = 0; i < ignore->size(); ++i) {
        auto pattern = parse_json_path((*ignore)[i]);
        if (!pattern) {
          d_.error(r.element_location("ignore_json", i),
                   fmt::format("{}.ignore_json[{}]: {}", path, i, pattern.error().message));
          continue;
        }
        m.compare.ignore.push_back(std::move(*pattern));
      }
    }
    if (const YamlNode* noise = r.node("noise"); noise && !noise->is_null()) {
      MappingReader nr(*noise, file_, path + ".noise", d_);
      nr.require("pool");
      if (auto pool = nr.text("pool")) {
        m.noise_pool = *pool;
        m.noise_where = nr.where("pool");
        check_pool(c, path + ".noise.pool", m.noise_pool, nr.where("pool"));
      }
      nr.finish();
    }
    r.finish();
  }

  // `rollout:` of a route with a split of two pools, `to` being one of them.
  void read_rollout(const YamlNode& node, const std::string& path, RouteConfig& route) {
    MappingReader r(node, file_, path, d_);
    if (!r.valid()) return;
    RolloutConfig ro;
    r.require("to");
    r.require("steps");
    if (auto to = r.text("to")) {
      ro.to = *to;
      const bool in_split = std::any_of(route.split.begin(), route.split.end(),
                                        [&](const WeightedPool& w) { return w.pool == ro.to; });
      if (route.single_target || route.split.size() != 2 || !in_split) {
        std::vector<std::string> names;
        for (const auto& w : route.split) names.push_back(w.pool);
        d_.error(r.where("to"),
                 fmt::format("{}.to: a rollout moves traffic between the two pools of the "
                             "route's split; '{}' must be one of them (the split has {}){}",
                             path, ro.to, route.split.size(), did_you_mean_hint(ro.to, names)));
      } else {
        ro.from = route.split[0].pool == ro.to ? route.split[1].pool : route.split[0].pool;
      }
    }
    if (const YamlNode* steps = r.node("steps"); steps && !steps->is_null()) {
      if (!steps->is_sequence() || steps->size() == 0) {
        d_.error(r.where("steps"),
                 path + ".steps: expected a list of { weight: PERCENT, pause: DURATION }");
      } else {
        for (size_t i = 0; i < steps->size(); ++i) {
          const std::string item = fmt::format("{}.steps[{}]", path, i);
          MappingReader sr((*steps)[i], file_, item, d_);
          if (!sr.valid()) continue;
          sr.require("weight");
          RolloutStepConfig step;
          if (auto w = sr.integer("weight", 1, 100)) step.weight = static_cast<int>(*w);
          if (auto p = duration(sr, "pause", 1)) step.pause_ms = *p;
          if (!ro.steps.empty() && step.weight != 0 && step.weight <= ro.steps.back().weight) {
            d_.error(sr.where("weight"),
                     fmt::format("{}.weight: {} is not above the previous step's {}; a rollout "
                                 "only moves forward (a rollback is the analysis's job)",
                                 item, step.weight, ro.steps.back().weight));
          }
          if (step.weight == 100 && step.pause_ms > 0) {
            d_.error(sr.where("pause"),
                     fmt::format("{}.pause: at weight 100 the old side gets no requests, so "
                                 "there is nothing to compare with; leave pause out",
                                 item));
          }
          sr.finish();
          ro.steps.push_back(step);
        }
      }
    }
    if (const YamlNode* a = r.node("analysis"); a && !a->is_null()) {
      MappingReader ar(*a, file_, path + ".analysis", d_);
      AnalysisConfig& an = ro.analysis;
      if (auto v = duration(ar, "interval", 100)) an.interval_ms = *v;
      if (auto v = percentage_points(ar, "max_error_rate_increase"))
        an.max_error_rate_increase = *v;
      if (auto v = ar.number("max_p99_ratio", 1, 1000)) an.max_p99_ratio = *v;
      if (auto v = ar.integer("min_requests", 1, 1'000'000'000))
        an.min_requests = static_cast<int>(*v);
      if (auto v = duration(ar, "inconclusive_for", 1)) an.inconclusive_for_ms = *v;
      ar.finish();
    }
    if (ro.analysis.inconclusive_for_ms < ro.analysis.interval_ms) {
      d_.error(r.where("analysis"),
               fmt::format("{}.analysis.inconclusive_for: {} ms is shorter than one interval "
                           "({} ms); no verdict could come in time",
                           path, ro.analysis.inconclusive_for_ms, ro.analysis.interval_ms));
    }
    r.finish();
    route.rollout = std::move(ro);
  }

  // 1.0 or "1%": percentage points, 0..100.
  std::optional<double> percentage_points(MappingReader& r, std::string_view key) {
    auto text = r.text(key);
    if (!text) return std::nullopt;
    std::string_view t = *text;
    if (!t.empty() && t.back() == '%') t.remove_suffix(1);
    auto value = parse_double(t);
    if (!value || *value < 0 || *value > 100) {
      d_.error(r.where(key), fmt::format("{}: '{}' is not percentage points from 0 to 100 "
                                         "(examples: 1.0, 0.5%, 2)",
                                         r.field(key), *text));
      return std::nullopt;
    }
    return value;
  }

  void read_match(const YamlNode& node, const std::string& path, RouteMatch& m) {
    MappingReader r(node, file_, path, d_);
    if (!r.valid()) return;
    if (auto hosts = r.text_list("host")) {
      for (auto& h : *hosts) m.hosts.push_back(to_lower(h));
    }
    auto need_slash = [&](std::string_view key, const std::optional<std::string>& v) {
      if (v && (v->empty() || v->front() != '/')) {
        d_.error(r.where(key), fmt::format("{}.{}: '{}' must start with '/'", path, key, *v));
      }
    };
    m.path = r.text("path");
    need_slash("path", m.path);
    m.path_prefix = r.text("path_prefix");
    need_slash("path_prefix", m.path_prefix);
    m.path_regex = r.text("path_regex");
    if (m.path_regex) {
      RE2 re(*m.path_regex, RE2::Quiet);
      if (!re.ok()) {
        d_.error(r.where("path_regex"), fmt::format("{}.path_regex: '{}' is not a valid RE2 "
                                                    "expression: {}",
                                                    path, *m.path_regex, re.error()));
      }
    }
    if (auto methods = r.text_list("method")) {
      for (size_t i = 0; i < methods->size(); ++i) {
        if (!is_token((*methods)[i])) {
          d_.error(r.element_location("method", i),
                   fmt::format("{}.method: '{}' is not an HTTP method", path, (*methods)[i]));
        }
        m.methods.push_back((*methods)[i]);
      }
    }
    read_pairs(r, "header", path, m.headers);
    read_pairs(r, "cookie", path, m.cookies);
    read_pairs(r, "query", path, m.query);
    r.finish();
  }

  // `key: { name: value, ... }`.
  void read_pairs(MappingReader& r, std::string_view key, const std::string& path,
                  std::vector<NameValue>& out) {
    const YamlNode* node = r.node(key);
    if (!node || node->is_null()) return;
    if (!node->is_mapping()) {
      d_.error(r.where(key),
               fmt::format("{}.{}: expected a mapping of names to values", path, key));
      return;
    }
    for (size_t i = 0; i < node->size(); ++i) {
      const YamlNode& v = node->value(i);
      if (!v.is_scalar()) {
        d_.error(location_of(v, file_),
                 fmt::format("{}.{}.{}: expected a value", path, key, node->key(i).scalar()));
        continue;
      }
      out.push_back({node->key(i).scalar(), v.scalar()});
    }
  }

  void read_split(const YamlNode& node, const std::string& path, const ProxyConfig& c,
                  RouteConfig& route) {
    if (!node.is_sequence() || node.size() == 0) {
      d_.error(location_of(node, file_), path + ": expected a list of { pool: NAME, weight: N }");
      return;
    }
    int64_t total = 0;
    std::set<std::string> seen;
    for (size_t i = 0; i < node.size(); ++i) {
      const std::string item = fmt::format("{}[{}]", path, i);
      MappingReader r(node[i], file_, item, d_);
      if (!r.valid()) continue;
      r.require("pool");
      r.require("weight");
      WeightedPool wp;
      if (auto pool = r.text("pool")) {
        wp.pool = *pool;
        check_pool(c, item + ".pool", wp.pool, r.where("pool"));
        if (!seen.insert(wp.pool).second) {
          d_.error(r.where("pool"), fmt::format("{}.pool: '{}' is listed twice", item, wp.pool));
        }
      }
      if (auto weight = r.integer("weight", 0, 10'000)) {
        wp.weight = static_cast<int>(*weight);
        total += *weight;
      }
      r.finish();
      route.split.push_back(std::move(wp));
    }
    if (total == 0 && seen.size() == node.size()) {
      d_.error(location_of(node, file_), path +
                                             ": the weights add up to 0; at least one must be "
                                             "positive");
    }
  }

  void read_override(const YamlNode& node, const std::string& path, const ProxyConfig& c,
                     RouteConfig& route) {
    MappingReader r(node, file_, path, d_);
    if (!r.valid()) return;
    r.require("header");
    r.require("values");
    OverrideConfig o;
    if (auto h = r.text("header")) o.header = *h;
    read_pairs(r, "values", path, o.values);
    for (const auto& v : o.values)
      check_pool(c, path + ".values." + v.name, v.value, r.where("values"));
    r.finish();
    route.override_by = std::move(o);
  }

  void read_sticky(const YamlNode& node, const std::string& path, RouteConfig& route) {
    MappingReader r(node, file_, path, d_);
    if (!r.valid()) return;
    StickyConfig s;
    int sources = 0;
    if (auto v = r.text("header")) s.source = StickyConfig::Source::kHeader, s.name = *v, ++sources;
    if (auto v = r.text("cookie")) s.source = StickyConfig::Source::kCookie, s.name = *v, ++sources;
    if (auto v = r.text("query")) s.source = StickyConfig::Source::kQuery, s.name = *v, ++sources;
    if (auto v = r.boolean("client_ip"); v && *v)
      s.source = StickyConfig::Source::kClientIp, ++sources;
    if (sources != 1) {
      d_.error(r.where(), path +
                              ": give exactly one key: header: NAME, cookie: NAME, query: NAME "
                              "or client_ip: true");
    }
    if (auto v = r.text("fallback")) {
      s.fallback = *v;
      const bool known = s.fallback == "random" ||
                         std::any_of(route.split.begin(), route.split.end(),
                                     [&](const WeightedPool& w) { return w.pool == s.fallback; });
      if (!known) {
        d_.error(r.where("fallback"),
                 fmt::format("{}.fallback: '{}' is neither 'random' nor a pool "
                             "of this route's split",
                             path, s.fallback));
      }
    }
    s.salt = r.text("salt").value_or(route.name);
    r.finish();
    route.sticky = std::move(s);
  }

  // Without state_dir a restart forgets every rollout (pending again, with
  // the file's weights): say so once, at the first route with a rollout.
  void check_rollout_state(const ProxyConfig& c) {
    if (!c.state_dir.empty()) return;
    for (size_t i = 0; i < c.routes.size(); ++i) {
      if (!c.routes[i].rollout) continue;
      d_.warning(c.routes[i].where,
                 fmt::format("routes[{}].rollout: without state_dir the rollout's state (step, "
                             "weights, verdicts) does not survive a restart: it would be "
                             "pending again, with the file's weights; set state_dir: DIR",
                             i));
      return;
    }
  }

  // A route after one that matches every request can never be chosen.
  void check_unreachable_routes(const ProxyConfig& c) {
    for (size_t i = 0; i < c.routes.size(); ++i) {
      const RouteMatch& m = c.routes[i].match;
      const bool catch_all = m.hosts.empty() && !m.path && !m.path_regex && m.methods.empty() &&
                             m.headers.empty() && m.cookies.empty() && m.query.empty() &&
                             (!m.path_prefix || *m.path_prefix == "/");
      if (catch_all && i + 1 < c.routes.size()) {
        d_.warning(c.routes[i + 1].where,
                   fmt::format("routes[{}] ('{}') can never match: routes[{}] ('{}') before it "
                               "matches every request",
                               i + 1, c.routes[i + 1].name, i, c.routes[i].name));
        return;
      }
    }
  }

  const std::string& file_;
  const ProxySecrets& secrets_;
  Diagnostics& d_;
};

}  // namespace

std::optional<HostPort> parse_host_port(std::string_view text) {
  HostPort hp;
  hp.text = std::string(text);
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    hp.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    hp.host = std::string(text.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) return std::nullopt;  // IPv6 needs brackets
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value > 65535 || port.empty()) {
    return std::nullopt;
  }
  hp.port = static_cast<uint16_t>(value);
  for (char ch : hp.host) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-' && ch != ':' &&
        ch != '_') {
      return std::nullopt;
    }
  }
  return hp;
}

bool BreakerConfig::same_policy(const BreakerConfig& o) const {
  const bool same_slow =
      slow.has_value() == o.slow.has_value() &&
      (!slow || (slow->over_ms == o.slow->over_ms && slow->rate == o.slow->rate));
  return window_ms == o.window_ms && min_requests == o.min_requests &&
         failure_rate == o.failure_rate && same_slow && open_for_ms == o.open_for_ms &&
         half_open_requests == o.half_open_requests && fallback == o.fallback;
}

bool MirrorConfig::mirrors_method(std::string_view method) const {
  return std::find(methods.begin(), methods.end(), method) != methods.end();
}

bool MirrorConfig::same_comparison(const MirrorConfig& o) const {
  auto texts = [](const DiffPolicy& p) {
    std::vector<std::string> t;
    for (const auto& pattern : p.ignore) t.push_back(pattern.text);
    return t;
  };
  return pool == o.pool && compare.headers == o.compare.headers &&
         texts(compare) == texts(o.compare) && noise_pool == o.noise_pool && redact == o.redact;
}

int ProxyConfig::pool_index(std::string_view name) const {
  for (size_t i = 0; i < pools.size(); ++i) {
    if (pools[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

const PoolConfig* ProxyConfig::find_pool(std::string_view name) const {
  for (const auto& p : pools) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const RouteConfig* ProxyConfig::find_route(std::string_view name) const {
  for (const auto& r : routes) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

Result<ProxyConfig> parse_proxy_config(std::string_view text, const std::string& file,
                                       const ProxySecrets& secrets) {
  auto root = parse_yaml(text, file);
  if (!root) return tl::unexpected(root.error());
  ProxyConfig config;
  config.file = file;
  Diagnostics diags;
  ConfigReader(file, secrets, diags).read(*root, config);
  if (diags.has_errors()) return tl::unexpected(diags.to_error(file));
  for (const auto& d : diags.all()) config.warnings.push_back(d.to_string());
  return config;
}

Result<ProxyConfig> load_proxy_config(const std::string& path, const ProxySecrets& secrets) {
  auto text = with_context(read_text_file(path), path);
  if (!text) return tl::unexpected(text.error());
  return parse_proxy_config(*text, path, secrets);
}

}  // namespace ferry::proxy
